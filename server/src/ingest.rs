//! The rules for taking in a batch, in one place: for each rating, accepted, duplicate,
//! conflict or rejected; whether it repeats a dossier already rated anywhere in the commune;
//! whether its time is doubtful (the tablet's clock, or a time ahead of the server's); its
//! receipt; whether it raises an alert; what it adds to the counts every figure is read from.
//!
//! A group of batches is taken in three steps: what the rules need to know of the store is
//! asked for all at once ([`wanted`], answered as [`Known`]); the rules decide without any I/O
//! ([`decide`]); and the store writes what they decided ([`Writes`]) in the same transaction.
//! So a backend that pays a round trip per statement (PostgreSQL) asks a few set-wide queries
//! and writes in bulk, SQLite probes its indexes row by row, and both follow the same rules,
//! which are tested here without a database.

use crate::secrets;
use chrono::{DateTime, Utc};
use hailong_core::batch::CheckedMisuse;
use hailong_core::rating::is_repeat;
use hailong_core::reason::Reason;
use hailong_core::wire::{AppVersion, CheckedRating, ItemResult, Order, Status};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The hasher of the maps a group is decided in: their keys are ids and counts' keys with long
/// shared prefixes (a device's id, a day), which ordered maps compare over and over (half the
/// deciding's time in `memcmp`) and SipHash hashes slowly.
type Fast = foldhash::fast::RandomState;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};

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
    /// Its reasons as they are stored (`Reason::join`).
    pub reasons: String,
}

impl Prepared {
    pub fn new(rating: CheckedRating) -> Prepared {
        let content = rating.fingerprint();
        Prepared {
            fingerprint: secrets::hash(&content),
            content,
            created_at: rating.created_at.to_rfc3339(),
            local_date: rating.created_at.date_naive().to_string(),
            reasons: Reason::join(&rating.reasons),
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
    /// The sending program's version (if it said).
    pub app_version: Option<AppVersion>,
    /// Its place in its tablet's pass (if it said): written in that order (`turns`).
    pub order: Option<Order>,
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
    pub app_version: Option<AppVersion>,
}

/// Daily counts: day, device, outcome, repeat, scale, with a dossier.
pub type DailyKey<'a> = (&'a str, &'a str, &'static str, bool, u8, bool);
/// Group counts: dimension (officer, field, procedure), day, device, has a key, key, label,
/// outcome, repeat, with a dossier.
pub type GroupKey<'a> = (
    &'static str,
    &'a str,
    &'a str,
    bool,
    &'a str,
    &'a str,
    &'static str,
    bool,
    bool,
);

/// What a group of batches adds to the counts the figures are read from: its accepted ratings,
/// per day and device, and per day, device and officer, field and procedure. Each key once, so a
/// backend can write them as one upsert.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts<'a> {
    pub daily: HashMap<DailyKey<'a>, u64, Fast>,
    pub groups: HashMap<GroupKey<'a>, u64, Fast>,
}

impl<'a> Counts<'a> {
    fn add(&mut self, device: &'a str, prepared: &'a Prepared, repeat: bool) {
        let rating = &prepared.rating;
        let w = &rating.wire;
        let day = prepared.local_date.as_str();
        let outcome = rating.outcome.code();
        let with_dossier = w.dossier_code.is_some();
        *self
            .daily
            .entry((
                day,
                device,
                outcome,
                repeat,
                rating.scale.number(),
                with_dossier,
            ))
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
                device,
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

/// What the rules must know of the store to decide a group: each named once.
#[derive(Default)]
pub struct Wanted<'a> {
    /// The batches' devices: the last receipt each was given.
    pub devices: BTreeSet<&'a str>,
    /// The ratings' ids, if wanted: whether each is held already, and as what.
    pub ids: HashSet<&'a str, Fast>,
    /// The group, whose tablets' dossiers are wanted too ([`Wanted::tablets_dossiers`]).
    batches: &'a [&'a Incoming],
}

/// What the store holds of what was [`Wanted`].
#[derive(Debug, Default)]
pub struct Known {
    /// The last receipt given to each device (a device missing here has had none).
    pub receipts: HashMap<String, u64, Fast>,
    /// Of the wanted dossiers of tablets, those with a rating with a level from any tablet
    /// of this server (a commune's ratings forwarded here do not count: the commune decided
    /// their repeats over its own tablets, and its dossiers are its own).
    pub rated_dossiers: HashSet<String, Fast>,
    /// Of the wanted ids, those held.
    pub held: HashMap<String, Held, Fast>,
    /// Of the batches' devices, the communes' servers: a rating they forward is a repeat
    /// exactly when the commune counted it so (`WireRating::repeat_dossier`), whatever order
    /// their batches land in.
    pub communes: HashSet<String, Fast>,
    /// This server forwards upward (it was paired with a province, or a national tier): what
    /// it takes goes in its upstream outbox too. Until it is paired, nothing does; pairing
    /// puts everything held there at once.
    pub forwarding: bool,
    /// The notifier's settings as kept, read in the same transaction: a negative rating's
    /// alert is queued only while they say alerts go somewhere.
    pub notify_settings: Option<String>,
}

/// A rating the store holds, as the rules compare a new one with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub fingerprint: String,
    /// Ratings taken before receipts existed have none.
    pub receipt: Option<u64>,
}

/// A rating to store.
pub struct NewRating<'a> {
    pub device: &'a str,
    pub prepared: &'a Prepared,
    pub taken: Taken,
}

/// Everything the rules decided to write for a group, for one transaction. No id is among
/// `ratings` twice, nor one the store holds.
#[derive(Default)]
pub struct Writes<'a> {
    pub ratings: Vec<NewRating<'a>>,
    /// Other versions of held ratings, kept whole for a person to look at: (device, version).
    pub conflicts: Vec<(&'a str, &'a Prepared)>,
    /// Negative ratings whose alert is queued in the same transaction.
    pub alerts: Vec<&'a str>,
    /// Dossiers a tablet of this server rated for the first time (each once): the repeat rule
    /// finds them rated from now on.
    pub rated_dossiers: Vec<&'a str>,
    pub counts: Counts<'a>,
    /// Misuse presses, by device; each id is kept once (a press sent again is ignored).
    pub misuse: Vec<(&'a str, &'a CheckedMisuse)>,
    /// What the group tells about each of its devices.
    pub seen: BTreeMap<&'a str, Seen>,
    /// The new ratings and misuse presses go in the upstream outbox, in the order taken.
    pub forward: bool,
    /// Negative ratings are alerted (their alert is queued in `alerts`).
    pub alert: bool,
}

impl<'a> Wanted<'a> {
    /// The dossiers of the ratings with a level in the batches of tablets, each once: whether
    /// one is rated already. Not those of communes' servers (`commune` tells which devices
    /// are, as the store knows once asked): a commune decided its own repeats. Gathered only
    /// when asked, so that a province taking communes' batches goes through none of them.
    pub fn tablets_dossiers(&self, commune: impl Fn(&str) -> bool) -> Vec<&'a str> {
        let mut seen = HashSet::<&str, Fast>::default();
        self.batches
            .iter()
            .filter(|batch| !commune(&batch.device_id))
            .flat_map(|batch| &batch.items)
            .filter_map(|item| match item {
                Ingested::Checked(prepared) if prepared.rated() => {
                    prepared.rating.wire.dossier_code.as_deref()
                }
                _ => None,
            })
            .filter(|dossier| seen.insert(dossier))
            .collect()
    }
}

/// What must be known of the store to decide `batches`: with the ratings' ids if `ids` (a
/// store that lets its unique index find the held ones need not ask).
pub fn wanted<'a>(batches: &'a [&'a Incoming], ids: bool) -> Wanted<'a> {
    let mut wanted = Wanted {
        batches,
        ..Wanted::default()
    };
    for batch in batches {
        wanted.devices.insert(batch.device_id.as_str());
        if !ids {
            continue;
        }
        for item in &batch.items {
            if let Ingested::Checked(prepared) = item {
                wanted.ids.insert(prepared.rating.wire.id.as_str());
            }
        }
    }
    wanted
}

/// Decides a group of batches, in order, at `now`, from what the store holds: one [`Stored`]
/// per batch, and what to write. Batches of one group see each other as batches taken in
/// turn would.
pub fn decide<'a>(
    batches: &[&'a Incoming],
    mut known: Known,
    now: DateTime<Utc>,
) -> (Vec<Stored>, Writes<'a>) {
    let mut writes = Writes {
        forward: known.forwarding,
        alert: crate::notify::settings::Settings::from_kept(known.notify_settings.as_deref())
            .is_ok_and(|s| s.alerting()),
        ..Writes::default()
    };
    let mut taken = TakenHere::default();
    let stored = batches
        .iter()
        .map(|batch| decide_batch(batch, &mut known, &mut taken, &mut writes, now))
        .collect();
    (stored, writes)
}

/// The ratings a group took so far, by id, with their fingerprint and receipt: a later batch
/// of the group that holds one of them again finds it as if it were stored. Borrowed from the
/// batches, not copied into [`Known::held`]: most ratings of a group are new.
type TakenHere<'a> = HashMap<&'a str, (&'a str, u64), Fast>;

fn decide_batch<'a>(
    batch: &'a Incoming,
    known: &mut Known,
    taken_here: &mut TakenHere<'a>,
    writes: &mut Writes<'a>,
    now: DateTime<Utc>,
) -> Stored {
    let device = batch.device_id.as_str();
    // Receipts go on from the last one given, or from past the highest the tablet holds: a
    // restored server never gives again a number the tablet already has for another rating.
    let given = known.receipts.get(device).copied().unwrap_or(0);
    let acked = batch.acked_through.unwrap_or(0);
    let resend_after = (acked > given).then_some(given);
    let mut receipt = given.max(acked);
    let skewed_tablet = batch.clock_skew.is_some_and(|s| s.abs() > SKEW_LIMIT_SECS);
    let mut results = Vec::with_capacity(batch.items.len());
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
        let held = match known.held.get(id) {
            Some(held) => Some((held.fingerprint.as_str(), held.receipt)),
            None => taken_here
                .get(id.as_str())
                .map(|&(fingerprint, receipt)| (fingerprint, Some(receipt))),
        };
        let (status, held) = match held {
            Some((fingerprint, receipt)) if fingerprint == prepared.fingerprint => {
                (Status::Duplicate, receipt)
            }
            Some((_, receipt)) => {
                writes.conflicts.push((device, prepared));
                tracing::warn!(%id, %device, "conflicting rating logged");
                (Status::Conflict, receipt)
            }
            None => {
                let dossier = rating.wire.dossier_code.as_deref();
                // A commune's server decided it already, over all its tablets.
                let commune = known.communes.contains(device);
                let Ok(repeat) = is_repeat(dossier, rating.outcome, |d| {
                    Ok::<_, Infallible>(if commune {
                        rating.wire.repeat_dossier
                    } else {
                        known.rated_dossiers.contains(d)
                    })
                });
                let dossier = dossier.filter(|_| prepared.rated() && !commune);
                let ahead = (rating.created_at.with_timezone(&Utc) - now).num_seconds();
                let taken = Taken {
                    receipt: receipt + 1,
                    repeat,
                    skewed: skewed_tablet || ahead > SKEW_LIMIT_SECS || rating.wire.doubtful_time,
                };
                receipt = taken.receipt;
                accepted += 1;
                if let Some(dossier) = dossier.filter(|_| !repeat) {
                    known.rated_dossiers.insert(dossier.to_owned());
                    writes.rated_dossiers.push(dossier);
                }
                taken_here.insert(id, (&prepared.fingerprint, taken.receipt));
                writes.counts.add(device, prepared, repeat);
                if writes.alert
                    && !repeat
                    && rating.outcome.level().is_some_and(|l| l.is_negative())
                {
                    writes.alerts.push(id);
                }
                writes.ratings.push(NewRating {
                    device,
                    prepared,
                    taken,
                });
                (Status::Accepted, Some(taken.receipt))
            }
        };
        results.push(ItemResult {
            id: id.clone(),
            status,
            error: None,
            receipt: held,
        });
    }
    writes
        .misuse
        .extend(batch.misuse.iter().map(|m| (device, m)));
    known.receipts.insert(device.to_owned(), receipt);
    let seen = writes.seen.entry(device).or_insert(Seen {
        accepted: 0,
        clock_skew: None,
        queued: None,
        receipts: receipt,
        app_version: None,
    });
    seen.accepted += accepted;
    seen.clock_skew = batch.clock_skew.or(seen.clock_skew);
    seen.queued = batch.queued.or(seen.queued);
    seen.app_version = batch.app_version.or(seen.app_version);
    seen.receipts = receipt;
    if let Some(after) = resend_after {
        tracing::warn!(
            %device,
            held_through = after,
            tablet_holds_through = acked,
            "this server holds fewer of the tablet's ratings than it was told (restored from a backup?): the tablet sends the rest again"
        );
    }
    Stored {
        results,
        resend_after,
    }
}

/// Whether a group's rating ids are looked up before it is written. A new rating's id is new
/// almost always (a tablet or commune sends a batch again only after losing an answer), and
/// the ratings' unique index checks each id anyway as the rows are written. So ids are not
/// looked up: a group that meets one held already fails on that index, is rolled back and is
/// taken again, looking them up; and so are the next groups for a while, since what is sent
/// again usually comes as several batches.
#[derive(Debug, Default)]
pub struct HeldIds {
    /// Groups still to look their ids up.
    pub(crate) asking: AtomicU32,
}

/// Groups that look their ids up after one met an id held already.
pub(crate) const ASK_AFTER_A_MISS: u32 = 16;

impl HeldIds {
    /// Whether the next group looks its ids up.
    pub fn ask(&self) -> bool {
        self.asking
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// A group met an id held already.
    pub fn missed(&self) {
        self.asking.store(ASK_AFTER_A_MISS, Ordering::Relaxed);
    }
}

/// A store the rules run over in one transaction, step by step: it answers what they want
/// to know, and writes what they decided. Nothing in it decides anything.
pub trait Ratings {
    type Error;
    fn look_up(&mut self, wanted: &Wanted<'_>) -> Result<Known, Self::Error>;
    fn write(&mut self, writes: &Writes<'_>) -> Result<(), Self::Error>;
}

/// Takes in a group of batches at `now` over a store that answers at once (SQLite, memory):
/// one [`Stored`] per batch. The caller commits before anyone is answered.
/// The held ids are looked up if `ask` (see [`HeldIds`]).
pub fn store<R: Ratings>(
    ratings: &mut R,
    batches: &[&Incoming],
    now: DateTime<Utc>,
    ask: bool,
) -> Result<Vec<Stored>, R::Error> {
    let known = ratings.look_up(&wanted(batches, ask))?;
    let (stored, writes) = decide(batches, known, now);
    ratings.write(&writes)?;
    Ok(stored)
}

#[cfg(test)]
mod tests;
