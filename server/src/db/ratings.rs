//! Taking in batches on SQLite: the rules of `ingest` over one transaction of the writing
//! connection, several tablets' batches committed together before any is answered.

use super::{Db, DbError};
use crate::ingest::{self, Held, Incoming, Known, Ratings, Stored, Wanted, Writes};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

impl Db {
    /// Stores batches from one or more tablets, with their misuse presses (each id once), in a
    /// single transaction; returns, for each batch, one result per rating, in order.
    pub fn ingest(
        &mut self,
        batches: &[&Incoming],
        now: DateTime<Utc>,
    ) -> Result<Vec<Stored>, DbError> {
        let ask = self.held_ids.ask();
        match self.ingest_once(batches, now, ask) {
            Err(e) if !ask && e.is_unique_violation() => {
                // An id of the group is held already: taken again, asking which.
                self.held_ids.missed();
                self.ingest_once(batches, now, true)
            }
            stored => stored,
        }
    }

    /// One try at storing a group in one transaction, looking up its held ids or not (`ask`).
    fn ingest_once(
        &mut self,
        batches: &[&Incoming],
        now: DateTime<Utc>,
        ask: bool,
    ) -> Result<Vec<Stored>, DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ratings = SqliteRatings {
            tx: &tx,
            received_at: now.to_rfc3339(),
        };
        let results = ingest::store(&mut ratings, batches, now, ask)?;
        tx.commit()?;
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.committed();
        }
        Ok(results)
    }
}

/// The ratings as one write transaction sees them; statements cached on the connection, each
/// a probe of an index (SQLite answers in microseconds, so one row at a time costs nothing).
struct SqliteRatings<'t> {
    tx: &'t Transaction<'t>,
    received_at: String,
}

/// A receipt as SQLite keeps it (a signed 64-bit integer).
fn stored_receipt(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Ratings for SqliteRatings<'_> {
    type Error = DbError;

    fn look_up(&mut self, wanted: &Wanted<'_>) -> Result<Known, DbError> {
        let mut known = Known::default();
        let mut device = self
            .tx
            .prepare_cached("SELECT receipts, unit_code IS NOT NULL FROM devices WHERE id = ?1")?;
        for &id in &wanted.devices {
            let (given, commune): (i64, bool) = device
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| DbError::NoSuchDevice(id.to_owned()))?;
            known
                .receipts
                .insert(id.to_owned(), u64::try_from(given).unwrap_or(0));
            if commune {
                known.communes.insert(id.to_owned());
            }
        }
        let mut settings = self.tx.prepare_cached(
            "SELECT key, value FROM settings WHERE key IN ('upstream', 'notify')",
        )?;
        let mut rows = settings.query([])?;
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            match key.as_str() {
                "upstream" => known.forwarding = true,
                _ => known.notify_settings = Some(row.get(1)?),
            }
        }
        // Rated by a tablet of this server, not in a commune's ratings forwarded here.
        let mut dossier = self
            .tx
            .prepare_cached("SELECT 1 FROM rated_dossiers WHERE dossier = ?1")?;
        let communes = &known.communes;
        for code in wanted.tablets_dossiers(|device| communes.contains(device)) {
            if dossier.exists([code])? {
                known.rated_dossiers.insert(code.to_owned());
            }
        }
        let mut held = self
            .tx
            .prepare_cached("SELECT fingerprint, receipt FROM ratings WHERE id = ?1")?;
        for &id in &wanted.ids {
            let found = held
                .query_row([id], |r| {
                    Ok(Held {
                        fingerprint: r.get(0)?,
                        receipt: r
                            .get::<_, Option<i64>>(1)?
                            .and_then(|n| u64::try_from(n).ok()),
                    })
                })
                .optional()?;
            if let Some(found) = found {
                known.held.insert(id.to_owned(), found);
            }
        }
        Ok(known)
    }

    fn write(&mut self, writes: &Writes<'_>) -> Result<(), DbError> {
        let tx = self.tx;
        let received_at = self.received_at.as_str();
        let mut insert = tx.prepare_cached(
            "INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq,
                 scale, outcome, reasons, comment, dossier, procedure_code, procedure_name,
                 field_code, field_name, officer, officer_id, counter, repeat_dossier,
                 clock_skew, fingerprint, receipt, tablet_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
        )?;
        let mut outbox =
            tx.prepare_cached("INSERT INTO upstream_outbox (rating_row) VALUES (?1)")?;
        for new in &writes.ratings {
            let (prepared, taken) = (new.prepared, new.taken);
            let rating = &prepared.rating;
            let w = &rating.wire;
            insert.execute(params![
                w.id,
                new.device,
                received_at,
                prepared.created_at,
                prepared.local_date,
                w.seq,
                rating.scale.number(),
                rating.outcome.code(),
                prepared.reasons,
                w.comment,
                w.dossier_code,
                w.procedure_code,
                w.procedure_name,
                w.field_code,
                w.field_name,
                w.officer,
                w.officer_id,
                w.counter,
                taken.repeat,
                taken.skewed,
                prepared.fingerprint,
                stored_receipt(taken.receipt),
                w.tablet,
            ])?;
            if writes.forward {
                outbox.execute([tx.last_insert_rowid()])?;
            }
        }
        let mut rated = tx.prepare_cached(
            "INSERT INTO rated_dossiers (dossier) VALUES (?1) ON CONFLICT DO NOTHING",
        )?;
        for dossier in &writes.rated_dossiers {
            rated.execute([dossier])?;
        }
        let mut conflict = tx.prepare_cached(
            "INSERT INTO conflicts (rating_id, device_id, received_at, content)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (device, prepared) in &writes.conflicts {
            conflict.execute(params![
                prepared.rating.wire.id,
                device,
                received_at,
                prepared.content
            ])?;
        }
        let mut alert =
            tx.prepare_cached("INSERT INTO alert_queue (rating_id, queued_at) VALUES (?1, ?2)")?;
        for id in &writes.alerts {
            alert.execute(params![id, received_at])?;
        }
        let mut daily = tx.prepare_cached(
            "INSERT INTO daily_counts
                 (local_date, device_id, outcome, repeat_dossier, scale, with_dossier, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((date, device, outcome, repeat, scale, with_dossier), n) in &writes.counts.daily {
            daily.execute(params![
                date,
                device,
                outcome,
                repeat,
                scale,
                with_dossier,
                n
            ])?;
        }
        let mut groups = tx.prepare_cached(
            "INSERT INTO group_counts (dimension, local_date, device_id, has_key, key, label,
                 outcome, repeat_dossier, with_dossier, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((dimension, date, device, has_key, key, label, outcome, repeat, with_dossier), n) in
            &writes.counts.groups
        {
            groups.execute(params![
                dimension,
                date,
                device,
                has_key,
                key,
                label,
                outcome,
                repeat,
                with_dossier,
                n
            ])?;
        }
        let mut press = tx.prepare_cached(
            "INSERT INTO misuse (id, device_id, created_at, local_date, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        )?;
        let mut press_out =
            tx.prepare_cached("INSERT INTO upstream_outbox (misuse_id) VALUES (?1)")?;
        for (device, m) in &writes.misuse {
            let new = press.execute(params![
                m.id,
                device,
                m.at.to_rfc3339(),
                m.at.date_naive().to_string(),
                received_at
            ])?;
            if new == 1 && writes.forward {
                press_out.execute([&m.id])?;
            }
        }
        let mut seen = tx.prepare_cached(
            "UPDATE devices SET last_seen = ?2, ratings_received = ratings_received + ?3,
                 clock_skew_secs = coalesce(?4, clock_skew_secs),
                 queued = coalesce(?5, queued), receipts = ?6,
                 app_version = coalesce(?7, app_version)
             WHERE id = ?1",
        )?;
        for (device, s) in &writes.seen {
            seen.execute(params![
                device,
                received_at,
                s.accepted,
                s.clock_skew,
                s.queued,
                stored_receipt(s.receipts),
                s.app_version.as_ref().map(|v| v.as_str())
            ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, kept_as_written, paired, rating_with};
    use crate::ingest::Ingested;
    use hailong_core::wire::Status;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    fn receipts(stored: &Stored) -> Vec<Option<u64>> {
        stored.results.iter().map(|r| r.receipt).collect()
    }

    #[test]
    fn receipts_follow_the_order_taken_and_a_restored_server_asks_for_what_it_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let one = paired(&mut db, "Quầy 1");
        let two = paired(&mut db, "Quầy 2");
        let first = batch(&one, (1..=3).map(|n| rating_with(n, json!({}))).collect());
        let other = batch(&two, vec![rating_with(9, json!({}))]);
        let stored = db.ingest(&[&first, &other], Utc::now()).unwrap();
        assert_eq!(receipts(&stored[0]), [Some(1), Some(2), Some(3)]);
        assert_eq!(
            receipts(&stored[1]),
            [Some(1)],
            "each device counts its own"
        );
        assert_eq!(stored[0].resend_after, None);

        // A resend is answered with the receipt it was given; a rejected rating gets none.
        let mut again = batch(&one, vec![rating_with(2, json!({}))]);
        again.items.push(Ingested::Rejected {
            id: "x".into(),
            error: "bad_id".into(),
        });
        again.acked_through = Some(3);
        assert_eq!(db.held_ids.asking.load(Ordering::Relaxed), 0);
        let stored = db.ingest(&[&again], Utc::now()).unwrap().remove(0);
        assert_eq!(stored.results[0].status, Status::Duplicate);
        // Written without looking its ids up, it met the held one in the ratings' index and
        // was taken again looking them up; so will the next groups.
        assert_eq!(
            db.held_ids.asking.load(Ordering::Relaxed),
            crate::ingest::ASK_AFTER_A_MISS
        );
        assert_eq!(receipts(&stored), [Some(2), None]);
        assert_eq!(
            stored.resend_after, None,
            "the tablet holds nothing more than this"
        );

        // The tablet holds receipts up to 7: this server (restored) gave only 3. It says so,
        // and new ratings get numbers past 7, never one the tablet has for another rating.
        let mut after_restore = batch(&one, vec![rating_with(20, json!({}))]);
        after_restore.acked_through = Some(7);
        let stored = db.ingest(&[&after_restore], Utc::now()).unwrap().remove(0);
        assert_eq!(stored.resend_after, Some(3));
        assert_eq!(receipts(&stored), [Some(8)]);
        let mut next = batch(&one, vec![]);
        next.acked_through = Some(8);
        let stored = db.ingest(&[&next], Utc::now()).unwrap().remove(0);
        assert_eq!(stored.resend_after, None, "asked once");
    }

    #[test]
    fn the_upgrade_to_a_rowid_table_keeps_every_rating_whole_and_each_id_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        // As schema 16 left it: the ratings keyed by id alone (WITHOUT ROWID).
        let mut db = Db::open_upto(&path, 16).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        for n in 1..=3 {
            let dossier = format!("000.17.22.H56-261123-000{n}");
            kept_as_written(&db, &tablet, n, "unsatisfied", Some(&dossier));
        }
        let all = "SELECT * FROM ratings ORDER BY id";
        let rows = |db: &Db| -> Vec<Vec<rusqlite::types::Value>> {
            let mut statement = db.conn.prepare(all).unwrap();
            let columns = statement.column_count();
            statement
                .query_map([], |row| (0..columns).map(|i| row.get(i)).collect())
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = rows(&db);
        assert_eq!(before.len(), 3);
        assert!(db.conn.prepare("SELECT rowid FROM ratings").is_err());
        drop(db);

        let db = Db::open_upto(&path, 17).unwrap();
        assert_eq!(rows(&db), before, "every column of every rating kept");
        let rowids: Vec<i64> = db
            .conn
            .prepare("SELECT rowid FROM ratings ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rowids, [1, 2, 3]);
        let mut indexes: Vec<String> = db
            .conn
            .prepare("SELECT name FROM pragma_index_list('ratings') WHERE origin <> 'pk'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        indexes.sort();
        assert_eq!(
            indexes,
            [
                "ratings_by_date",
                "ratings_negatives",
                "ratings_rated_dossier"
            ]
        );
        let again = db.conn.execute(
            "INSERT INTO ratings SELECT * FROM ratings WHERE id = ?1",
            [before[0][0].clone()],
        );
        assert!(again.is_err(), "an id is kept once");
    }

    #[test]
    fn the_upgrade_keeps_the_dossiers_the_servers_own_tablets_rated_and_no_communes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut db = Db::open_upto(&path, 17).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        let code = db
            .new_pairing_code(
                "Xã Tân Phú",
                Some("000.17.22.H56"),
                std::time::Duration::from_secs(3600),
                Utc::now(),
            )
            .unwrap();
        let commune = db.pair(&code, "Xã Tân Phú", Utc::now()).unwrap().unwrap().0;
        let [rated, unrated, communes] =
            ["0001", "0002", "0003"].map(|n| format!("000.17.22.H56-261123-{n}"));
        kept_as_written(&db, &tablet, 1, "satisfied", Some(&rated));
        kept_as_written(&db, &tablet, 2, "satisfied", Some(&rated));
        kept_as_written(&db, &tablet, 3, "not_rated", Some(&unrated));
        kept_as_written(&db, &tablet, 4, "satisfied", None);
        kept_as_written(&db, &commune, 5, "unsatisfied", Some(&communes));
        drop(db);

        let mut db = Db::open(&path).unwrap();
        let kept: Vec<String> = db
            .conn
            .prepare("SELECT dossier FROM rated_dossiers")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept, [rated.as_str()]);
        let index = db
            .conn
            .prepare("SELECT 1 FROM sqlite_schema WHERE name = 'ratings_rated_dossier'")
            .unwrap()
            .exists([])
            .unwrap();
        assert!(!index, "the index over every rating's dossier is gone");
        // The repeat rule reads the table: a tablet rating the kept dossier again repeats it;
        // the dossier rated only in a commune's rating, and the one left unrated, are new.
        let items = [(6, &rated), (7, &communes), (8, &unrated)]
            .map(|(n, d)| rating_with(n, json!({ "dossier_code": d })));
        db.ingest(&[&batch(&tablet, items.into())], Utc::now())
            .unwrap();
        let repeats: Vec<(i64, bool)> = db
            .conn
            .prepare("SELECT seq, repeat_dossier FROM ratings WHERE seq >= 6 ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(repeats, [(6, true), (7, false), (8, false)]);
    }
}
