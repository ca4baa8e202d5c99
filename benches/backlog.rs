//! A 100,000-rating backlog from one tablet, synced to the real server over loopback with
//! `hailong sync --once` (process start included). Goal: under 5 s.
//! `cargo build --release -p hailong-server && cargo bench --bench backlog`

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BACKLOG: &str = "100000";

fn main() {
    let exe = std::env::current_exe().unwrap();
    let server_bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join(format!("hailong-server{}", std::env::consts::EXE_SUFFIX));
    if !server_bin.exists() {
        eprintln!("backlog: build the server first: cargo build --release -p hailong-server");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    let hailong = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hailong"))
            .arg("--data-dir")
            .arg(&tablet)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    hailong(&["demo", "--count", BACKLOG, "--days", "60"]);

    let db = dir.path().join("server.db");
    let mut server = Command::new(&server_bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
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
    let code = Command::new(&server_bin)
        .args(["pair", "--counter", "Quầy 1", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let code = String::from_utf8(code.stdout).unwrap();
    let code = code.lines().last().unwrap();
    hailong(&[
        "pair",
        "--server",
        &format!("http://{address}"),
        "--code",
        code,
    ]);

    let started = Instant::now();
    hailong(&["sync", "--once"]);
    let took = started.elapsed().as_secs_f64();
    let stored: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    println!(
        "backlog of {BACKLOG} ratings synced in {took:.2} s ({:.0} ratings/s), {stored} on the server (goal < 5 s)",
        stored as f64 / took
    );
}
