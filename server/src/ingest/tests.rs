//! The rules of a batch on a store in memory: no database, only what the rules decide.

use super::*;
use crate::db::testing::{batch, rating_with};
use serde_json::json;
use std::collections::BTreeSet;

/// A rating as the memory store holds it.
struct Held {
    fingerprint: String,
    dossier: Option<String>,
    rated: bool,
    taken: Taken,
}

/// Everything a store is asked to keep, kept in maps.
#[derive(Default)]
struct Memory {
    receipts: BTreeMap<String, u64>,
    ratings: BTreeMap<String, Held>,
    conflicts: Vec<String>,
    alerts: Vec<String>,
    daily: BTreeMap<(String, &'static str, bool, u8, bool), u64>,
    officers: BTreeMap<(String, bool), u64>,
    misuse: BTreeSet<String>,
    seen: BTreeMap<String, Seen>,
}

impl Ratings for Memory {
    type Error = std::convert::Infallible;

    fn receipts_given(&mut self, device: &str) -> Result<u64, Self::Error> {
        Ok(self.receipts.get(device).copied().unwrap_or(0))
    }
    fn dossier_rated(&mut self, dossier: &str) -> Result<bool, Self::Error> {
        Ok(self
            .ratings
            .values()
            .any(|h| h.rated && h.dossier.as_deref() == Some(dossier)))
    }
    fn insert(&mut self, _: &str, p: &Prepared, taken: Taken) -> Result<bool, Self::Error> {
        if self.ratings.contains_key(&p.rating.wire.id) {
            return Ok(false);
        }
        let held = Held {
            fingerprint: p.fingerprint.clone(),
            dossier: p.rating.wire.dossier_code.clone(),
            rated: p.rated(),
            taken,
        };
        self.ratings.insert(p.rating.wire.id.clone(), held);
        Ok(true)
    }
    fn held(&mut self, id: &str) -> Result<(String, Option<u64>), Self::Error> {
        let held = &self.ratings[id];
        Ok((held.fingerprint.clone(), Some(held.taken.receipt)))
    }
    fn log_conflict(&mut self, _: &str, p: &Prepared) -> Result<(), Self::Error> {
        self.conflicts.push(p.content.clone());
        Ok(())
    }
    fn queue_alert(&mut self, id: &str) -> Result<(), Self::Error> {
        self.alerts.push(id.to_owned());
        Ok(())
    }
    fn add_counts(&mut self, _: &str, counts: &Counts<'_>) -> Result<(), Self::Error> {
        for (&(day, outcome, repeat, scale, dossier), n) in &counts.daily {
            *self
                .daily
                .entry((day.to_owned(), outcome, repeat, scale, dossier))
                .or_default() += n;
        }
        for (&(dimension, _, _, key, _, _, repeat, _), n) in &counts.groups {
            if dimension == "officer" {
                *self.officers.entry((key.to_owned(), repeat)).or_default() += n;
            }
        }
        Ok(())
    }
    fn add_misuse(&mut self, _: &str, misuse: &[CheckedMisuse]) -> Result<(), Self::Error> {
        self.misuse.extend(misuse.iter().map(|m| m.id.clone()));
        Ok(())
    }
    fn device_seen(&mut self, device: &str, seen: Seen) -> Result<(), Self::Error> {
        self.receipts.insert(device.to_owned(), seen.receipts);
        self.seen.insert(device.to_owned(), seen);
        Ok(())
    }
}

/// 23 November 2026, 09:20 in Hà Nội: a few minutes after the test ratings were made.
fn now() -> DateTime<Utc> {
    "2026-11-23T02:20:00Z".parse().unwrap()
}

fn take(memory: &mut Memory, incoming: &Incoming) -> Stored {
    let Ok(stored) = store_batch(memory, incoming, now());
    stored
}

fn statuses(stored: &Stored) -> Vec<(Status, Option<u64>)> {
    stored
        .results
        .iter()
        .map(|r| (r.status, r.receipt))
        .collect()
}

#[test]
fn new_ratings_are_accepted_in_order_a_resend_is_a_duplicate_and_a_changed_one_a_conflict() {
    let mut memory = Memory::default();
    let first = batch("a", (1..=3).map(|n| rating_with(n, json!({}))).collect());
    let stored = take(&mut memory, &first);
    use Status::*;
    assert_eq!(
        statuses(&stored),
        [
            (Accepted, Some(1)),
            (Accepted, Some(2)),
            (Accepted, Some(3))
        ]
    );
    assert_eq!(memory.seen["a"].accepted, 3);

    let mut again = batch(
        "a",
        vec![
            rating_with(2, json!({})),
            rating_with(3, json!({"level": "very_satisfied"})),
        ],
    );
    again.items.insert(
        0,
        Ingested::Rejected {
            id: "not-an-id".into(),
            error: "bad_id".into(),
        },
    );
    let stored = take(&mut memory, &again);
    assert_eq!(
        statuses(&stored),
        [(Rejected, None), (Duplicate, Some(2)), (Conflict, Some(3))],
        "a resend keeps its receipt, a rejected rating gets none"
    );
    assert_eq!(stored.results[0].error.as_deref(), Some("bad_id"));
    assert_eq!(memory.conflicts.len(), 1, "the other version is kept aside");
    assert!(memory.conflicts[0].contains("very_satisfied"));
    assert_eq!(memory.seen["a"].accepted, 0, "nothing new");
    let total: u64 = memory.daily.values().sum();
    assert_eq!(total, 3, "counted once each");
}

#[test]
fn a_dossier_rated_before_anywhere_makes_a_repeat_which_raises_no_alert_and_counts_apart() {
    let mut memory = Memory::default();
    let negative = |n, dossier: &str| {
        rating_with(
            n,
            json!({"dossier_code": dossier, "level": "unsatisfied", "reasons": ["long_wait"],
                   "officer": "Lan"}),
        )
    };
    // Not rated first: that is no rating, so the next one of the dossier is not a repeat.
    let unrated = rating_with(
        1,
        json!({"dossier_code": "H56.22-261123-0001", "level": "not_rated"}),
    );
    take(&mut memory, &batch("a", vec![unrated]));
    let stored = take(
        &mut memory,
        &batch(
            "a",
            vec![
                negative(2, "H56.22-261123-0001"),
                // The same dossier again in the same batch, and then from another tablet.
                negative(3, "H56.22-261123-0001"),
            ],
        ),
    );
    assert!(stored.results.iter().all(|r| r.status == Status::Accepted));
    take(
        &mut memory,
        &batch("b", vec![negative(4, "H56.22-261123-0001")]),
    );
    let repeat = |n: u32| {
        memory.ratings[&format!("01936f6e-8b7a-7c41-9a57-{n:012}")]
            .taken
            .repeat
    };
    assert!(!repeat(1) && !repeat(2));
    assert!(repeat(3), "the same batch");
    assert!(repeat(4), "another tablet of the commune");
    assert_eq!(
        memory.alerts,
        ["01936f6e-8b7a-7c41-9a57-000000000002"],
        "one alert, for the first"
    );
    assert_eq!(memory.officers[&("Lan".to_owned(), false)], 1);
    assert_eq!(memory.officers[&("Lan".to_owned(), true)], 2);
    assert_eq!(memory.receipts["b"], 1, "each tablet numbers its own");
}

#[test]
fn a_tablet_clock_off_by_more_than_ten_minutes_or_a_time_ahead_of_the_server_is_doubtful() {
    let mut memory = Memory::default();
    let mut off = batch("a", vec![rating_with(1, json!({}))]);
    off.clock_skew = Some(-(SKEW_LIMIT_SECS + 1));
    take(&mut memory, &off);
    let mut close = batch(
        "a",
        vec![
            rating_with(2, json!({})),
            // Eleven minutes after the server's now.
            rating_with(3, json!({"created_at": "2026-11-23T09:31:00+07:00"})),
            // Nine minutes after it.
            rating_with(4, json!({"created_at": "2026-11-23T09:29:00+07:00"})),
        ],
    );
    close.clock_skew = Some(SKEW_LIMIT_SECS);
    take(&mut memory, &close);
    let skewed = |n: u32| {
        memory.ratings[&format!("01936f6e-8b7a-7c41-9a57-{n:012}")]
            .taken
            .skewed
    };
    assert!(skewed(1), "the tablet's clock");
    assert!(!skewed(2), "ten minutes is within");
    assert!(skewed(3), "ahead of the server");
    assert!(!skewed(4));
    assert_eq!(memory.seen["a"].clock_skew, Some(SKEW_LIMIT_SECS));
}

#[test]
fn a_server_behind_the_tablets_receipts_asks_once_for_the_rest_and_never_reuses_a_number() {
    let mut memory = Memory::default();
    take(&mut memory, &batch("a", vec![rating_with(1, json!({}))]));
    let mut restored = batch("a", vec![rating_with(2, json!({}))]);
    restored.acked_through = Some(7);
    restored.queued = Some(40);
    let stored = take(&mut memory, &restored);
    assert_eq!(stored.resend_after, Some(1));
    assert_eq!(statuses(&stored), [(Status::Accepted, Some(8))]);
    assert_eq!(memory.seen["a"].queued, Some(40));
    let mut next = batch("a", vec![]);
    next.acked_through = Some(8);
    assert_eq!(take(&mut memory, &next).resend_after, None, "asked once");
}
