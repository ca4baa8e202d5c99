//! The upstream outbox and settings on SQLite: what waits for the province, read in the
//! order taken as the wire sends it, and taken off once the province has it.

use super::{Db, DbError};
use crate::upstream::{Outbox, Upstream};
use chrono::{DateTime, Utc};
use hailong_core::reason::Reason;
use hailong_core::wire::{WireMisuse, WireRating};
use rusqlite::{OptionalExtension, TransactionBehavior};

/// The outbox's entries after a place (`?1`), in order, each with what goes upward of it.
/// No `LIMIT ?`: SQLite plans with a limit's value, so it prepares such a statement again
/// each time a new one is bound, which cost as much as reading the rows. The reader stops
/// when it has enough.
///
/// A rating goes there by its row, read straight from the table (not through the id's index);
/// a rating kept without its counter (taken before ratings kept one) has its device's
/// (looked up only then: `coalesce` stops at its first value).
const OUTBOX_ENTRIES: &str =
    "SELECT o.seq, r.id, r.created_at, r.seq, r.scale, r.outcome, r.reasons,
         r.comment, r.dossier, r.procedure_code, r.procedure_name, r.field_code, r.field_name,
         r.officer, r.officer_id,
         coalesce(r.counter, (SELECT d.counter FROM devices d WHERE d.id = r.device_id)),
         coalesce(r.tablet_id, r.device_id), r.clock_skew, r.repeat_dossier, m.id, m.created_at
     FROM upstream_outbox o
     LEFT JOIN ratings r ON r.rowid = o.rating_row
     LEFT JOIN misuse m ON m.id = o.misuse_id
     WHERE o.seq > ?1 ORDER BY o.seq";

/// What the first pairing upward runs: every entry held goes into the outbox in the order
/// taken (ratings as the writer took them, then misuse presses), as on PostgreSQL.
const PUT_HELD_IN_OUTBOX: &str = "INSERT INTO upstream_outbox (rating_row)
     SELECT rowid FROM ratings ORDER BY received_at, device_id, receipt, id;
 INSERT INTO upstream_outbox (misuse_id)
     SELECT id FROM misuse ORDER BY received_at, id;";

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
            tx.execute_batch(PUT_HELD_IN_OUTBOX)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` entries waiting for the province after `after` in the outbox's
    /// order (0: from the first), and how many wait in all.
    pub fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, DbError> {
        // Entries leave from the front only: the span of seq is the count.
        // Statements cached: the forwarder reads a batch every few milliseconds.
        let waiting: i64 = self
            .conn
            .prepare_cached(
                // Each in a query of its own: SQLite reads a lone min() or max() from the
                // key's end, but both in one query scan the whole table.
                "SELECT coalesce((SELECT max(seq) FROM upstream_outbox)
                     - (SELECT min(seq) FROM upstream_outbox) + 1, 0)",
            )?
            .query_row([], |r| r.get(0))?;
        let last_sent: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = 'upstream_last_sent'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        let mut outbox = Outbox {
            waiting: u64::try_from(waiting).unwrap_or(0),
            last_sent: last_sent.and_then(|t| t.parse().ok()),
            ..Outbox::default()
        };
        let mut stmt = self.conn.prepare_cached(OUTBOX_ENTRIES)?;
        let mut rows = stmt.query([after])?;
        while outbox.entries() < limit && !outbox.full() {
            let Some(row) = rows.next()? else {
                break;
            };
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
    use crate::db::testing::{batch, kept_as_written, paired, province_at, rating_with};
    use rusqlite::StatementStatus;

    #[test]
    fn the_outbox_is_read_in_order_from_any_place_without_preparing_its_query_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        let items = (1..=5)
            .map(|n| rating_with(n, serde_json::json!({})))
            .collect();
        db.ingest(&[&batch(&tablet, items)], Utc::now()).unwrap();
        db.set_upstream(&province_at("https://hailong.tinh.example"))
            .unwrap();
        let seqs = |outbox: &Outbox| -> Vec<i64> { outbox.ratings.iter().map(|r| r.seq).collect() };
        let first = db.outbox(0, 2).unwrap();
        assert_eq!((seqs(&first), first.waiting), (vec![1, 2], 5));
        let next = db.outbox(first.through, 2).unwrap();
        assert_eq!(seqs(&next), [3, 4]);
        let last = db.outbox(next.through, 500).unwrap();
        assert_eq!((seqs(&last), last.through - first.through), (vec![5], 3));
        assert_eq!(db.outbox(0, 0).unwrap().entries(), 0);
        let statement = db.conn.prepare_cached(OUTBOX_ENTRIES).unwrap();
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }

    #[test]
    fn the_upgrade_keeps_the_outbox_in_its_order_naming_each_rating_by_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut db = Db::open_upto(&path, 18).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        for n in 1..=3 {
            kept_as_written(&db, &tablet, n, "satisfied", None);
        }
        // As schema 18 left it, paired upward: entries by id, in an order of their own; the
        // first already sent.
        db.conn
            .execute_batch(&format!(
                "INSERT INTO settings (key, value) VALUES ('upstream', '{{}}');
                 INSERT INTO upstream_outbox (rating_id)
                     SELECT id FROM ratings ORDER BY seq DESC;
                 DELETE FROM upstream_outbox WHERE seq = (SELECT min(seq) FROM upstream_outbox);
                 INSERT INTO misuse (id, device_id, created_at, local_date, received_at)
                     VALUES ('01936f6e-8b7a-7c41-9a57-100000000001', '{tablet}',
                         '2026-11-23T09:20:00+07:00', '2026-11-23', '2026-11-23T02:20:00Z');
                 INSERT INTO upstream_outbox (misuse_id)
                     VALUES ('01936f6e-8b7a-7c41-9a57-100000000001');"
            ))
            .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        let outbox = db.outbox(0, 10).unwrap();
        let seqs: Vec<i64> = outbox.ratings.iter().map(|r| r.seq).collect();
        assert_eq!(
            (seqs, outbox.misuse.len(), outbox.waiting),
            (vec![2, 1], 1, 3)
        );
        let counters: Vec<Option<&str>> = outbox
            .ratings
            .iter()
            .map(|r| r.counter.as_deref())
            .collect();
        assert_eq!(counters, [Some("Quầy 1"); 2], "the device's counter");
        assert_eq!(outbox.ratings[0].comment.as_deref(), Some("Chờ lâu"));
    }

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
