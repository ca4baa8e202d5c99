//! The kiosk's background sender against the real server (in-process) on a loopback port:
//! it sends a queue left by the last run as soon as it starts, picks up new ratings, pairs,
//! backs off while the server is away and resumes when told to.

use crate::binary::{hailong, ids, ok, one, send_through};
use crate::running::RunningServer;
use chrono::{DateTime, FixedOffset};
use hailong::clock::ManualClock;
use hailong::paths::DataDir;
use hailong::settings::{self, Loaded, Settings};
use hailong::store::{NewRating, Store};
use hailong::sync::{PairRequest, Pairing, SyncHandle, SyncStatus};
use hailong_core::level::{Level, Scale};
use hailong_core::rating::Outcome;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// A demo tablet with `count` ratings, not paired.
fn tablet(root: &Path, count: u32) -> DataDir {
    let dir = root.join("tablet");
    ok(&hailong(
        &dir,
        &["demo", "--count", &count.to_string(), "--days", "3"],
    ));
    DataDir::new(dir)
}

fn settings_of(dir: &DataDir) -> Settings {
    match settings::load(dir, at("2026-11-23T09:00:00+07:00")).unwrap() {
        Loaded::Ready(s) => *s,
        _ => panic!("the demo wrote settings"),
    }
}

fn pair_by_cli(dir: &DataDir, server: &RunningServer) {
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        dir.root(),
        &["pair", "--server", &server.url, "--code", &code],
    ));
}

/// A worker on `dir` whose reports come back on a channel, with the clock at `now`.
fn spawn(dir: &DataDir, clock: &ManualClock) -> (SyncHandle, Reports) {
    let (tx, rx) = channel();
    let handle = SyncHandle::spawn(
        dir.clone(),
        settings_of(dir),
        Arc::new(clock.clone()),
        move |status| {
            let _ = tx.send(status);
        },
    )
    .unwrap();
    (handle, Reports(rx))
}

struct Reports(Receiver<SyncStatus>);

impl Reports {
    /// The first report that satisfies `wanted`. The deadline only stops a broken test from
    /// hanging; nothing here depends on timing.
    fn until(&self, what: &str, wanted: impl Fn(&SyncStatus) -> bool) -> SyncStatus {
        loop {
            match self.0.recv_timeout(Duration::from_secs(120)) {
                Ok(status) if wanted(&status) => return status,
                Ok(_) => {}
                Err(e) => panic!("no report where {what}: {e}"),
            }
        }
    }

    fn idle_with(&self, queued: u64) -> SyncStatus {
        self.until(&format!("{queued} wait and nothing is under way"), |s| {
            !s.sending && s.counts.queued == queued && s.pairing == Pairing::Idle
        })
    }
}

#[test]
fn a_queue_left_by_the_last_run_goes_as_soon_as_the_worker_starts_and_new_taps_follow() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 3000);
    let server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));

    let (worker, reports) = spawn(&dir, &clock);
    let done = reports.idle_with(0);
    assert_eq!(done.server.as_deref(), Some(server.url.as_str()));
    assert!(done.plain_http);
    assert_eq!(done.record.last_success, Some(clock_now(&clock)));
    assert_eq!(done.record.last_error, None);
    assert_eq!(ids(&server.db), ids(&dir.database()));

    // A tap committed by the kiosk's own connection is noticed and sent without being asked.
    clock.set(at("2026-11-23T10:05:00+07:00"));
    tap(&dir, at("2026-11-23T10:04:30+07:00"));
    reports.until("the new tap is sent", |s| {
        !s.sending && s.counts.queued == 0 && s.record.last_success == Some(clock_now(&clock))
    });
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 3001);

    // How it went survives a restart of the kiosk.
    drop(worker);
    let record = Store::open(&dir.database()).unwrap().sync_record().unwrap();
    assert_eq!(record.last_success, Some(at("2026-11-23T10:05:00+07:00")));
}

/// A "satisfied" tap at `when`, committed by the kiosk's own connection.
fn tap(dir: &DataDir, when: DateTime<FixedOffset>) {
    Store::open(&dir.database())
        .unwrap()
        .record(&NewRating {
            at: when,
            scale: Scale::Three,
            outcome: Outcome::Rated(Level::Satisfied),
            dossier: None,
            procedure: None,
            officer: None,
            counter: "Quầy 1",
            finished: true,
        })
        .unwrap();
}

fn clock_now(clock: &ManualClock) -> DateTime<FixedOffset> {
    use hailong::clock::Clock;
    clock.now()
}

#[test]
fn pairing_through_the_worker_reports_each_refusal_then_sends_once_paired() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 400);
    let server = RunningServer::start(&root.path().join("server.db"));
    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));
    let (worker, reports) = spawn(&dir, &clock);
    let unpaired = reports.idle_with(400);
    assert_eq!(unpaired.server, None);
    assert_eq!(
        unpaired.record.last_error, None,
        "not paired is not a failure"
    );

    let ask = |server: &str, code: &str| {
        worker.pair(PairRequest {
            server: server.to_owned(),
            code: code.to_owned(),
            ca_file: None,
            ca: None,
        });
        reports.until("pairing ends", |s| {
            !matches!(s.pairing, Pairing::Idle | Pairing::Working)
        })
    };
    assert_eq!(
        ask("ftp://127.0.0.1", "ABCDEFGHJK").pairing,
        Pairing::Failed("bad_address")
    );
    assert_eq!(
        ask(&server.url, "WRONGCODE2").pairing,
        Pairing::Failed("unauthorised")
    );
    let code = server.pairing_code("Quầy 1");
    assert_eq!(ask(&server.url, &code).pairing, Pairing::Paired);
    let done = reports.idle_with(0);
    assert_eq!(done.server.as_deref(), Some(server.url.as_str()));
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 400);
    // The same code again from the same tablet (its answer lost, say): the same device.
    assert_eq!(ask(&server.url, &code).pairing, Pairing::Paired);
    assert_eq!(one(&server.db, "SELECT count(*) FROM devices"), 1);
}

#[test]
fn a_tablet_the_server_revoked_stops_trying_says_so_even_after_a_restart_and_sends_once_paired_again()
 {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 5);
    let server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));
    let (worker, reports) = spawn(&dir, &clock);
    reports.idle_with(0);
    let device: String = rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT id FROM devices", [], |r| r.get(0))
        .unwrap();
    server.command(&["revoke", &device]);

    // The next tap meets the revoked token: said, kept, and no try scheduled.
    tap(&dir, at("2026-11-23T10:04:30+07:00"));
    let refused = reports.until("the server refuses the tablet", |s| s.refused);
    assert_eq!(refused.record.last_error.as_deref(), Some("unauthorised"));
    assert_eq!(refused.retry_at, None, "no try is scheduled");
    assert_eq!(refused.counts.queued, 1);
    assert!(!refused.sending);

    // A restarted kiosk says so at once, without a try.
    drop(worker);
    let (worker, reports) = spawn(&dir, &clock);
    let first = reports.until("the restarted worker reports", |_| true);
    assert!(first.refused && !first.sending, "{first:?}");
    assert_eq!(first.counts.queued, 1);

    // Paired again with a new code: what waited goes.
    worker.pair(PairRequest {
        server: server.url.clone(),
        code: server.pairing_code("Quầy 1"),
        ca_file: None,
        ca: None,
    });
    let done = reports.idle_with(0);
    assert!(!done.refused);
    assert_eq!(done.record.last_error, None);
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 6);
}

#[test]
fn while_the_server_is_away_the_worker_backs_off_and_sends_everything_once_it_is_back() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 700);
    let mut server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    server.kill();
    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));
    let now = clock_now(&clock);
    let (worker, reports) = spawn(&dir, &clock);

    // Each failure waits longer, with jitter: 2.5-5 s, then 5-10 s, then 10-20 s.
    for (low, high) in [(2500, 5000), (5000, 10_000), (10_000, 20_000)] {
        let failed = reports.until("a try failed", |s| s.retry_at.is_some());
        assert_eq!(failed.record.last_error.as_deref(), Some("unreachable"));
        assert_eq!(failed.counts.queued, 700, "nothing is marked sent");
        let wait = (failed.retry_at.unwrap() - now).num_milliseconds();
        assert!((low..=high).contains(&wait), "waits {wait} ms");
        worker.send_now();
    }
    let record = Store::open(&dir.database()).unwrap().sync_record().unwrap();
    assert_eq!(record.last_error.as_deref(), Some("unreachable"));
    assert_eq!(record.last_success, None);

    let server = server.restart();
    worker.send_now();
    let done = reports.idle_with(0);
    assert_eq!(done.record.last_error, None);
    assert_eq!(done.retry_at, None);
    assert_eq!(ids(&server.db), ids(&dir.database()));
}

#[test]
fn through_connections_cut_mid_request_the_worker_delivers_every_rating_once() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 5000);
    let server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    let cutter = crate::proxy::Proxy::start(
        server.listen_address().parse().unwrap(),
        crate::proxy::Fault::CutRequests,
        21,
    );
    send_through(dir.root(), &cutter.url);

    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));
    let (worker, reports) = spawn(&dir, &clock);
    // Each failure is retried at once instead of after the backoff.
    reports.until("everything is sent", |s| {
        if s.retry_at.is_some() {
            worker.send_now();
        }
        !s.sending && s.counts.queued == 0
    });
    assert!(cutter.faults() >= 3, "only {} cuts", cutter.faults());
    assert_eq!(ids(&server.db), ids(&dir.database()));
    assert_eq!(
        one(&server.db, "SELECT ratings_received FROM devices"),
        5000
    );
}

#[test]
fn the_refused_list_shows_the_newest_refusals_even_past_the_fifty_it_lists() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 80);
    // 51 ratings damaged on the tablet: a reason no version knows (refused on the tablet with
    // the server's code).
    let damaged = rusqlite::Connection::open(dir.database())
        .unwrap()
        .execute(
            "UPDATE ratings SET outcome = 'unsatisfied', reasons = 'rude'
             WHERE seq IN (SELECT seq FROM ratings ORDER BY seq LIMIT 51)",
            [],
        )
        .unwrap();
    assert_eq!(damaged, 51);
    let server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    let clock = ManualClock::new(at("2026-11-23T10:00:00+07:00"));
    let (worker, reports) = spawn(&dir, &clock);
    let first = reports.until("the refusals are counted", |s| {
        !s.sending && s.counts.queued == 0 && s.counts.rejected == 51
    });
    assert_eq!(first.rejected.len(), hailong::sync::REJECTED_SHOWN);

    // One more refused: it heads the list.
    let mut kiosk = Store::open(&dir.database()).unwrap();
    let newest = kiosk
        .record(&NewRating {
            at: at("2026-11-23T10:01:00+07:00"),
            scale: Scale::Three,
            outcome: Outcome::Rated(Level::Unsatisfied),
            dossier: None,
            procedure: None,
            officer: None,
            counter: "Quầy 1",
            finished: false,
        })
        .unwrap();
    rusqlite::Connection::open(dir.database())
        .unwrap()
        .execute(
            "UPDATE ratings SET reasons = 'rude', finished = 1 WHERE id = ?1",
            [&newest.id],
        )
        .unwrap();
    worker.send_now();
    let after = reports.until("the new refusal is counted", |s| {
        !s.sending && s.counts.rejected == 52
    });
    assert_eq!(after.rejected.len(), hailong::sync::REJECTED_SHOWN);
    assert_eq!(after.rejected[0].id, newest.id);
    assert_eq!(after.rejected[0].error, "bad_reason");
}

#[test]
fn a_worker_with_nothing_to_send_checks_in_at_start_and_sends_again_what_a_restored_server_lost() {
    let root = tempfile::tempdir().unwrap();
    let dir = tablet(root.path(), 200);
    let server = RunningServer::start(&root.path().join("server.db"));
    pair_by_cli(&dir, &server);
    ok(&hailong(dir.root(), &["sync", "--once"]));
    let backup = root.path().join("backup.db");
    server.command(&["backup", "--out", backup.to_str().unwrap()]);
    let mut kiosk = Store::open(&dir.database()).unwrap();
    for minute in 0..30 {
        kiosk
            .record(&NewRating {
                at: at(&format!("2026-11-23T10:{minute:02}:00+07:00")),
                scale: Scale::Three,
                outcome: Outcome::Rated(Level::VerySatisfied),
                dossier: None,
                procedure: None,
                officer: None,
                counter: "Quầy 1",
                finished: true,
            })
            .unwrap();
    }
    ok(&hailong(dir.root(), &["sync", "--once"]));
    let server = server.restored_from(&backup);
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 200);

    // Nothing waits on the tablet, yet the worker's first pass asks, and sends the 30 again.
    let clock = ManualClock::new(at("2026-11-23T11:00:00+07:00"));
    let (_worker, reports) = spawn(&dir, &clock);
    reports.until("the lost ratings are sent again", |s| {
        !s.sending && s.record.last_success == Some(clock_now(&clock)) && s.counts.queued == 0
    });
    assert_eq!(ids(&server.db), ids(&dir.database()));
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 230);
}
