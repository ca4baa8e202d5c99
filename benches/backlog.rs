//! A 100,000-rating backlog from one tablet, synced to the real server over loopback with
//! `hailong sync --once` (process start included). Goal: under 5 s.
//! `cargo build --release -p hailong-server && cargo bench --bench backlog`

#[path = "../tests/support/binary.rs"]
mod binary;
#[path = "../server/tests/support/process.rs"]
mod process;

use binary::{hailong, ok, sibling_server_binary};
use process::ServerProcess;
use std::time::Instant;

const BACKLOG: &str = "100000";

fn main() {
    // The release server beside this bench (the tests' fallback would build a debug one).
    let Some(server_bin) = sibling_server_binary() else {
        eprintln!("backlog: build the server first: cargo build --release -p hailong-server");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", BACKLOG, "--days", "60"],
    ));
    let server = ServerProcess::start(&server_bin, &dir.path().join("server.db"));
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));

    let started = Instant::now();
    ok(&hailong(&tablet, &["sync", "--once"]));
    let took = started.elapsed().as_secs_f64();
    let stored: i64 = rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
        .unwrap();
    println!(
        "backlog of {BACKLOG} ratings synced in {took:.2} s ({:.0} ratings/s), {stored} on the server (goal < 5 s)",
        stored as f64 / took
    );
}
