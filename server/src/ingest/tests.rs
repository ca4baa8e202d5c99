//! The rules of a batch on a store in memory: no database, only what the rules decide.

use super::*;
use crate::db::testing::{ALERTING, batch, rating_with};
use serde_json::json;
use std::collections::BTreeSet;

/// A rating as the memory store holds it.
struct Kept {
    device: String,
    fingerprint: String,
    dossier: Option<String>,
    rated: bool,
    taken: Taken,
}

/// Everything a store is asked to keep, kept in maps.
#[derive(Default)]
struct Memory {
    receipts: BTreeMap<String, u64>,
    ratings: BTreeMap<String, Kept>,
    conflicts: Vec<String>,
    alerts: Vec<String>,
    daily: BTreeMap<(String, &'static str, bool, u8, bool), u64>,
    officers: BTreeMap<(String, bool), u64>,
    misuse: BTreeSet<String>,
    seen: BTreeMap<String, Seen>,
    /// The devices that are communes' servers.
    communes: BTreeSet<String>,
    /// Alerts are off (no notify settings kept).
    alerts_off: bool,
}

impl Ratings for Memory {
    type Error = std::convert::Infallible;

    fn look_up(&mut self, wanted: &Wanted<'_>) -> Result<Known, Self::Error> {
        let mut known = Known {
            notify_settings: (!self.alerts_off).then(|| ALERTING.to_owned()),
            ..Known::default()
        };
        for &device in &wanted.devices {
            if let Some(&n) = self.receipts.get(device) {
                known.receipts.insert(device.to_owned(), n);
            }
            if self.communes.contains(device) {
                known.communes.insert(device.to_owned());
            }
        }
        let asked: BTreeSet<&str> = wanted
            .tablets_dossiers(|device| self.communes.contains(device))
            .into_iter()
            .collect();
        let tablets = self.ratings.values().filter(|k| k.rated);
        for kept in tablets.filter(|k| !self.communes.contains(&k.device)) {
            if let Some(d) = kept.dossier.as_deref().filter(|d| asked.contains(d)) {
                known.rated_dossiers.insert(d.to_owned());
            }
        }
        for &id in &wanted.ids {
            if let Some(kept) = self.ratings.get(id) {
                let held = Held {
                    fingerprint: kept.fingerprint.clone(),
                    receipt: Some(kept.taken.receipt),
                };
                known.held.insert(id.to_owned(), held);
            }
        }
        Ok(known)
    }

    fn write(&mut self, writes: &Writes<'_>) -> Result<(), Self::Error> {
        for new in &writes.ratings {
            let p = new.prepared;
            let kept = Kept {
                device: new.device.to_owned(),
                fingerprint: p.fingerprint.clone(),
                dossier: p.rating.wire.dossier_code.clone(),
                rated: p.rated(),
                taken: new.taken,
            };
            let before = self.ratings.insert(p.rating.wire.id.clone(), kept);
            assert!(before.is_none(), "a held id is never written again");
        }
        self.conflicts
            .extend(writes.conflicts.iter().map(|(_, p)| p.content.clone()));
        self.alerts
            .extend(writes.alerts.iter().map(|id| (*id).to_owned()));
        for (&(day, _, outcome, repeat, scale, dossier), n) in &writes.counts.daily {
            *self
                .daily
                .entry((day.to_owned(), outcome, repeat, scale, dossier))
                .or_default() += n;
        }
        for (&(dimension, _, _, _, key, _, _, repeat, _), n) in &writes.counts.groups {
            if dimension == "officer" {
                *self.officers.entry((key.to_owned(), repeat)).or_default() += n;
            }
        }
        self.misuse
            .extend(writes.misuse.iter().map(|(_, m)| m.id.clone()));
        for (&device, &seen) in &writes.seen {
            self.receipts.insert(device.to_owned(), seen.receipts);
            self.seen.insert(device.to_owned(), seen);
        }
        Ok(())
    }
}

/// 23 November 2026, 09:20 in Hà Nội: a few minutes after the test ratings were made.
fn now() -> DateTime<Utc> {
    "2026-11-23T02:20:00Z".parse().unwrap()
}

fn take(memory: &mut Memory, incoming: &Incoming) -> Stored {
    let Ok(mut stored) = store(memory, &[incoming], now(), true);
    stored.remove(0)
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
fn a_communes_repeats_are_its_own_in_whatever_order_its_batches_land_and_a_tablet_cannot_say() {
    let mut memory = Memory::default();
    memory.communes.insert("xa".to_owned());
    let rated = |n, extra: serde_json::Value| {
        let mut fields = json!({"dossier_code": "H56.22-261123-0001", "level": "unsatisfied",
                                "reasons": ["late"]});
        fields
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        rating_with(n, fields)
    };
    // The commune's second batch lands before its first (several are in flight at once).
    take(
        &mut memory,
        &batch("xa", vec![rated(2, json!({"repeat_dossier": true}))]),
    );
    take(&mut memory, &batch("xa", vec![rated(1, json!({}))]));
    let repeat = |memory: &Memory, n: u32| {
        memory.ratings[&format!("01936f6e-8b7a-7c41-9a57-{n:012}")]
            .taken
            .repeat
    };
    assert!(repeat(&memory, 2), "as the commune counted it");
    assert!(!repeat(&memory, 1), "the commune's first");
    assert_eq!(memory.alerts, ["01936f6e-8b7a-7c41-9a57-000000000001"]);
    // A tablet saying so changes nothing: the server's rule decides.
    let dossier = json!({"dossier_code": "H56.22-261123-0002"});
    take(
        &mut memory,
        &batch("a", vec![rating_with(3, dossier.clone())]),
    );
    let mut said = dossier.clone();
    said["repeat_dossier"] = json!(false);
    take(&mut memory, &batch("a", vec![rating_with(4, said)]));
    let mut said = json!({"dossier_code": "H56.22-261123-0003"});
    said["repeat_dossier"] = json!(true);
    take(&mut memory, &batch("a", vec![rating_with(5, said)]));
    assert!(!repeat(&memory, 3) && repeat(&memory, 4) && !repeat(&memory, 5));
    // The commune's dossiers are its own: a tablet of this server rating one repeats nothing.
    let communes = json!({"dossier_code": "H56.22-261123-0001"});
    take(&mut memory, &batch("a", vec![rating_with(6, communes)]));
    assert!(!repeat(&memory, 6), "rated only in a commune's ratings");
}

#[test]
fn only_a_tablets_dossiers_rated_for_the_first_time_are_written_as_rated() {
    let mut known = Known::default();
    known.communes.insert("xa".to_owned());
    known.rated_dossiers.insert("H56.22-261123-0001".to_owned());
    let dossier = |n, code: &str| rating_with(n, json!({"dossier_code": code}));
    let tablet = batch(
        "a",
        vec![
            dossier(1, "H56.22-261123-0001"),
            dossier(2, "H56.22-261123-0002"),
            dossier(3, "H56.22-261123-0002"),
            rating_with(
                4,
                json!({"dossier_code": "H56.22-261123-0003", "level": "not_rated"}),
            ),
        ],
    );
    let commune = batch("xa", vec![dossier(5, "H56.22-261123-0004")]);
    let (_, writes) = decide(&[&tablet, &commune], known, now());
    assert_eq!(
        writes.rated_dossiers,
        ["H56.22-261123-0002"],
        "not one rated before, nor twice, nor one left unrated, nor a commune's"
    );
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

#[test]
fn a_group_decides_as_its_batches_taken_in_turn_and_asks_the_store_each_thing_once() {
    let mut memory = Memory::default();
    let dossier = "H56.22-261123-0009";
    let mut first = batch(
        "a",
        vec![
            rating_with(1, json!({"dossier_code": dossier})),
            rating_with(
                2,
                json!({"dossier_code": "H56.22-261123-0010", "level": "not_rated"}),
            ),
        ],
    );
    first.queued = Some(5);
    // The same tablet again in the same group: the first rating resent, then changed, and
    // a new one of the same dossier.
    let second = batch(
        "a",
        vec![
            rating_with(1, json!({"dossier_code": dossier})),
            rating_with(1, json!({"dossier_code": dossier, "level": "unsatisfied"})),
            rating_with(3, json!({"dossier_code": dossier})),
        ],
    );
    let group = [&first, &second];
    let asked = wanted(&group, true);
    assert!(wanted(&group, false).ids.is_empty());
    assert_eq!(asked.devices.len(), 1);
    assert_eq!(asked.ids.len(), 3, "each id once");
    assert_eq!(
        asked.tablets_dossiers(|_| false),
        [dossier],
        "a dossier left unrated is no repeat of anything"
    );
    let Ok(stored) = store(&mut memory, &group, now(), true);
    use Status::*;
    assert_eq!(
        statuses(&stored[0]),
        [(Accepted, Some(1)), (Accepted, Some(2))]
    );
    assert_eq!(
        statuses(&stored[1]),
        [
            (Duplicate, Some(1)),
            (Conflict, Some(1)),
            (Accepted, Some(3))
        ]
    );
    let rating = |n: u32| &memory.ratings[&format!("01936f6e-8b7a-7c41-9a57-{n:012}")];
    assert!(rating(3).taken.repeat, "rated in the group's first batch");
    assert_eq!(memory.conflicts.len(), 1);
    let seen = memory.seen["a"];
    assert_eq!((seen.accepted, seen.receipts, seen.queued), (3, 3, Some(5)));
    let total: u64 = memory.daily.values().sum();
    assert_eq!(total, 3);
}

#[test]
fn no_alert_is_queued_while_alerts_are_off_or_go_nowhere_or_cannot_be_read() {
    let negative = |n| rating_with(n, json!({"level": "unsatisfied", "reasons": ["long_wait"]}));
    for settings in [
        None,
        Some(r#"{"alerts": false, "webhook": {"url": "https://hooks.example.vn/x"}}"#),
        Some(r#"{"alerts": true}"#),
        Some("{not json"),
    ] {
        let batches = batch("a", vec![negative(1)]);
        let known = Known {
            notify_settings: settings.map(str::to_owned),
            ..Known::default()
        };
        let (_, writes) = crate::ingest::decide(&[&batches], known, Utc::now());
        assert_eq!(writes.ratings.len(), 1);
        assert!(writes.alerts.is_empty(), "{settings:?}");
    }
    let mut memory = Memory::default();
    take(&mut memory, &batch("a", vec![negative(2)]));
    assert_eq!(memory.alerts.len(), 1, "alerting: queued");
}
