//! The upstream outbox and settings on SQLite: what waits for the province, read in the
//! order taken as the wire sends it, and taken off once the province has it.

use super::{Db, DbError};
use crate::upstream::{Outbox, Upstream};
use chrono::{DateTime, Utc};
use hailong_core::reason::Reason;
use hailong_core::wire::{WireMisuse, WireRating};
use rusqlite::{OptionalExtension, TransactionBehavior};

impl Db {
    /// The province this server forwards to, if it was paired upward.
    pub fn upstream(&self) -> Result<Option<Upstream>, DbError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'upstream'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Keeps the link upward. The first one puts every entry held in the outbox, in the order
    /// taken (until then nothing goes there), in the same transaction: the writer reads the
    /// link inside each of its own, so each entry is put there once, by one or the other.
    pub fn set_upstream(&mut self, upstream: &Upstream) -> Result<(), DbError> {
        let json = serde_json::to_string(upstream).unwrap_or_default();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let paired_before = tx
            .prepare("SELECT 1 FROM settings WHERE key = 'upstream'")?
            .exists([])?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('upstream', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json],
        )?;
        if !paired_before {
            tx.execute_batch(crate::upstream::PUT_HELD_IN_OUTBOX)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` entries waiting for the province after `after` in the outbox's
    /// order (0: from the first), and how many wait in all.
    pub fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, DbError> {
        // Entries leave from the front only: the span of seq is the count.
        let waiting: i64 = self.conn.query_row(
            // Each in a query of its own: SQLite reads a lone min() or max() from the
            // key's end, but both in one query scan the whole table.
            "SELECT coalesce((SELECT max(seq) FROM upstream_outbox)
                 - (SELECT min(seq) FROM upstream_outbox) + 1, 0)",
            [],
            |r| r.get(0),
        )?;
        let last_sent: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'upstream_last_sent'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let mut outbox = Outbox {
            waiting: u64::try_from(waiting).unwrap_or(0),
            last_sent: last_sent.and_then(|t| t.parse().ok()),
            ..Outbox::default()
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.seq, r.id, r.created_at, r.seq, r.scale, r.outcome, r.reasons, r.comment,
                 r.dossier, r.procedure_code, r.procedure_name, r.field_code, r.field_name,
                 r.officer, r.officer_id, coalesce(r.counter, d.counter),
                 coalesce(r.tablet_id, r.device_id), r.clock_skew, r.repeat_dossier, m.id,
                 m.created_at
             FROM upstream_outbox o
             LEFT JOIN ratings r ON r.id = o.rating_id
             LEFT JOIN devices d ON d.id = r.device_id
             LEFT JOIN misuse m ON m.id = o.misuse_id
             WHERE o.seq > ?1 ORDER BY o.seq LIMIT ?2",
        )?;
        let mut rows = stmt.query([after, i64::try_from(limit).unwrap_or(i64::MAX)])?;
        while let Some(row) = rows.next()? {
            if outbox.full() {
                break;
            }
            outbox.through = row.get(0)?;
            if let Some(id) = row.get::<_, Option<String>>(1)? {
                let reasons: String = row.get(6)?;
                outbox.add_rating(WireRating {
                    id,
                    created_at: row.get(2)?,
                    seq: row.get(3)?,
                    scale: row.get(4)?,
                    level: row.get(5)?,
                    reasons: Reason::split(&reasons)
                        .unwrap_or_default()
                        .iter()
                        .map(|r| r.code().to_owned())
                        .collect(),
                    comment: row.get(7)?,
                    dossier_code: row.get(8)?,
                    procedure_code: row.get(9)?,
                    procedure_name: row.get(10)?,
                    field_code: row.get(11)?,
                    field_name: row.get(12)?,
                    officer: row.get(13)?,
                    officer_id: row.get(14)?,
                    counter: row.get(15)?,
                    tablet: row.get(16)?,
                    doubtful_time: row.get(17)?,
                    repeat_dossier: row.get(18)?,
                });
            } else if let Some(id) = row.get::<_, Option<String>>(19)? {
                outbox.add_misuse(WireMisuse {
                    id,
                    created_at: row.get(20)?,
                });
            }
        }
        Ok(outbox)
    }

    /// The province has every entry through `through` (it said so at `at`): they leave the
    /// outbox, and `at` is kept as the last time one was sent.
    pub fn forwarded(&mut self, through: i64, at: DateTime<Utc>) -> Result<(), DbError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM upstream_outbox WHERE seq <= ?1", [through])?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('upstream_last_sent', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [at.to_rfc3339()],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_empties_an_outbox_kept_for_nobody_and_keeps_one_kept_for_a_province() {
        for paired in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("server.db");
            let db = Db::open_upto(&path, 15).unwrap();
            if paired {
                db.conn
                    .execute(
                        "INSERT INTO settings (key, value) VALUES ('upstream', '{}')",
                        [],
                    )
                    .unwrap();
            }
            // As schema 15 left it: every entry taken, in the outbox.
            db.conn
                .execute_batch(
                    "INSERT INTO upstream_outbox (rating_id) VALUES ('a'), ('b');
                     INSERT INTO upstream_outbox (misuse_id) VALUES ('c');",
                )
                .unwrap();
            drop(db);
            let db = Db::open(&path).unwrap();
            let waiting = db.outbox(0, 0).unwrap().waiting;
            assert_eq!(waiting, if paired { 3 } else { 0 }, "paired: {paired}");
        }
    }
}
