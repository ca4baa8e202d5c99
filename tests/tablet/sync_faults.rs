//! Network and process faults between the tablet and the real `hailong-server`: connections
//! cut in the middle of requests, responses lost after the server committed, the server killed
//! in the middle of a batch, the tablet's sync killed between sending and marking. Each ends
//! with the same ids on both sides and every rating counted once.

use crate::binary::{hailong, ids, ok, one, send_through};
use crate::proxy::{Fault, Proxy};
use crate::running::RunningServer;
use hailong::sync::BATCH;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Setup {
    _dir: tempfile::TempDir,
    tablet: PathBuf,
    server: RunningServer,
}

/// A demo tablet with `count` ratings, paired with a fresh server.
fn paired(count: u32) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", &count.to_string(), "--days", "10"],
    ));
    let server = RunningServer::start(&dir.path().join("server.db"));
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    Setup {
        _dir: dir,
        tablet,
        server,
    }
}

/// Runs `hailong sync --once` until it reports an empty queue; how many runs it took.
fn sync_until_done(tablet: &Path) -> usize {
    for run in 1..=500 {
        let out = hailong(tablet, &["sync", "--once"]);
        match out.status.code() {
            Some(0) => return run,
            Some(1) => {}
            other => panic!(
                "sync ended with {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    panic!("500 runs did not empty the queue");
}

/// The same ids on both sides, each accepted once, nothing left in the tablet's outbox.
fn assert_exactly_once(setup: &Setup, count: i64) {
    let tablet_db = setup.tablet.join("hailong.db");
    let on_tablet = ids(&tablet_db);
    assert_eq!(on_tablet.len() as i64, count);
    assert_eq!(ids(&setup.server.db), on_tablet, "no rating lost or added");
    assert_eq!(
        one(&setup.server.db, "SELECT ratings_received FROM devices"),
        count,
        "each rating accepted once; resends were duplicates"
    );
    assert_eq!(
        one(
            &tablet_db,
            "SELECT count(*) FROM ratings WHERE seq NOT IN (SELECT seq FROM sent)"
        ),
        0
    );
    let check: String = rusqlite::Connection::open(&setup.server.db)
        .unwrap()
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

fn upstream(server: &RunningServer) -> SocketAddr {
    server.listen_address().parse().unwrap()
}

/// The sum of one field over the server's "batch committed" log lines read so far.
fn logged(server: &RunningServer, field: &str) -> u64 {
    server
        .log
        .try_iter()
        .filter(|l| l.contains("batch committed"))
        .filter_map(|l| {
            let at = l.find(&format!("{field}="))? + field.len() + 1;
            l[at..].split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum()
}

/// Reads the server's log until it has committed `n` batches.
fn wait_for_batches(server: &RunningServer, n: usize) {
    let mut seen = 0;
    while seen < n {
        let line = server
            .log
            .recv_timeout(Duration::from_secs(120))
            .expect("the server keeps committing batches");
        if line.contains("batch committed") {
            seen += 1;
        }
    }
}

#[test]
fn connections_cut_in_the_middle_of_requests_lose_nothing_and_count_nothing_twice() {
    let setup = paired(6000);
    let proxy = Proxy::start(upstream(&setup.server), Fault::CutRequests, 11);
    send_through(&setup.tablet, &proxy.url);
    let runs = sync_until_done(&setup.tablet);
    assert!(
        proxy.faults() >= 5,
        "only {} cuts in {runs} runs",
        proxy.faults()
    );
    assert_exactly_once(&setup, 6000);
}

#[test]
fn responses_lost_after_the_server_committed_are_resent_and_counted_once() {
    let setup = paired(6000);
    let proxy = Proxy::start(upstream(&setup.server), Fault::DropResponses, 12);
    send_through(&setup.tablet, &proxy.url);
    sync_until_done(&setup.tablet);
    assert!(
        proxy.faults() >= 5,
        "only {} lost responses",
        proxy.faults()
    );
    assert!(
        logged(&setup.server, "duplicate") >= BATCH as u64,
        "the lost batches came back as duplicates"
    );
    assert_exactly_once(&setup, 6000);
}

#[test]
fn the_server_killed_in_the_middle_of_a_batch_and_started_again_loses_nothing() {
    let mut setup = paired(20_000);
    let sync = Command::new(env!("CARGO_BIN_EXE_hailong"))
        .arg("--data-dir")
        .arg(&setup.tablet)
        .args(["sync", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_batches(&setup.server, 5);
    setup.server.kill();
    let out = sync.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the sync saw the server go");
    assert!(String::from_utf8_lossy(&out.stderr).contains("still wait"));
    let committed = one(&setup.server.db, "SELECT count(*) FROM ratings");
    assert!(
        committed > 0 && committed < 20_000 && committed % BATCH as i64 == 0,
        "whole batches only: {committed}"
    );

    let again = RunningServer::start_with(&setup.server.db, &setup.server.listen_address(), &[]);
    setup.server = again;
    sync_until_done(&setup.tablet);
    assert_exactly_once(&setup, 20_000);
}

#[test]
fn a_sync_killed_between_sending_and_marking_resends_and_counts_once() {
    let setup = paired(1000);
    let proxy = Proxy::start(upstream(&setup.server), Fault::HoldResponses, 13);
    send_through(&setup.tablet, &proxy.url);
    let mut sync = Command::new(env!("CARGO_BIN_EXE_hailong"))
        .arg("--data-dir")
        .arg(&setup.tablet)
        .args(["sync", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server has committed the first batch and answered; the answer is held back.
    proxy
        .held
        .recv_timeout(Duration::from_secs(120))
        .expect("the first batch reaches the server");
    sync.kill().unwrap();
    sync.wait().unwrap();
    let tablet_db = setup.tablet.join("hailong.db");
    assert_eq!(
        one(&setup.server.db, "SELECT count(*) FROM ratings"),
        BATCH as i64
    );
    assert_eq!(
        one(&setup.server.db, "SELECT queued FROM devices"),
        1000 - BATCH as i64,
        "the batch said what still waits after it"
    );
    assert_eq!(
        one(&tablet_db, "SELECT count(*) FROM sent"),
        0,
        "killed before marking"
    );

    send_through(&setup.tablet, &setup.server.url);
    sync_until_done(&setup.tablet);
    assert_eq!(
        logged(&setup.server, "duplicate"),
        BATCH as u64,
        "the batch came back once"
    );
    assert_eq!(one(&setup.server.db, "SELECT queued FROM devices"), 0);
    assert_exactly_once(&setup, 1000);
}
