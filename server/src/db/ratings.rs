//! Taking in batches: every rating is accepted, found a duplicate, logged as a conflict, or was
//! already rejected; each batch in one transaction, committed before the answer is sent.

use super::{Db, DbError};
use crate::secrets;
use chrono::{DateTime, Utc};
use hailong_core::batch::CheckedMisuse;
use hailong_core::reason::Reason;
use hailong_core::wire::{CheckedRating, ItemResult, Status};
use rusqlite::{Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;

/// A tablet clock further than this from the server's makes its ratings' times doubtful; so
/// does a rating made later than the server's clock by more than this.
pub const SKEW_LIMIT_SECS: i64 = 10 * 60;

/// One rating of a batch as the API parsed it.
pub enum Ingested {
    Checked(Box<Prepared>),
    Rejected { id: String, error: String },
}

/// A checked rating with everything the insert needs worked out beforehand, on the request's
/// own thread: the database lock is held only for the SQL.
pub struct Prepared {
    rating: CheckedRating,
    /// The canonical content, kept in the conflict log if another version is already stored.
    content: String,
    fingerprint: String,
    created_at: String,
    local_date: String,
}

impl Prepared {
    pub fn new(rating: CheckedRating) -> Prepared {
        let content = rating.fingerprint();
        Prepared {
            fingerprint: secrets::hash(&content),
            content,
            created_at: rating.created_at.to_rfc3339(),
            local_date: rating.created_at.date_naive().to_string(),
            rating,
        }
    }
}

/// One tablet's batch, parsed and ready to store.
pub struct Incoming {
    pub device_id: String,
    pub items: Vec<Ingested>,
    pub misuse: Vec<CheckedMisuse>,
    /// Ratings still waiting on the tablet after this batch, as it says.
    pub queued: Option<u64>,
    /// The tablet's clock minus the server's, in seconds, when it sent this batch (if it said).
    pub clock_skew: Option<i64>,
    /// The highest receipt the tablet holds as given by this server (if it said).
    pub acked_through: Option<u64>,
}

/// What the server did with one batch.
#[derive(Debug)]
pub struct Stored {
    /// One result per rating, in order, each held one with its receipt.
    pub results: Vec<ItemResult>,
    /// The device's receipts this server holds, if the tablet said it holds higher ones: the
    /// server was restored from a backup, and the tablet sends those again.
    pub resend_after: Option<u64>,
}

impl Db {
    /// Stores batches from one or more tablets, with their misuse presses (each id once), in a
    /// single transaction; returns, for each batch, one result per rating, in order.
    pub fn ingest(
        &mut self,
        batches: &[&Incoming],
        now: DateTime<Utc>,
    ) -> Result<Vec<Stored>, DbError> {
        let received_at = now.to_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let results = batches
            .iter()
            .map(|batch| store_batch(&tx, batch, &received_at, now))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        if let Some(checkpointer) = &mut self.checkpointer {
            checkpointer.committed();
        }
        Ok(results)
    }
}

fn store_batch(
    tx: &Transaction<'_>,
    batch: &Incoming,
    received_at: &str,
    now: DateTime<Utc>,
) -> Result<Stored, DbError> {
    let device_id = &batch.device_id;
    // Receipts go on from the last one given, or from past the highest the tablet holds: a
    // restored server never gives again a number the tablet already has for another rating.
    let given: i64 = tx
        .prepare_cached("SELECT receipts FROM devices WHERE id = ?1")?
        .query_row([device_id], |r| r.get(0))?;
    let acked = batch
        .acked_through
        .and_then(|n| i64::try_from(n).ok())
        .unwrap_or(0);
    let resend_after = (acked > given).then(|| u64::try_from(given).unwrap_or(0));
    let mut receipt = given.max(acked);
    let mut results = Vec::with_capacity(batch.items.len());
    let mut counts = DailyCounts::default();
    let mut groups = GroupCounts::default();
    let mut accepted = 0i64;
    let skewed_tablet = batch.clock_skew.is_some_and(|s| s.abs() > SKEW_LIMIT_SECS);
    let mut existing =
        tx.prepare_cached("SELECT fingerprint, receipt FROM ratings WHERE id = ?1")?;
    let mut rated_dossier = tx.prepare_cached(
        "SELECT 1 FROM ratings WHERE dossier = ?1 AND outcome <> 'not_rated' LIMIT 1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq, scale,
             outcome, reasons, comment, dossier, procedure_code, procedure_name, field_code,
             field_name, officer, officer_id, counter, repeat_dossier, clock_skew, fingerprint,
             receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21, ?22)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut conflict = tx.prepare_cached(
        "INSERT INTO conflicts (rating_id, device_id, received_at, content) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // A negative rating taken now is queued for the alert in the same transaction: an alert
    // is never lost between the commit and the notifier.
    let mut alert =
        tx.prepare_cached("INSERT INTO alert_queue (rating_id, queued_at) VALUES (?1, ?2)")?;
    for item in &batch.items {
        let prepared = match item {
            Ingested::Checked(prepared) => prepared,
            Ingested::Rejected { id, error } => {
                results.push(ItemResult {
                    id: id.clone(),
                    status: Status::Rejected,
                    error: Some(error.clone()),
                    receipt: None,
                });
                continue;
            }
        };
        let rating = &prepared.rating;
        let w = &rating.wire;
        // New ids are the common case: insert first, look the stored one up only when the id
        // was there already.
        let repeat = match (&w.dossier_code, rating.outcome.level()) {
            (Some(dossier), Some(_)) => rated_dossier.exists([dossier])?,
            _ => false,
        };
        let ahead = (rating.created_at.with_timezone(&Utc) - now).num_seconds();
        let next = receipt + 1;
        let inserted = insert.execute(params![
            w.id,
            device_id,
            received_at,
            prepared.created_at,
            prepared.local_date,
            w.seq,
            rating.scale.number(),
            rating.outcome.code(),
            Reason::join(&rating.reasons),
            w.comment,
            w.dossier_code,
            w.procedure_code,
            w.procedure_name,
            w.field_code,
            w.field_name,
            w.officer,
            w.officer_id,
            w.counter,
            repeat,
            skewed_tablet || ahead > SKEW_LIMIT_SECS,
            prepared.fingerprint,
            next,
        ])? == 1;
        let (status, held) = if inserted {
            accepted += 1;
            receipt = next;
            counts.add(prepared, repeat);
            groups.add(prepared, repeat);
            if !repeat && rating.outcome.level().is_some_and(|l| l.is_negative()) {
                alert.execute(params![w.id, received_at])?;
            }
            (Status::Accepted, Some(next))
        } else {
            let (stored, held): (String, Option<i64>) =
                existing.query_row([&w.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if stored == prepared.fingerprint {
                (Status::Duplicate, held)
            } else {
                conflict.execute(params![w.id, device_id, received_at, prepared.content])?;
                tracing::warn!(id = %w.id, device = %device_id, "conflicting rating logged");
                (Status::Conflict, held)
            }
        };
        results.push(ItemResult {
            id: w.id.clone(),
            status,
            error: None,
            receipt: held.and_then(|n| u64::try_from(n).ok()),
        });
    }
    counts.store(tx, device_id)?;
    groups.store(tx)?;
    if !batch.misuse.is_empty() {
        let mut press = tx.prepare_cached(
            "INSERT INTO misuse (id, device_id, created_at, local_date, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
        )?;
        for m in &batch.misuse {
            press.execute(params![
                m.id,
                device_id,
                m.at.to_rfc3339(),
                m.at.date_naive().to_string(),
                received_at
            ])?;
        }
    }
    tx.execute(
        "UPDATE devices SET last_seen = ?2, ratings_received = ratings_received + ?3,
             clock_skew_secs = coalesce(?4, clock_skew_secs), queued = coalesce(?5, queued),
             receipts = ?6
             WHERE id = ?1",
        params![
            device_id,
            received_at,
            accepted,
            batch.clock_skew,
            batch.queued,
            receipt
        ],
    )?;
    if let Some(after) = resend_after {
        tracing::warn!(
            device = %device_id,
            held_through = after,
            tablet_holds_through = acked,
            "this server holds fewer of the tablet's ratings than it was told (restored from a backup?): the tablet sends the rest again"
        );
    }
    Ok(Stored {
        results,
        resend_after,
    })
}

/// What one batch adds to `daily_counts`: its inserted ratings, counted per day, outcome,
/// repeat flag, scale and whether a dossier was linked; stored with one upsert per key.
#[derive(Default)]
struct DailyCounts<'a>(BTreeMap<(&'a str, &'static str, bool, u8, bool), i64>);

impl<'a> DailyCounts<'a> {
    fn add(&mut self, prepared: &'a Prepared, repeat: bool) {
        let rating = &prepared.rating;
        let key = (
            prepared.local_date.as_str(),
            rating.outcome.code(),
            repeat,
            rating.scale.number(),
            rating.wire.dossier_code.is_some(),
        );
        *self.0.entry(key).or_default() += 1;
    }

    fn store(&self, tx: &Transaction<'_>, device_id: &str) -> rusqlite::Result<()> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO daily_counts
                 (local_date, device_id, outcome, repeat_dossier, scale, with_dossier, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((date, outcome, repeat, scale, with_dossier), n) in &self.0 {
            upsert.execute(params![
                date,
                device_id,
                outcome,
                repeat,
                scale,
                with_dossier,
                n
            ])?;
        }
        Ok(())
    }
}

/// What one batch adds to `group_counts`: its inserted ratings, counted per officer, field
/// and procedure, day, outcome, repeat flag and whether a dossier was linked.
#[derive(Default)]
struct GroupCounts<'a>(BTreeMap<GroupKey<'a>, i64>);

/// Dimension, day, has a key, key, label, outcome, repeat, with a dossier.
type GroupKey<'a> = (
    &'static str,
    &'a str,
    bool,
    &'a str,
    &'a str,
    &'static str,
    bool,
    bool,
);

impl<'a> GroupCounts<'a> {
    fn add(&mut self, prepared: &'a Prepared, repeat: bool) {
        let rating = &prepared.rating;
        let w = &rating.wire;
        let by = [
            ("officer", w.officer.as_deref(), w.officer.as_deref()),
            ("field", w.field_name.as_deref(), w.field_name.as_deref()),
            (
                "procedure",
                w.procedure_code.as_deref(),
                w.procedure_name.as_deref(),
            ),
        ];
        for (dimension, key, label) in by {
            let group = (
                dimension,
                prepared.local_date.as_str(),
                key.is_some(),
                key.unwrap_or(""),
                label.unwrap_or(""),
                rating.outcome.code(),
                repeat,
                w.dossier_code.is_some(),
            );
            *self.0.entry(group).or_default() += 1;
        }
    }

    fn store(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO group_counts (dimension, local_date, has_key, key, label, outcome,
                 repeat_dossier, with_dossier, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((dimension, date, has_key, key, label, outcome, repeat, with_dossier), n) in &self.0 {
            upsert.execute(params![
                dimension,
                date,
                has_key,
                key,
                label,
                outcome,
                repeat,
                with_dossier,
                n
            ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating_with};
    use serde_json::json;

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
        let stored = db.ingest(&[&again], Utc::now()).unwrap().remove(0);
        assert_eq!(stored.results[0].status, Status::Duplicate);
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
}
