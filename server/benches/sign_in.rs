//! Dashboard sign-in throughput under the limits: 8 users signing in over and over at once
//! through the real `hailong-server`, each as a browser does (form, token, post), beside the
//! same number of bare argon2 checks on as many threads as the server gives them.
//! `cargo bench -p hailong-server --bench sign_in`.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/process.rs"]
mod process;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use http::dashboard_sign_in;
use process::ServerProcess;
use std::path::Path;
use std::time::Instant;

const USERS: usize = 8;
const EACH: usize = 25;
const PASSWORD: &str = "một mật khẩu đủ dài cho bài đo";

/// Sign-ins per second through the server, and how many were told to come back (429).
fn through_server() -> (f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(
        Path::new(env!("CARGO_BIN_EXE_hailong-server")),
        &dir.path().join("server.db"),
    );
    for n in 0..USERS {
        assert!(
            server
                .add_user(&format!("user{n}"), PASSWORD)
                .status
                .success()
        );
    }
    http::http();
    let url = &server.url;
    let started = Instant::now();
    let refused: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..USERS)
            .map(|n| {
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .unwrap();
                    let mut refused = 0;
                    let mut signed_in = 0;
                    while signed_in < EACH {
                        let answer = dashboard_sign_in(&client, url, &format!("user{n}"), PASSWORD);
                        match answer.status().as_u16() {
                            303 => signed_in += 1,
                            429 => refused += 1,
                            other => panic!("sign-in answered {other}"),
                        }
                    }
                    refused
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    (
        (USERS * EACH) as f64 / started.elapsed().as_secs_f64(),
        refused,
    )
}

/// Bare argon2 checks per second (the server's parameters) on `threads` threads.
fn bare_argon2(threads: usize) -> f64 {
    let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
    let hash = Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let total = USERS * EACH;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let hash = &hash;
            scope.spawn(move || {
                let parsed = PasswordHash::new(hash).unwrap();
                for _ in (t..total).step_by(threads) {
                    assert!(
                        Argon2::default()
                            .verify_password(PASSWORD.as_bytes(), &parsed)
                            .is_ok()
                    );
                }
            });
        }
    });
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let bare = bare_argon2(threads);
    let (served, refused) = through_server();
    println!(
        "{} sign-ins by {USERS} users at once: {served:.1}/s through the server ({refused} told to come back) | bare argon2 on {threads} threads {bare:.1}/s | ratio {:.2}",
        USERS * EACH,
        served / bare
    );
}
