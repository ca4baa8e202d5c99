//! Taking in batches: every rating is accepted, found a duplicate, logged as a conflict, or was
//! already rejected; each batch in one transaction, committed before the answer is sent.

use super::{Db, DbError};
use crate::secrets;
use chrono::{DateTime, FixedOffset, Utc};
use hailong_core::reason::Reason;
use hailong_core::wire::{CheckedRating, ItemResult, Status};
use rusqlite::{Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;

/// A tablet clock further than this from the server's makes its ratings' times doubtful; so
/// does a rating made later than the server's clock by more than this.
pub const SKEW_LIMIT_SECS: i64 = 10 * 60;

/// A misuse press as the API parsed it.
pub struct Misuse {
    pub id: String,
    pub at: DateTime<FixedOffset>,
}

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
    pub misuse: Vec<Misuse>,
    /// Ratings still waiting on the tablet after this batch, as it says.
    pub queued: Option<u64>,
    /// The tablet's clock minus the server's, in seconds, when it sent this batch (if it said).
    pub clock_skew: Option<i64>,
}

impl Db {
    /// Stores batches from one or more tablets, with their misuse presses (each id once), in a
    /// single transaction; returns, for each batch, one result per rating, in order.
    pub fn ingest(
        &mut self,
        batches: &[&Incoming],
        now: DateTime<Utc>,
    ) -> Result<Vec<Vec<ItemResult>>, DbError> {
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
) -> Result<Vec<ItemResult>, DbError> {
    let device_id = &batch.device_id;
    let mut results = Vec::with_capacity(batch.items.len());
    let mut counts = DailyCounts::default();
    let mut accepted = 0i64;
    let skewed_tablet = batch.clock_skew.is_some_and(|s| s.abs() > SKEW_LIMIT_SECS);
    let mut existing = tx.prepare_cached("SELECT fingerprint FROM ratings WHERE id = ?1")?;
    let mut rated_dossier = tx.prepare_cached(
        "SELECT 1 FROM ratings WHERE dossier = ?1 AND outcome <> 'not_rated' LIMIT 1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq, scale,
             outcome, reasons, comment, dossier, procedure_code, procedure_name, field_code,
             field_name, officer, officer_id, counter, repeat_dossier, clock_skew, fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut conflict = tx.prepare_cached(
        "INSERT INTO conflicts (rating_id, device_id, received_at, content) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for item in &batch.items {
        let prepared = match item {
            Ingested::Checked(prepared) => prepared,
            Ingested::Rejected { id, error } => {
                results.push(ItemResult {
                    id: id.clone(),
                    status: Status::Rejected,
                    error: Some(error.clone()),
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
        ])? == 1;
        let status = if inserted {
            accepted += 1;
            counts.add(prepared, repeat);
            Status::Accepted
        } else {
            let stored: String = existing.query_row([&w.id], |r| r.get(0))?;
            if stored == prepared.fingerprint {
                Status::Duplicate
            } else {
                conflict.execute(params![w.id, device_id, received_at, prepared.content])?;
                tracing::warn!(id = %w.id, device = %device_id, "conflicting rating logged");
                Status::Conflict
            }
        };
        results.push(ItemResult {
            id: w.id.clone(),
            status,
            error: None,
        });
    }
    counts.store(tx, device_id)?;
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
             clock_skew_secs = coalesce(?4, clock_skew_secs), queued = coalesce(?5, queued)
             WHERE id = ?1",
        params![
            device_id,
            received_at,
            accepted,
            batch.clock_skew,
            batch.queued
        ],
    )?;
    Ok(results)
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
