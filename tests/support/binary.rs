//! The real `hailong` binary, for the command-line tests and benches (included with
//! `#[path]`), the release `hailong-server` beside it for the benches, and what the sync tests
//! read in their databases.

#![allow(dead_code)] // each includer uses its own part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// Every rating id in a database (tablet or server), sorted.
pub fn ids(db: &Path) -> Vec<String> {
    texts(db, "SELECT id FROM ratings ORDER BY id")
}

/// The first column of every row a query gives, as text.
pub fn texts(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
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
