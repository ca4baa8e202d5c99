//! The real `hailong` binary and the real `hailong-server` beside it, for the command-line
//! tests and benches (included with `#[path]`), and what the sync tests read in their databases.

#![allow(dead_code)] // each includer uses its own part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hailong"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("HAILONG_DATA_DIR");
    command
}

/// Runs `hailong --data-dir DIR ARGS`.
pub fn hailong(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().unwrap()
}

/// Runs `hailong` with `input` on its standard input.
pub fn hailong_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The standard output of a command that must succeed.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The server binary a workspace build of the same profile left beside this one, if any (the
/// benches need the release one: `cargo build --release -p hailong-server`).
pub fn sibling_server_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent().and_then(Path::parent)?;
    let sibling = profile_dir.join(format!("hailong-server{}", std::env::consts::EXE_SUFFIX));
    sibling.exists().then_some(sibling)
}

/// The server binary of the same profile: built beside this one by a workspace build;
/// otherwise built (once per run) into a separate target folder, as a nested cargo cannot wait
/// on the outer one's lock.
pub fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(sibling) = sibling_server_binary() {
            return sibling;
        }
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap();
        let target = profile_dir.parent().unwrap().join("sync-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "-p", "hailong-server", "--bin", "hailong-server"])
            .arg("--message-format=json")
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
    })
}

/// Every rating id in a database (tablet or server), sorted.
pub fn ids(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM ratings ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The one number a query gives.
pub fn one(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Points a paired tablet's link at `url` (a fault proxy, say), keeping its token.
pub fn send_through(tablet: &Path, url: &str) {
    let path = tablet.join("server.json");
    let mut link: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    link["server"] = url.into();
    std::fs::write(&path, serde_json::to_vec(&link).unwrap()).unwrap();
}
