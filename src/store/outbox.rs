//! The outbox to the commune server: finished ratings the server does not have yet, oldest
//! first; and what the server answered for each.

use super::ratings::{RATING_COLUMNS, damaged_part, rating_from_row};
use super::{Store, StoreError, meta};
use chrono::{DateTime, FixedOffset};
use hailong_core::rating::Rating;
use hailong_core::wire::WireMisuse;
use rusqlite::{TransactionBehavior, params};

/// How the outbox stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Finished ratings waiting to be sent.
    pub queued: u64,
    /// Ratings the server refused: kept here, shown to the administrator, not resent.
    pub rejected: u64,
}

/// A rating the server refused, kept on the tablet for the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRating {
    pub id: String,
    pub recorded_at: Option<DateTime<FixedOffset>>,
    pub outcome: String,
    pub dossier: Option<String>,
    /// The server's reject code (`hailong_core::wire` codes).
    pub error: String,
}

/// A rating waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
// Nearly every one is `Ready`: boxing it would allocate once per rating for the rare other.
#[allow(clippy::large_enum_variant)]
pub enum Outgoing {
    Ready(Rating),
    /// Its row does not read as a rating (changed outside the app, or by another version):
    /// kept, and refused here with the reason the server would give.
    Damaged {
        id: String,
        seq: i64,
        part: DamagedPart,
    },
}

impl Outgoing {
    /// Its place in the outbox: the next read goes on after the last one sent.
    pub fn seq(&self) -> i64 {
        match self {
            Outgoing::Ready(rating) => rating.seq,
            Outgoing::Damaged { seq, .. } => *seq,
        }
    }
}

/// Which part of a damaged rating does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamagedPart {
    Time,
    Outcome,
    Reasons,
    /// A value of the wrong type.
    Other,
}

/// Ratings a restored server no longer has: those it gave a receipt above `after`, up to
/// `through` (the highest the tablet told it of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resend {
    pub after: u64,
    pub through: u64,
}

/// What the server answered for a rating sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// The server holds it (taken now, or already: a duplicate or a conflict), with its receipt
    /// (none from a server that took it before receipts existed).
    Held { receipt: Option<u64> },
    /// The server refused it, with its reject code (`hailong_core::wire` codes): kept here for
    /// the administrator, not resent.
    Refused { code: &'a str },
}

const ACKED_THROUGH: &str = "acked_through";

/// A receipt as SQLite keeps it (a server never gives one past `i64::MAX`).
fn receipt_value(receipt: u64) -> i64 {
    i64::try_from(receipt).unwrap_or(i64::MAX)
}

/// The outbox's ratings after a place (`?1`), in order.
fn outbox_after() -> String {
    format!(
        "SELECT {RATING_COLUMNS} FROM outbox CROSS JOIN ratings USING (seq)
         WHERE seq > ?1 ORDER BY seq"
    )
}

impl Store {
    /// Up to `limit` finished ratings not yet sent that come after `after` in the outbox
    /// (0: from its front), oldest first, whole (`sync` puts them in the wire form). Reading
    /// on from the last one taken lets the next batch be read while this one is in flight. A
    /// rating damaged on the tablet comes as such, so that it holds up none of the others.
    pub fn outbox(&self, after: i64, limit: usize) -> Result<Vec<Outgoing>, StoreError> {
        // CROSS JOIN: walk the outbox in order, looking each rating up by its key. No
        // `LIMIT ?`: SQLite plans with a limit's value, so it would prepare the statement
        // again for every batch; the walk stops when it has enough.
        let mut stmt = self.conn.prepare_cached(&outbox_after())?;
        let mut rows = stmt.query([after])?;
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(row) = rows.next()? else {
                break;
            };
            out.push(match rating_from_row(row) {
                Ok(rating) => Outgoing::Ready(rating),
                Err(e) => match damaged_part(&e) {
                    Some(part) => Outgoing::Damaged {
                        id: row.get(0)?,
                        seq: row.get(1)?,
                        part,
                    },
                    None => return Err(e.into()),
                },
            });
        }
        Ok(out)
    }

    /// Records what the server answered for the ratings sent (by their `seq`), in one
    /// transaction: each leaves the outbox, as held (with its receipt) or refused (with the
    /// reason, not resent). One no longer in the outbox (marked already) is left as it is.
    /// With `resend`, first puts back in the outbox the ratings a restored server no longer
    /// has.
    pub fn record_sync<'a>(
        &mut self,
        answers: impl IntoIterator<Item = (i64, Delivery<'a>)>,
        resend: Option<Resend>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let before = acked_through(&tx)?;
        let mut highest = before;
        if let Some(Resend { after, through }) = resend {
            let range = params![receipt_value(after), receipt_value(through)];
            let requeued = tx.execute(
                "INSERT INTO outbox (seq)
                 SELECT seq FROM sent WHERE receipt > ?1 AND receipt <= ?2",
                range,
            )?;
            tx.execute(
                "DELETE FROM sent WHERE receipt > ?1 AND receipt <= ?2",
                range,
            )?;
            highest = tx
                .query_row("SELECT max(receipt) FROM sent", [], |r| {
                    r.get::<_, Option<i64>>(0)
                })?
                .and_then(|n| u64::try_from(n).ok());
            tracing::warn!(
                after,
                through,
                requeued,
                "the server no longer has ratings it took: sending them again"
            );
        }
        {
            let mut leave = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            let mut held = tx.prepare_cached("INSERT INTO sent (seq, receipt) VALUES (?1, ?2)")?;
            let mut refused =
                tx.prepare_cached("INSERT INTO rejected (seq, error) VALUES (?1, ?2)")?;
            for (seq, delivery) in answers {
                if leave.execute([seq])? == 0 {
                    continue;
                }
                match delivery {
                    Delivery::Held { receipt } => {
                        held.execute(params![seq, receipt.map(receipt_value)])?;
                        highest = highest.max(receipt);
                    }
                    Delivery::Refused { code } => {
                        refused.execute(params![seq, code])?;
                    }
                }
            }
        }
        if highest != before {
            let value = highest.map(|n| n.to_string());
            meta::write(&tx, ACKED_THROUGH, value.as_deref())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The highest receipt of the ratings the server has said it holds (none before the first).
    pub fn acked_through(&self) -> Result<Option<u64>, StoreError> {
        acked_through(&self.conn)
    }

    /// Up to `limit` misuse presses the server does not have yet, oldest first.
    pub fn misuse_outbox(&self, limit: usize) -> Result<Vec<WireMisuse>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recorded_at FROM misuse WHERE sent = 0 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(WireMisuse {
                id: r.get(0)?,
                created_at: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks misuse presses the server answered for as sent.
    pub fn record_misuse_sent(&mut self, sent: &[WireMisuse]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut mark = tx.prepare_cached("UPDATE misuse SET sent = 1 WHERE id = ?1")?;
            for press in sent {
                mark.execute([&press.id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Counted from the outbox's and the refused ratings' own narrow tables.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
        };
        Ok(OutboxCounts {
            queued: count("SELECT count(*) FROM outbox")?,
            rejected: count("SELECT count(*) FROM rejected")?,
        })
    }

    /// The latest ratings the server refused, newest first, with its reason.
    pub fn rejected(&self, limit: usize) -> Result<Vec<RejectedRating>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recorded_at, outcome, dossier, error
             FROM rejected CROSS JOIN ratings USING (seq) ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            let recorded_at: String = r.get(1)?;
            Ok(RejectedRating {
                id: r.get(0)?,
                recorded_at: DateTime::parse_from_rfc3339(&recorded_at).ok(),
                outcome: r.get(2)?,
                dossier: r.get(3)?,
                error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The highest receipt kept in `meta` (an unreadable one counts as none: the server then
/// checks nothing and the next answer sets it again).
fn acked_through(conn: &rusqlite::Connection) -> Result<Option<u64>, StoreError> {
    Ok(meta::read(conn, ACKED_THROUGH)?.and_then(|v| v.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewRating;
    use hailong_core::level::{Level, Scale};
    use hailong_core::rating::Outcome;
    use rusqlite::StatementStatus;

    #[test]
    fn reading_the_outbox_batch_after_batch_prepares_its_query_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("tablet.db")).unwrap();
        for minute in 0..5 {
            let at = format!("2026-11-23T09:0{minute}:00+07:00");
            store
                .record(&NewRating {
                    at: DateTime::parse_from_rfc3339(&at).unwrap(),
                    scale: Scale::Three,
                    outcome: Outcome::Rated(Level::Satisfied),
                    dossier: None,
                    procedure: None,
                    officer: None,
                    counter: "Quầy 1",
                    finished: true,
                })
                .unwrap();
        }
        let seqs = |out: Vec<Outgoing>| -> Vec<i64> {
            out.iter()
                .map(|o| match o {
                    Outgoing::Ready(rating) => rating.seq,
                    damaged => panic!("{damaged:?}"),
                })
                .collect()
        };
        let first = seqs(store.outbox(0, 2).unwrap());
        assert_eq!(first.len(), 2);
        let next = seqs(store.outbox(first[1], 2).unwrap());
        let last = seqs(store.outbox(next[1], 200).unwrap());
        assert_eq!([first, next, last].concat(), [1, 2, 3, 4, 5]);
        assert!(store.outbox(0, 0).unwrap().is_empty());
        let statement = store.conn.prepare_cached(&outbox_after()).unwrap();
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }
}
