//! The tablet's `pair` and `sync --once` against the real `hailong-server` binary on a loopback
//! port: every rating reaches the server once, and failures say so with the right status.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The server binary: built beside this test by `cargo test --workspace`; otherwise built into
/// a separate target folder (a nested cargo cannot wait on the outer one's lock).
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let sibling = profile_dir.join(format!("hailong-server{}", std::env::consts::EXE_SUFFIX));
    if sibling.exists() {
        return sibling;
    }
    let target = profile_dir.parent().unwrap().join("sync-tests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "-p",
            "hailong-server",
            "--bin",
            "hailong-server",
            "--message-format=json",
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "building hailong-server failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "hailong-server")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported the server executable")
}

struct Server {
    child: Child,
    url: String,
    db: PathBuf,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let db = dir.join("server.db");
        let mut child = Command::new(server_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("HAILONG_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(at) = line.find("address=") {
                break line[at + 8..].split_whitespace().next().unwrap().to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server {
            child,
            url: format!("http://{address}"),
            db,
        }
    }

    fn pairing_code(&self) -> String {
        let out = Command::new(server_binary())
            .args(["pair", "--counter", "Quầy 1", "--db"])
            .arg(&self.db)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .to_owned()
    }

    fn ids(&self) -> Vec<String> {
        ids(&self.db, "SELECT id FROM ratings ORDER BY id")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ids(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn hailong(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hailong"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("HAILONG_DATA_DIR")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn twenty_thousand_demo_ratings_reach_the_server_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "20000", "--days", "30"],
    ));
    let server = Server::start(dir.path());

    let out = hailong(&tablet, &["sync", "--once"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "not paired yet is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("hailong pair"));

    let code = server.pairing_code();
    let paired = ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    assert!(paired.contains("paired with"), "{paired}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tablet.join("server.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the token file is the owner's only");
    }
    // A used code is refused.
    let again = hailong(&tablet, &["pair", "--server", &server.url, "--code", &code]);
    assert_eq!(again.status.code(), Some(1));

    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 20000 ratings"), "{out}");
    let tablet_ids = ids(
        &tablet.join("hailong.db"),
        "SELECT id FROM ratings ORDER BY id",
    );
    assert_eq!(tablet_ids.len(), 20000);
    assert_eq!(server.ids(), tablet_ids);

    // Nothing left: a second pass sends nothing and still succeeds.
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 0 ratings"), "{out}");
    assert_eq!(server.ids().len(), 20000);
}

#[test]
fn a_server_that_cannot_be_reached_leaves_the_queue_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(&tablet, &["demo", "--count", "50", "--days", "2"]));
    let server = Server::start(dir.path());
    let code = server.pairing_code();
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    drop(server);
    let out = hailong(&tablet, &["sync", "--once"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot be reached") && stderr.contains("50 ratings still wait"),
        "{stderr}"
    );

    let out = hailong(
        &tablet,
        &["pair", "--server", "ftp://example", "--code", "X"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ratings_sent_but_not_marked_before_a_crash_are_resent_as_duplicates_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "1000", "--days", "5"],
    ));
    let server = Server::start(dir.path());
    let code = server.pairing_code();
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    ok(&hailong(&tablet, &["sync", "--once"]));
    // As if the tablet died after the server committed but before it marked the last batches.
    let conn = rusqlite::Connection::open(tablet.join("hailong.db")).unwrap();
    let unmarked = conn
        .execute(
            "UPDATE ratings SET sync_state = 0 WHERE seq > (SELECT max(seq) - 450 FROM ratings)",
            [],
        )
        .unwrap();
    assert_eq!(unmarked, 450);
    drop(conn);
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 450 ratings"), "{out}");
    let tablet_ids = ids(
        &tablet.join("hailong.db"),
        "SELECT id FROM ratings ORDER BY id",
    );
    assert_eq!(
        server.ids(),
        tablet_ids,
        "no rating lost, none stored twice"
    );
    let server_db = rusqlite::Connection::open(&server.db).unwrap();
    let received: i64 = server_db
        .query_row("SELECT ratings_received FROM devices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        received, 1000,
        "the resent ones were duplicates, not new ratings"
    );
}
