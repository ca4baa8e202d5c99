//! The rules for taking in a batch, in one place: for each rating, accepted, duplicate,
//! conflict or rejected; whether it repeats a dossier already rated anywhere in the commune;
//! whether its time is doubtful (the tablet's clock, or a time ahead of the server's); its
//! receipt; whether it raises an alert; what it adds to the counts every figure is read from.
//! They run over [`Ratings`], one transaction's view of what a server holds, so that every
//! storage backend follows the same rules, and they are tested here without a database.

use crate::secrets;
use chrono::{DateTime, Utc};
use hailong_core::batch::CheckedMisuse;
use hailong_core::wire::{CheckedRating, ItemResult, Status};
use std::collections::BTreeMap;

/// A tablet clock further than this from the server's makes its ratings' times doubtful; so
/// does a rating made later than the server's clock by more than this.
pub const SKEW_LIMIT_SECS: i64 = 10 * 60;

/// One rating of a batch as the API parsed it.
pub enum Ingested {
    Checked(Box<Prepared>),
    Rejected { id: String, error: String },
}

/// A checked rating with everything storing it needs worked out beforehand, on the request's
/// own thread: the database is held only for the writes.
pub struct Prepared {
    pub rating: CheckedRating,
    /// The canonical content, kept in the conflict log if another version is already stored.
    pub content: String,
    pub fingerprint: String,
    pub created_at: String,
    /// The day it was made, on the tablet's clock and in its offset.
    pub local_date: String,
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

    /// Whether it is a rating with a level (not a dossier left unrated).
    fn rated(&self) -> bool {
        self.rating.outcome.level().is_some()
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

/// How a new rating is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// The receipt it is given: the device's next number.
    pub receipt: u64,
    /// Its dossier was already rated (by any tablet of the commune): kept, not counted in the
    /// satisfaction rate.
    pub repeat: bool,
    /// Its time is doubtful.
    pub skewed: bool,
}

/// What a batch tells about its device, stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Ratings newly accepted.
    pub accepted: u64,
    pub clock_skew: Option<i64>,
    pub queued: Option<u64>,
    /// The last receipt given, after this batch.
    pub receipts: u64,
}

/// Daily counts: day, outcome, repeat, scale, with a dossier.
pub type DailyKey<'a> = (&'a str, &'static str, bool, u8, bool);
/// Group counts: dimension (officer, field, procedure), day, has a key, key, label, outcome,
/// repeat, with a dossier.
pub type GroupKey<'a> = (
    &'static str,
    &'a str,
    bool,
    &'a str,
    &'a str,
    &'static str,
    bool,
    bool,
);

/// What a batch adds to the counts the figures are read from: its accepted ratings, per day
/// and per officer, field and procedure.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts<'a> {
    pub daily: BTreeMap<DailyKey<'a>, u64>,
    pub groups: BTreeMap<GroupKey<'a>, u64>,
}

impl<'a> Counts<'a> {
    fn add(&mut self, prepared: &'a Prepared, repeat: bool) {
        let rating = &prepared.rating;
        let w = &rating.wire;
        let day = prepared.local_date.as_str();
        let outcome = rating.outcome.code();
        let with_dossier = w.dossier_code.is_some();
        *self
            .daily
            .entry((day, outcome, repeat, rating.scale.number(), with_dossier))
            .or_default() += 1;
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
                day,
                key.is_some(),
                key.unwrap_or(""),
                label.unwrap_or(""),
                outcome,
                repeat,
                with_dossier,
            );
            *self.groups.entry(group).or_default() += 1;
        }
    }
}

/// One transaction's view of the ratings a server holds: what the rules read and write. A
/// backend implements it over its own transaction; nothing in it decides anything.
pub trait Ratings {
    type Error;
    /// The last receipt given to `device` (0 before the first).
    fn receipts_given(&mut self, device: &str) -> Result<u64, Self::Error>;
    /// Whether a rating with a level is held for `dossier`, from any tablet.
    fn dossier_rated(&mut self, dossier: &str) -> Result<bool, Self::Error>;
    /// Stores a new rating; `false` (and nothing stored) if its id is already held.
    fn insert(
        &mut self,
        device: &str,
        rating: &Prepared,
        taken: Taken,
    ) -> Result<bool, Self::Error>;
    /// The fingerprint and receipt of the held rating `id`.
    fn held(&mut self, id: &str) -> Result<(String, Option<u64>), Self::Error>;
    /// Keeps the other version of a held rating, for a person to look at.
    fn log_conflict(&mut self, device: &str, rating: &Prepared) -> Result<(), Self::Error>;
    /// Queues the alert of a negative rating, in the same transaction.
    fn queue_alert(&mut self, id: &str) -> Result<(), Self::Error>;
    fn add_counts(&mut self, device: &str, counts: &Counts<'_>) -> Result<(), Self::Error>;
    /// Keeps misuse presses, each id once.
    fn add_misuse(&mut self, device: &str, misuse: &[CheckedMisuse]) -> Result<(), Self::Error>;
    fn device_seen(&mut self, device: &str, seen: Seen) -> Result<(), Self::Error>;
}

/// Takes in one tablet's batch at `now`; the caller commits (with other batches, maybe)
/// before anyone is answered.
pub fn store_batch<R: Ratings>(
    ratings: &mut R,
    batch: &Incoming,
    now: DateTime<Utc>,
) -> Result<Stored, R::Error> {
    let device = batch.device_id.as_str();
    // Receipts go on from the last one given, or from past the highest the tablet holds: a
    // restored server never gives again a number the tablet already has for another rating.
    let given = ratings.receipts_given(device)?;
    let acked = batch.acked_through.unwrap_or(0);
    let resend_after = (acked > given).then_some(given);
    let mut receipt = given.max(acked);
    let skewed_tablet = batch.clock_skew.is_some_and(|s| s.abs() > SKEW_LIMIT_SECS);
    let mut results = Vec::with_capacity(batch.items.len());
    let mut counts = Counts::default();
    let mut accepted = 0;
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
        let id = &rating.wire.id;
        let repeat = match &rating.wire.dossier_code {
            Some(dossier) if prepared.rated() => ratings.dossier_rated(dossier)?,
            _ => false,
        };
        let ahead = (rating.created_at.with_timezone(&Utc) - now).num_seconds();
        let taken = Taken {
            receipt: receipt + 1,
            repeat,
            skewed: skewed_tablet || ahead > SKEW_LIMIT_SECS,
        };
        // New ids are the common case: insert first, look the held one up only when the id
        // was there already.
        let (status, held) = if ratings.insert(device, prepared, taken)? {
            accepted += 1;
            receipt = taken.receipt;
            counts.add(prepared, repeat);
            if !repeat && rating.outcome.level().is_some_and(|l| l.is_negative()) {
                ratings.queue_alert(id)?;
            }
            (Status::Accepted, Some(taken.receipt))
        } else {
            let (fingerprint, held) = ratings.held(id)?;
            if fingerprint == prepared.fingerprint {
                (Status::Duplicate, held)
            } else {
                ratings.log_conflict(device, prepared)?;
                tracing::warn!(%id, %device, "conflicting rating logged");
                (Status::Conflict, held)
            }
        };
        results.push(ItemResult {
            id: id.clone(),
            status,
            error: None,
            receipt: held,
        });
    }
    ratings.add_counts(device, &counts)?;
    if !batch.misuse.is_empty() {
        ratings.add_misuse(device, &batch.misuse)?;
    }
    ratings.device_seen(
        device,
        Seen {
            accepted,
            clock_skew: batch.clock_skew,
            queued: batch.queued,
            receipts: receipt,
        },
    )?;
    if let Some(after) = resend_after {
        tracing::warn!(
            %device,
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

#[cfg(test)]
mod tests;
