//! Store tests on real SQLite files: migrations, durability under SIGKILL, faults, queries.

use chrono::{DateTime, FixedOffset, NaiveDate};
use hailong::store::{Breakdown, NewRating, Store, StoreError};
use hailong_core::dossier::DossierCode;
use hailong_core::level::Level;
use hailong_core::period::DateRange;
use hailong_core::procedure::Procedure;
use hailong_core::rating::{OfficerRef, Outcome};
use hailong_core::reason::Reason;
use std::io::BufRead;
use std::process::{Command, Stdio};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn tap(level: Level, when: &str) -> NewRating<'static> {
    NewRating {
        at: at(when),
        scale: hailong_core::level::Scale::Three,
        outcome: Outcome::Rated(level),
        dossier: None,
        procedure: None,
        officer: None,
        counter: "Quầy 1",
        finished: !level.is_negative(),
    }
}

/// The outbox's ratings, none of them damaged.
fn ready(out: Vec<hailong::store::Outgoing>) -> Vec<hailong_core::rating::Rating> {
    out.into_iter()
        .map(|o| match o {
            hailong::store::Outgoing::Ready(rating) => rating,
            damaged => panic!("{damaged:?}"),
        })
        .collect()
}

#[test]
fn a_damaged_rating_comes_out_of_the_outbox_in_its_place_and_holds_up_none_of_the_others() {
    use hailong::store::{DamagedPart, Outgoing};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let mut store = Store::open(&path).unwrap();
    let ids: Vec<String> = ["09:00", "09:01", "09:02", "09:03"]
        .iter()
        .map(|t| {
            let when = format!("2026-11-23T{t}:00+07:00");
            store.record(&tap(Level::Satisfied, &when)).unwrap().id
        })
        .collect();
    let conn = rusqlite::Connection::open(&path).unwrap();
    for (id, change) in [
        (&ids[1], "reasons = 'rude'"),
        (&ids[2], "recorded_at = 'yesterday'"),
        (&ids[3], "outcome = 'meh'"),
    ] {
        conn.execute(&format!("UPDATE ratings SET {change} WHERE id = ?1"), [id])
            .unwrap();
    }
    let out = store.outbox(0, 10).unwrap();
    assert!(matches!(&out[0], Outgoing::Ready(r) if r.id == ids[0]));
    let damaged: Vec<_> = out[1..]
        .iter()
        .map(|o| match o {
            Outgoing::Damaged { id, part, .. } => (id.clone(), *part),
            ready => panic!("{ready:?}"),
        })
        .collect();
    assert_eq!(
        damaged,
        [
            (ids[1].clone(), DamagedPart::Reasons),
            (ids[2].clone(), DamagedPart::Time),
            (ids[3].clone(), DamagedPart::Outcome),
        ]
    );
}

#[test]
fn a_new_file_is_migrated_to_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        Store::latest_schema_version()
    );
    drop(store);
    // Reopening applies nothing twice.
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        Store::latest_schema_version()
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_negative_tap_is_amended_with_its_reasons_and_finished() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let recorded = store
        .record(&tap(Level::Unsatisfied, "2026-11-23T09:15:00+07:00"))
        .unwrap();
    assert!(!store.rating(&recorded.id).unwrap().finished);
    store
        .amend_reasons(
            &recorded.id,
            &[Reason::LongWait, Reason::Attitude],
            Some("  chờ lâu  "),
            true,
        )
        .unwrap();
    let rating = store.rating(&recorded.id).unwrap();
    assert_eq!(rating.reasons, vec![Reason::LongWait, Reason::Attitude]);
    assert_eq!(rating.comment.as_deref(), Some("chờ lâu"));
    assert!(rating.finished);
    assert_eq!(rating.recorded_at, at("2026-11-23T09:15:00+07:00"));
    assert!(matches!(
        store.amend_reasons("nope", &[], None, true),
        Err(StoreError::NoSuchRating(_))
    ));
    // A finished rating (it may have been sent) is never amended again.
    assert!(matches!(
        store.amend_reasons(&recorded.id, &[Reason::Late], None, true),
        Err(StoreError::NoSuchRating(_))
    ));
    assert!(matches!(
        store.amend_level(&recorded.id, Level::Satisfied),
        Err(StoreError::NoSuchRating(_))
    ));
}

#[test]
fn a_change_of_mind_replaces_the_level_keeps_the_first_and_moves_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let recorded = store
        .record(&tap(Level::Unsatisfied, "2026-11-23T09:15:00+07:00"))
        .unwrap();
    store
        .amend_reasons(&recorded.id, &[Reason::Late], Some("x"), false)
        .unwrap();
    store
        .amend_level(&recorded.id, Level::VerySatisfied)
        .unwrap();
    store.amend_level(&recorded.id, Level::Satisfied).unwrap();
    let rating = store.rating(&recorded.id).unwrap();
    assert_eq!(rating.outcome.level(), Some(Level::Satisfied));
    assert_eq!(
        rating.first_outcome,
        Some(Outcome::Rated(Level::Unsatisfied)),
        "the level first tapped is kept"
    );
    assert!(rating.reasons.is_empty() && rating.comment.is_none());
    assert!(!rating.finished);
    let counts = store.summary(DateRange::all()).unwrap();
    assert_eq!(counts.total(), 1);
    assert_eq!(counts.count(Level::Satisfied), 1);
    assert_eq!(counts.count(Level::Unsatisfied), 0);
    store.finish(&recorded.id).unwrap();
    assert!(store.rating(&recorded.id).unwrap().finished);
}

#[test]
fn sequence_numbers_rise_and_ids_are_uuid_v7() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let a = store
        .record(&tap(Level::Satisfied, "2026-11-23T09:00:00+07:00"))
        .unwrap();
    // A clock set back does not disturb the order.
    let b = store
        .record(&tap(Level::Satisfied, "2020-01-01T09:00:00+07:00"))
        .unwrap();
    assert!(b.seq > a.seq);
    assert_eq!(uuid::Uuid::parse_str(&a.id).unwrap().get_version_num(), 7);
}

#[test]
fn a_second_rating_of_a_dossier_is_stored_flagged_and_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let code = DossierCode::from_stored("000.00.14.H56-200203-0118").unwrap();
    let officer = OfficerRef {
        id: 1,
        name: "Nguyễn Thị Lan".into(),
    };
    let procedure = Procedure {
        code: "1.001193".into(),
        name: "Đăng ký khai sinh".into(),
        field_name: "Hộ tịch".into(),
        field_code: "ho_tich".into(),
    };
    let mut rating = tap(Level::VerySatisfied, "2026-11-23T09:00:00+07:00");
    rating.dossier = Some(&code);
    rating.officer = Some(&officer);
    rating.procedure = Some(&procedure);
    assert_eq!(store.dossier_rated_at(&code).unwrap(), None);
    assert!(!store.record(&rating).unwrap().repeat_dossier);
    assert_eq!(
        store.dossier_rated_at(&code).unwrap(),
        Some(at("2026-11-23T09:00:00+07:00"))
    );
    rating.outcome = Outcome::Rated(Level::Unsatisfied);
    assert!(store.record(&rating).unwrap().repeat_dossier);
    let counts = store.summary(DateRange::all()).unwrap();
    assert_eq!(counts.total(), 1);
    assert_eq!(counts.repeat_dossier, 1);
    let by_field = store.breakdown(DateRange::all(), Breakdown::Field).unwrap();
    assert_eq!(by_field[0].label.as_deref(), Some("Hộ tịch"));
    assert_eq!(by_field[0].counts.total(), 1);
}

#[test]
fn summaries_count_by_local_date_with_unrated_and_misuse() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    store
        .record(&tap(Level::VerySatisfied, "2026-11-22T16:00:00+07:00"))
        .unwrap();
    store
        .record(&tap(Level::Satisfied, "2026-11-23T08:00:00+07:00"))
        .unwrap();
    store
        .record(&tap(Level::Unsatisfied, "2026-11-23T08:05:00+07:00"))
        .unwrap();
    let mut unrated = tap(Level::Satisfied, "2026-11-23T08:10:00+07:00");
    unrated.outcome = Outcome::NotRated;
    store.record(&unrated).unwrap();
    store
        .record_misuse(at("2026-11-23T08:00:01+07:00"))
        .unwrap();
    let today = DateRange::day(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    let counts = store.summary(today).unwrap();
    assert_eq!((counts.total(), counts.unrated, counts.misuse), (2, 1, 1));
    assert_eq!(counts.satisfied_pct(), Some(50.0));
    assert_eq!(store.summary(DateRange::all()).unwrap().total(), 3);
}

#[test]
fn unfinished_ratings_are_finished_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let id = Store::open(&path)
        .unwrap()
        .record(&tap(Level::Unsatisfied, "2026-11-23T09:00:00+07:00"))
        .unwrap()
        .id;
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.finish_unfinished().unwrap(), 1);
    assert!(store.rating(&id).unwrap().finished);
}

#[test]
fn a_full_disk_or_read_only_database_refuses_the_tap_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    store.simulate_full_disk().unwrap();
    // The file may not grow: the first write that needs a new page fails.
    let mut last = Ok(());
    for _ in 0..5_000 {
        last = store.record_misuse(at("2026-11-23T09:00:00+07:00"));
        if last.is_err() {
            break;
        }
    }
    assert!(matches!(last, Err(StoreError::DiskFull)), "{last:?}");
    let dir2 = tempfile::tempdir().unwrap();
    let mut ro = Store::open(&dir2.path().join("hailong.db")).unwrap();
    ro.simulate_read_only().unwrap();
    assert!(matches!(
        ro.record(&tap(Level::Satisfied, "2026-11-23T09:00:00+07:00")),
        Err(StoreError::ReadOnly)
    ));
}

#[test]
fn a_damaged_database_is_moved_aside_never_deleted_and_a_new_one_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    std::fs::write(
        &path,
        b"this is not an SQLite database, just garbage bytes....",
    )
    .unwrap();
    let (store, quarantined) =
        Store::open_or_quarantine(&path, at("2026-11-23T09:30:00+07:00")).unwrap();
    let quarantined = quarantined.expect("moved aside");
    assert_eq!(
        quarantined.moved_to,
        dir.path().join("hailong.db.damaged-20261123T093000")
    );
    assert_eq!(
        std::fs::read(&quarantined.moved_to).unwrap(),
        b"this is not an SQLite database, just garbage bytes...."
    );
    assert_eq!(store.rating_count().unwrap(), 0);
}

/// The child half of the SIGKILL test: taps forever, printing each committed sequence number.
#[test]
fn child_taps_until_killed() {
    let Ok(path) = std::env::var("HAILONG_KILL_TEST_DB") else {
        return;
    };
    let mut store = Store::open(std::path::Path::new(&path)).unwrap();
    let mut out = std::io::stdout().lock();
    loop {
        let recorded = store
            .record(&tap(Level::Satisfied, "2026-11-23T09:00:00+07:00"))
            .unwrap();
        use std::io::Write;
        writeln!(out, "COMMITTED {} {}", recorded.seq, recorded.id).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_tap_committed_just_before_sigkill_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    Store::open(&path).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::child_taps_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HAILONG_KILL_TEST_DB", &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 25 {
        let line = lines.next().expect("child output").unwrap();
        if let Some(rest) = line.strip_prefix("COMMITTED ") {
            acknowledged.push(rest.split(' ').nth(1).unwrap().to_owned());
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let store = Store::open(&path).unwrap();
    for id in &acknowledged {
        assert!(store.rating(id).is_ok(), "acknowledged tap {id} was lost");
    }
    assert!(store.rating_count().unwrap() >= acknowledged.len() as u64);
}

#[test]
fn the_daily_counts_agree_with_the_ratings_after_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let mut store = Store::open(&path).unwrap();
    for (level, when) in [
        (Level::VerySatisfied, "2026-11-22T16:00:00+07:00"),
        (Level::Satisfied, "2026-11-23T08:00:00+07:00"),
        (Level::Unsatisfied, "2026-11-23T08:05:00+07:00"),
    ] {
        store.record(&tap(level, when)).unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE ratings SET outcome = 'satisfied' WHERE outcome = 'unsatisfied'",
        [],
    )
    .unwrap();
    conn.execute("DELETE FROM ratings WHERE outcome = 'very_satisfied'", [])
        .unwrap();
    let counts = store.summary(DateRange::all()).unwrap();
    assert_eq!(counts.count(Level::Satisfied), 2);
    assert_eq!(counts.count(Level::Unsatisfied), 0);
    assert_eq!(counts.total(), 2);
}

#[test]
fn the_outbox_holds_finished_unsent_ratings_in_order_in_a_form_the_server_accepts() {
    use hailong::store::Delivery;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let mut store = Store::open(&path).unwrap();
    let dossier = DossierCode::from_stored("000.00.14.H56-261123-0001").unwrap();
    let officer = OfficerRef {
        id: 3,
        name: "Nguyễn Thị Hoa".into(),
    };
    let first = store
        .record(&tap(Level::VerySatisfied, "2026-11-23T09:00:00+07:00"))
        .unwrap();
    let pending = store
        .record(&tap(Level::Unsatisfied, "2026-11-23T09:01:00+07:00"))
        .unwrap();
    let unrated = store
        .record(&NewRating {
            outcome: Outcome::NotRated,
            dossier: Some(&dossier),
            officer: Some(&officer),
            counter: "Quầy 1",
            finished: true,
            ..tap(Level::Satisfied, "2026-11-23T09:05:00+07:00")
        })
        .unwrap();

    // The negative one waits for its reasons; the others go, oldest first, whole, with the
    // counter they were given at.
    let out = ready(store.outbox(0, 10).unwrap());
    let ids: Vec<&str> = out.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), unrated.id.as_str()]);
    assert_eq!(out[1].outcome, Outcome::NotRated);
    assert_eq!(out[1].dossier.as_deref(), Some("000.00.14.H56-261123-0001"));
    assert_eq!(
        out[1].officer.as_ref().map(|o| o.name.as_str()),
        Some("Nguyễn Thị Hoa")
    );
    assert_eq!(out[0].counter.as_deref(), Some("Quầy 1"));
    assert_eq!(out[0].scale, Some(hailong_core::level::Scale::Three));
    assert_eq!(store.outbox(0, 1).unwrap().len(), 1);
    // Read on from the last one taken (the next batch, while this one is in flight).
    let after_first = ready(store.outbox(out[0].seq, 10).unwrap());
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].id, unrated.id);

    store
        .amend_reasons(&pending.id, &[Reason::LongWait], None, true)
        .unwrap();
    store
        .record_sync(
            [
                (first.seq, Delivery::Held { receipt: Some(1) }),
                (
                    unrated.seq,
                    Delivery::Refused {
                        code: "bad_dossier_code",
                    },
                ),
                // An answer for one marked already changes nothing.
                (first.seq, Delivery::Refused { code: "bad_time" }),
            ],
            None,
        )
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    let out = ready(store.outbox(0, 10).unwrap());
    assert_eq!(out.len(), 1, "sent and rejected ratings are not resent");
    assert_eq!(out[0].id, pending.id);
    assert_eq!(out[0].reasons, [Reason::LongWait]);
    let counts = store.outbox_counts().unwrap();
    assert_eq!((counts.queued, counts.rejected), (1, 1));
    assert_eq!(store.acked_through().unwrap(), Some(1));
    let refused = store.rejected(10).unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].id.as_str(), refused[0].error.as_str()),
        (unrated.id.as_str(), "bad_dossier_code")
    );
}

#[test]
fn ratings_stored_before_the_scale_and_counter_were_kept_say_they_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    store
        .record(&tap(Level::Neutral, "2026-11-23T09:00:00+07:00"))
        .unwrap();
    store
        .record(&NewRating {
            counter: "  ",
            ..tap(Level::Satisfied, "2026-11-23T09:01:00+07:00")
        })
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("hailong.db")).unwrap();
    conn.execute("UPDATE ratings SET scale = NULL WHERE seq = 1", [])
        .unwrap();
    drop(conn);
    let store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let kept: Vec<_> = ready(store.outbox(0, 10).unwrap())
        .into_iter()
        .map(|r| (r.scale, r.counter))
        .collect();
    // Sending gives them the settings' (`sync::wire`, unit-tested there).
    assert_eq!(
        kept,
        [
            (None, Some("Quầy 1".to_owned())),
            (Some(hailong_core::level::Scale::Three), None)
        ],
        "a blank counter is none"
    );
}

#[test]
fn a_renamed_counter_relabels_no_earlier_rating_in_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hailong.db");
    let mut store = Store::open(&path).unwrap();
    store
        .record(&tap(Level::Satisfied, "2026-11-23T09:00:00+07:00"))
        .unwrap();
    let legacy = store
        .record(&tap(Level::Satisfied, "2026-11-23T09:01:00+07:00"))
        .unwrap();
    // As a rating stored before the tablet kept its counter.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE ratings SET counter = NULL WHERE id = ?1",
            [&legacy.id],
        )
        .unwrap();
    let mut counters = Vec::new();
    store
        .for_each_entry(DateRange::all(), "Quầy 9 (đổi tên)", &mut |entry| {
            counters.push(entry.counter.clone());
            true
        })
        .unwrap();
    assert_eq!(
        counters,
        [
            Some("Quầy 1".to_owned()),
            Some("Quầy 9 (đổi tên)".to_owned())
        ],
        "the counter it was given at; the counter now only for one stored without"
    );
}
