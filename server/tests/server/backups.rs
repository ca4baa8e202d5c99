//! Backups and restores with the real server (the restore command as the binary): a backup made while tablets send holds every
//! rating acknowledged before it began and passes SQLite's check; a restore refuses a running
//! server, a bad backup and an existing database without `--force`, and keeps what it replaces.

use crate::api::{Server, id, rating};
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn ids(db: &std::path::Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut query = conn.prepare("SELECT id FROM ratings").unwrap();
    query
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn hailong_server(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hailong-server"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_backup_during_sustained_ingest_holds_every_acknowledged_rating_and_passes_the_check() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (url, token, acknowledged, stop) = (
            server.url("/api/v1/ratings/batch"),
            token.clone(),
            acknowledged.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let mut next = 1u32;
            // Bounded: at most 400 batches, stopped sooner once the backup is done.
            for _ in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let batch: Vec<String> = (next..next + 100).map(id).collect();
                next += 100;
                let ratings: Vec<_> = batch.iter().map(|i| rating(i, "satisfied")).collect();
                let answer: serde_json::Value = crate::http::http()
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "ratings": ratings }))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                let results = answer["results"].as_array().unwrap();
                assert!(
                    results.iter().all(|r| r["status"] == "accepted"),
                    "{answer}"
                );
                acknowledged.lock().unwrap().extend(batch);
            }
        })
    };
    // Some ratings in first, then the backup while batches keep coming.
    crate::hardening::eventually(std::time::Duration::from_secs(60), "first batches", || {
        acknowledged.lock().unwrap().len() >= 2000
    });
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let out = server.running.db.with_file_name("backup.db");
    let made = hailong_server(&[
        "backup".as_ref(),
        "--db".as_ref(),
        server.running.db.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let during = acknowledged.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    assert!(String::from_utf8_lossy(&made.stdout).contains("checked"));

    let copied = ids(&out);
    let missing: Vec<_> = before.iter().filter(|i| !copied.contains(*i)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged ratings missing",
        missing.len()
    );
    assert!(copied.len() <= during + 100);
    let check: String = rusqlite::Connection::open(&out)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Refused: the database itself as the target.
    let onto_itself = hailong_server(&[
        "backup".as_ref(),
        "--db".as_ref(),
        server.running.db.as_os_str(),
        "--out".as_ref(),
        server.running.db.as_os_str(),
    ]);
    assert_eq!(onto_itself.status.code(), Some(2));
}

#[test]
fn a_restore_waits_for_the_server_checks_the_backup_and_keeps_what_it_replaces() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let first: Vec<_> = (1..=50).map(|n| rating(&id(n), "satisfied")).collect();
    assert!(
        server
            .statuses(&token, first)
            .iter()
            .all(|s| s == "accepted")
    );
    let db = server.running.db.clone();
    let backup = db.with_file_name("yesterday.db");
    server.cli(&["backup", "--out", backup.to_str().unwrap()]);
    let later: Vec<_> = (51..=80).map(|n| rating(&id(n), "unsatisfied")).collect();
    assert!(
        server
            .statuses(&token, later)
            .iter()
            .all(|s| s == "accepted")
    );

    let restore = |force: bool, from: &std::path::Path| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "restore".as_ref(),
            "--from".as_ref(),
            from.as_os_str(),
            "--db".as_ref(),
            db.as_os_str(),
        ];
        if force {
            args.push("--force".as_ref());
        }
        hailong_server(&args)
    };
    let running = restore(true, &backup);
    assert_eq!(running.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&running.stderr).contains("a server is running"));

    let mut stopped = server.running;
    stopped.stop();
    assert_eq!(restore(false, &backup).status.code(), Some(2), "no --force");
    let junk = db.with_file_name("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    assert_eq!(restore(true, &junk).status.code(), Some(2), "not a backup");
    assert_eq!(ids(&db).len(), 80, "nothing changed by the refusals");

    let done = restore(true, &backup);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(ids(&db).len(), 50);
    let kept: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("server.db.replaced-"))
        .filter(|p| {
            !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm")
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(ids(&kept[0]).len(), 80, "the replaced database is whole");

    let again = stopped.restart();
    let answer = crate::http::http()
        .get(format!("{}/healthz", again.url))
        .send()
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

/// Waits for `count` log lines containing `text`; all the lines read meanwhile.
fn log_lines_with(server: &crate::running::RunningServer, text: &str, count: usize) -> Vec<String> {
    let mut seen = Vec::new();
    while seen.iter().filter(|l: &&String| l.contains(text)).count() < count {
        let line = server
            .log
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("no log line with {text:?}: {e}; {seen:#?}"));
        seen.push(line);
    }
    seen
}

/// The dashboard's tablets page, signed in as `lan`.
fn devices_page(server: &crate::running::RunningServer) -> String {
    use crate::dashboard::{PASSWORD, get, sign_in};
    let answer = sign_in(server, "lan", PASSWORD);
    let session = crate::http::cookie_from(answer.headers()["set-cookie"].to_str().unwrap());
    get(server, "/devices", Some(&session)).text().unwrap()
}

#[test]
fn scheduled_backups_are_checked_kept_to_their_number_and_shown_with_their_failures() {
    use crate::dashboard::PASSWORD;
    use crate::running::RunningServer;
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("sao lưu");
    let server = RunningServer::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &[
            "--backup-dir".as_ref(),
            backups.as_os_str(),
            "--backup-every".as_ref(),
            "1s".as_ref(),
            "--backup-keep".as_ref(),
            "2".as_ref(),
        ],
    );
    log_lines_with(&server, "backup made and checked", 3);
    let kept: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 2, "the oldest beyond two are gone: {kept:?}");
    for file in &kept {
        let check: String = rusqlite::Connection::open(file)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
    assert!(server.add_user("lan", PASSWORD).status.success());
    let page = devices_page(&server);
    assert!(page.contains("id=\"backup-last\""), "{page}");
    assert!(page.contains("hailong-20"), "the latest file is named");
    assert!(!page.contains("id=\"backup-failed\""));
    drop(server);

    // A folder that cannot be made: the failure is logged and shown, with its time.
    let in_the_way = dir.path().join("in the way");
    std::fs::write(&in_the_way, "a file, not a folder").unwrap();
    let failing = RunningServer::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--backup-dir".as_ref(), in_the_way.as_os_str()],
    );
    // The first backup is due at once (none yet): it fails, and the page says so.
    let mut page = String::new();
    crate::hardening::eventually(Duration::from_secs(60), "the failure shown", || {
        page = devices_page(&failing);
        page.contains("id=\"backup-failed\"")
    });
    assert!(page.contains("không thành"), "in Vietnamese by default");
    drop(failing);

    // Without --backup-dir the page says backups are off, and how to turn them on.
    let plain = RunningServer::start(&dir.path().join("server.db"));
    let page = devices_page(&plain);
    assert!(page.contains("id=\"backups-off\""), "{page}");
}
