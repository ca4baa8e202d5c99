//! The server as someone on the commune's network would attack it, in-process and as the real
//! binary where the process is what is tested (its open-file limit, memory, SIGKILL):
//! a flood of sign-ins, idle and half-sent connections under a low open-file limit, open
//! redirects, cross-site forms, forged log lines, spreadsheet formulas, file modes, and
//! export leftovers; and input that is only odd (a huge `queued`, a press with no id).

use crate::api::{Server, created_at, id, rating};
use crate::dashboard::{PASSWORD, client, get, problem};
use crate::http::http;
use crate::http::{cookie_from, dashboard_sign_in, form_token, sign_in_form};
use crate::process::ServerProcess;
use crate::running::RunningServer;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hailong-server"))
}

/// The server's peak resident memory so far, in MiB (`VmHWM`).
fn peak_rss_mib(server: &ServerProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// Polls `done` until it holds, at most `limit` (a failure past that).
pub(crate) fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::yield_now();
    }
}

#[test]
fn three_hundred_sign_ins_at_once_are_answered_in_bounded_memory_and_the_right_password_waits() {
    let dir = tempfile::tempdir().unwrap();
    // The window is the default quarter of an hour: however loaded the machine, it does not
    // pass during the test. Its passing is tested with a clock of the test's own
    // (`limits::tests`).
    let server = ServerProcess::start_with(
        binary(),
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--sign-in-window".as_ref(), "15m".as_ref()],
    );
    assert!(server.add_user("lan", PASSWORD).status.success());
    let before = peak_rss_mib(&server);
    // "lan" is guessed five times: the name now waits, whatever the address.
    for _ in 0..5 {
        assert_eq!(
            dashboard_sign_in(&client(), &server.url, "lan", "đoán thử mật khẩu").status(),
            StatusCode::UNAUTHORIZED
        );
    }

    // Then 300 at once, from 50 addresses of the loopback network, for 60 names.
    let (cookie, token) = sign_in_form(&client(), &server.url);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(300));
    let threads: Vec<_> = (0..300u32)
        .map(|n| {
            let (url, cookie, token, barrier) = (
                server.url.clone(),
                cookie.clone(),
                token.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                crate::http::http();
                let from = std::net::IpAddr::from([127, 0, 1, 1 + (n % 50) as u8]);
                let client = reqwest::blocking::Client::builder()
                    .local_address(from)
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(120))
                    .build()
                    .unwrap();
                let name = format!("user{}", n % 60);
                barrier.wait();
                let answer = client
                    .post(format!("{url}/sign-in"))
                    .header(COOKIE, &cookie)
                    .header("origin", &url)
                    .form(&[
                        ("name", name.as_str()),
                        ("password", "sai"),
                        ("csrf", &token),
                    ])
                    .send()
                    .unwrap();
                let status = answer.status();
                (status, problem(&answer.text().unwrap()))
            })
        })
        .collect();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let count = |s: StatusCode| answers.iter().filter(|(status, _)| *status == s).count();
    let (wrong, refused) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
    );
    assert_eq!(wrong + refused, 300, "{answers:?}");
    assert!(wrong >= 2, "some were checked: {wrong}");
    assert!(
        refused >= 100,
        "most were told to come back at once: {refused}"
    );
    let peak = peak_rss_mib(&server);
    eprintln!(
        "300 sign-ins at once: {wrong} checked, {refused} refused at once; peak RSS {before} -> {peak} MiB"
    );
    assert!(peak < 200, "peak RSS {peak} MiB (was {before} MiB before)");

    // The right password for "lan" waits too, and is given no session.
    let held = dashboard_sign_in(&client(), &server.url, "lan", PASSWORD);
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held.headers().get(SET_COOKIE).is_none());
}

/// Starts the server with an open-file limit of `open_files` and `extra` options.
fn limited(dir: &Path, open_files: u32, extra: &[&str]) -> ServerProcess {
    let extra: Vec<&std::ffi::OsStr> = extra.iter().map(|a| a.as_ref()).collect();
    ServerProcess::start_limited(binary(), &dir.join("server.db"), open_files, &extra)
}

/// A healthy request's answer, with `limit` for all of it.
fn healthz(server: &ServerProcess, limit: Duration) -> Result<String, reqwest::Error> {
    reqwest::blocking::Client::builder()
        .timeout(limit)
        .build()
        .unwrap()
        .get(format!("{}/healthz", server.url))
        .send()
        .and_then(|r| r.text())
}

/// 1,000 connections that hold the server without finishing a request: a third connect and
/// say nothing, a third stop inside their headers, a third inside their body.
fn hold(server: &ServerProcess) -> Vec<TcpStream> {
    let address = server.listen_address();
    (0..1000)
        .map(|n| {
            let mut stream = TcpStream::connect(&address).unwrap();
            match n % 3 {
                0 => {}
                1 => stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap(),
                _ => stream
                    .write_all(
                        b"POST /api/v1/ratings/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer hd_x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"ratings\":[",
                    )
                    .unwrap(),
            }
            stream
        })
        .collect()
}

#[test]
fn a_thousand_idle_and_half_sent_connections_under_a_low_file_limit_leave_service_within_a_second()
{
    let dir = tempfile::tempdir().unwrap();
    let server = limited(dir.path(), 1100, &[]);
    let held = hold(&server);
    let answer = healthz(&server, Duration::from_secs(1));
    assert_eq!(answer.expect("served within a second"), "ok");
    drop(held);

    // With fewer places than connections, idle ones make room for the newcomer.
    let small = tempfile::tempdir().unwrap();
    let server = limited(small.path(), 1100, &["--max-connections", "100"]);
    let held = hold(&server);
    for _ in 0..3 {
        let answer = healthz(&server, Duration::from_secs(1));
        assert_eq!(answer.expect("served within a second"), "ok");
    }
    drop(held);
}

/// Reads from `stream` until the server closes it; what it said before that.
fn until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut said = Vec::new();
    match stream.read_to_end(&mut said) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server kept the connection open: {e}"),
    }
    String::from_utf8_lossy(&said).into_owned()
}

#[test]
fn idle_slow_and_unfinished_connections_are_closed_at_their_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited(
        dir.path(),
        4096,
        &["--header-timeout", "2s", "--body-timeout", "3s"],
    );
    let address = server.listen_address();
    // Says nothing at all.
    let mut idle = TcpStream::connect(&address).unwrap();
    // Sends its head a few bytes at a time, never the end of it.
    let mut slow_head = TcpStream::connect(&address).unwrap();
    slow_head
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Its body never ends.
    let mut slow_body = TcpStream::connect(&address).unwrap();
    slow_body
        .write_all(b"POST /api/v1/devices/pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\":")
        .unwrap();
    // Finishes one request, then keeps the connection open without another.
    let mut kept = TcpStream::connect(&address).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();

    assert_eq!(until_closed(&mut idle), "");
    assert_eq!(until_closed(&mut slow_head), "");
    let answered = until_closed(&mut slow_body);
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    assert!(answered.contains("\"error\""), "{answered}");
    let answered = until_closed(&mut kept);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(
        answered.ends_with("ok"),
        "one answer, then closed: {answered}"
    );
}

#[test]
pub(crate) fn the_language_switch_goes_back_only_to_a_page_of_this_server_and_never_fails() {
    let (server, _dir) = crate::dashboard::server();
    for back in [
        "/%09/evil.example/x",
        "/%0d%0aSet-Cookie:%20hl_session=x",
        "//evil.example/",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "https://evil.example/",
        "/%20/evil.example",
        "/%00",
        "/%E2%80%AE",
    ] {
        let answer = get(&server, &format!("/lang/en?back={back}"), None);
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{back}");
        assert_eq!(answer.headers()[LOCATION], "/", "{back}");
    }
    let answer = get(&server, "/lang/vi?back=/officers%3Fperiod%3D2026-Q1", None);
    assert_eq!(answer.headers()[LOCATION], "/officers?period=2026-Q1");
}

#[test]
pub(crate) fn forms_posted_from_another_site_or_without_their_token_are_refused() {
    let (server, _dir) = crate::dashboard::server();
    assert!(server.add_user("lan", PASSWORD).status.success());
    let url = &server.url;
    let (cookie, token) = sign_in_form(&client(), url);
    let post = |path: &str, cookie: &str, origin: Option<&str>, form: &[(&str, &str)]| {
        let mut request = client()
            .post(format!("{url}{path}"))
            .header(COOKIE, cookie)
            .form(form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().unwrap()
    };
    let fields = [
        ("name", "lan"),
        ("password", PASSWORD),
        ("csrf", token.as_str()),
    ];

    // Sign-in: another site's page, even with a good token; no token; another browser's token.
    let evil = post("/sign-in", &cookie, Some("http://evil.example"), &fields);
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(evil.headers().get(SET_COOKIE).is_none());
    let no_token = post("/sign-in", &cookie, Some(url), &fields[..2]);
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert!(no_token.headers().get(SET_COOKIE).is_none());
    let (other_cookie, _) = sign_in_form(&client(), url);
    let crossed = post("/sign-in", &other_cookie, Some(url), &fields);
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
    let plain = post("/sign-in", &cookie, None, &fields);
    assert_eq!(
        plain.status(),
        StatusCode::SEE_OTHER,
        "no Origin: the token decides"
    );
    let session = cookie_from(plain.headers()[SET_COOKIE].to_str().unwrap());

    // Sign-out: from another site, or without the session's token, changes nothing.
    let page = get(&server, "/", Some(&session)).text().unwrap();
    let csrf = form_token(&page);
    for (origin, form) in [
        (Some("http://evil.example"), vec![("csrf", csrf.as_str())]),
        (Some(url.as_str()), vec![]),
        (Some(url.as_str()), vec![("csrf", token.as_str())]),
    ] {
        let out = post("/sign-out", &session, origin, &form);
        assert_eq!(out.status(), StatusCode::FORBIDDEN, "{origin:?} {form:?}");
        assert!(out.headers().get(SET_COOKIE).is_none());
        assert_eq!(get(&server, "/", Some(&session)).status(), StatusCode::OK);
    }
    let out = post("/sign-out", &session, Some(url), &[("csrf", &csrf)]);
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&server, "/", Some(&session)).status(),
        StatusCode::SEE_OTHER
    );
}

#[test]
pub(crate) fn every_answer_says_nosniff_and_api_errors_are_json_with_their_status() {
    let server = Server::start();
    let admin = server.admin_token();
    let json_error = |response: reqwest::blocking::Response, status: StatusCode| {
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = response.json().unwrap();
        assert!(body["error"].is_string(), "{body}");
    };
    json_error(
        server.get("/api/v1/nothing-here", &admin),
        StatusCode::NOT_FOUND,
    );
    json_error(
        server.get("/api/v1/ratings/batch", &admin),
        StatusCode::METHOD_NOT_ALLOWED,
    );
    json_error(
        http().delete(server.url("/api/v1/summary")).send().unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    );
    json_error(
        server.get("/api/v1/export?format=csv&format=xlsx", &admin),
        StatusCode::BAD_REQUEST,
    );
    json_error(
        server.get("/api/v1/summary?from=2026-01-01&from=2026-02-01", &admin),
        StatusCode::BAD_REQUEST,
    );
    let ok = http().get(server.url("/healthz")).send().unwrap();
    assert_eq!(ok.headers()["x-content-type-options"], "nosniff");
    assert!(
        ok.headers().get("strict-transport-security").is_none(),
        "plain HTTP"
    );
    let page = http().get(server.url("/no-such-page")).send().unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().unwrap().contains("id=\"problem\""));
    // The dashboard's own paths answer a wrong method with a page, not JSON.
    let page = http().get(server.url("/sign-out")).send().unwrap();
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().unwrap().contains("id=\"problem\""));

    let download = server.get("/api/v1/export?format=csv&period=2026", &admin);
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
}

/// The log lines the server has written so far.
fn log_lines(server: &RunningServer) -> Vec<String> {
    server.log.try_iter().collect()
}

#[test]
pub(crate) fn request_fields_cannot_forge_a_log_line_or_a_devices_row() {
    let server = Server::start();
    let forged = "x\r\n2026-11-29T10:00:00Z INFO forged: admin token hd_1\u{1b}[2K";
    let response = http()
        .post(server.url("/api/v1/devices/pair"))
        .json(&json!({"code": server.pairing_code("Quầy 1"), "device_name": forged}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = response.json::<Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server.send(
        &token,
        &json!({
            "ratings": [rating(&id(1), "satisfied")],
            "sent_at": forged,
            "app_version": forged,
            "misuse": [{"id": forged, "created_at": created_at()}],
        }),
    );
    assert_eq!(status, StatusCode::OK);
    let devices = server.cli(&["devices"]);
    let mut lines = log_lines(&server.running);
    lines.extend(devices.lines().map(str::to_owned));
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("forged") || l.contains("x\\u{d}\\u{a}2026")),
        "{lines:#?}"
    );
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:#?}");
    assert!(devices.contains("x\\u{d}\\u{a}2026"), "{devices}");
    assert!(
        lines.iter().filter(|l| l.contains("forged")).count() >= 3,
        "sent_at, the misuse press and the device name are each shown, escaped: {lines:#?}"
    );
}

#[test]
pub(crate) fn csv_cells_that_a_spreadsheet_would_run_are_written_as_text() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let mut odd = rating(&id(1), "unsatisfied");
    odd["reasons"] = json!(["other"]);
    odd["comment"] = json!("=HYPERLINK(\"http://evil.example\",\"xem\")");
    odd["officer"] = json!("+84 912 345 678");
    odd["counter"] = json!("@SUM(A1:A9)");
    assert_eq!(server.statuses(&token, vec![odd]), ["accepted"]);
    let admin = server.admin_token();
    let csv = server
        .get("/api/v1/export?format=csv&period=2026", &admin)
        .text()
        .unwrap();
    let row = csv.lines().nth(1).unwrap();
    for cell in [
        "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"xem\"\")\"",
        ",'+84 912 345 678,",
        ",'@SUM(A1:A9),",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    let summary = server
        .get("/api/v1/export?format=summary-csv&period=2026", &admin)
        .text()
        .unwrap();
    assert!(summary.contains(",'+84 912 345 678,"), "{summary}");
}

#[test]
pub(crate) fn a_phone_number_in_a_sent_comment_is_masked_before_the_server_stores_it() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let mut sent = rating(&id(1), "unsatisfied");
    sent["reasons"] = json!(["attitude"]);
    sent["comment"] = json!("gọi 0912.345.678 hoặc CCCD 001203004567, hồ sơ -200203-0118");
    assert_eq!(server.statuses(&token, vec![sent]), ["accepted"]);
    let csv = server
        .get(
            "/api/v1/export?format=csv&period=2026",
            &server.admin_token(),
        )
        .text()
        .unwrap();
    assert!(
        csv.contains("gọi ••••.•••.••• hoặc CCCD ••••••••••••, hồ sơ -200203-0118"),
        "{csv}"
    );
    assert!(!csv.contains("0912"), "{csv}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_servers_files_are_its_owners_only_and_older_ones_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let token = server.device("Quầy 1");
    assert_eq!(
        server.statuses(&token, vec![rating(&id(1), "satisfied")]),
        ["accepted"]
    );
    let db = server.running.db.clone();
    let wal = db.with_file_name("server.db-wal");
    let exports = db.with_file_name("server.db.exports");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(mode(&exports), 0o700);
    let backup_like = db.with_file_name("copy.db");
    server.cli(&[
        "export",
        "--format",
        "json",
        "--out",
        backup_like.to_str().unwrap(),
    ]);
    assert_eq!(mode(&backup_like), 0o600, "an export the command writes");

    // As an older version left them, killed with its log still there.
    let (mut running, _dir) = server.into_process();
    running.kill();
    for file in [&db, &wal] {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let running = running.restart();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&wal), 0o600);
    drop(running);
}

#[cfg(unix)]
#[test]
fn an_export_killed_mid_way_leaves_nothing_readable_and_the_next_start_clears_it() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    // Enough ratings that an XLSX takes a moment to write.
    for batch in 0..40u32 {
        let ratings = (0..500)
            .map(|n| rating(&id(batch * 500 + n + 1), "satisfied"))
            .collect();
        let statuses = server.statuses(&token, ratings);
        assert!(statuses.iter().all(|s| s == "accepted"));
    }
    let exports = server.running.db.with_file_name("server.db.exports");
    let admin = server.admin_token();
    // Killed as a process is: the export's thread dies with it, mid-file.
    let (mut running, _dir) = server.into_process();
    let url = format!("{}/api/v1/export?format=xlsx&period=2026", running.url);
    let download = std::thread::spawn(move || {
        let _ = http().get(url).bearer_auth(admin).send();
    });
    let listed = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&exports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    eventually(Duration::from_secs(120), "an unfinished export", || {
        !listed().is_empty()
    });
    running.kill();
    let _ = download.join();
    let left = listed();
    assert!(!left.is_empty());
    assert_eq!(mode(&exports), 0o700);
    for file in &left {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let running = running.restart();
    assert!(listed().is_empty(), "the next start removed {left:?}");
    drop(running);
}

#[test]
pub(crate) fn an_odd_queued_or_a_press_without_an_id_leaves_the_rest_of_the_batch_taken() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    for (n, queued) in [
        json!(18446744073709551615u64),
        json!(1e30),
        json!(-1),
        json!("many"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = server.send(
            &token,
            &json!({"ratings": [rating(&id(n as u32 + 1), "satisfied")], "queued": queued}),
        );
        assert_eq!(status, StatusCode::OK, "{queued}: {body}");
        assert_eq!(body["results"][0]["status"], "accepted");
    }
    let (status, body) = server.send(
        &token,
        &json!({
            "ratings": [rating(&id(10), "satisfied")],
            "misuse": [
                {"created_at": created_at()},
                {"id": 7, "created_at": created_at()},
                {"id": "01936f6e-8b7a-7c41-9a57-00000000ffff", "created_at": created_at()},
            ],
        }),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "accepted");
    assert_eq!(body["misuse_received"], 3);
    let kept: i64 = server.sql("SELECT count(*) FROM misuse");
    assert_eq!(kept, 1, "the well-formed press is kept, the others dropped");
}

#[test]
fn a_server_killed_mid_stream_keeps_whole_batches_and_takes_the_rest_once_after_a_restart() {
    use crate::api::sql;
    const BATCHES: u32 = 40;
    const PER_BATCH: u32 = 500;
    let server = Server::start();
    let token = server.device("Quầy 1");
    // Killed as a process is (SIGKILL), with batches on the wire.
    let (mut running, _dir) = server.into_process();
    let batches: Vec<Value> = (0..BATCHES)
        .map(|b| {
            let ratings: Vec<Value> = (1..=PER_BATCH)
                .map(|n| rating(&id(b * PER_BATCH + n), "satisfied"))
                .collect();
            json!({ "ratings": ratings })
        })
        .collect();
    let sender = {
        let (url, batches, token) = (running.url.clone(), batches.clone(), token.clone());
        std::thread::spawn(move || {
            for batch in &batches {
                if post_batch(&url, &token, batch).is_err() {
                    return;
                }
            }
        })
    };
    let count = |db: &Path| sql::<i64>(db, "SELECT count(*) FROM ratings");
    eventually(Duration::from_secs(120), "a few batches committed", || {
        count(&running.db) >= i64::from(4 * PER_BATCH)
    });
    running.kill();
    let _ = sender.join();
    let committed = count(&running.db);
    assert!(
        committed % i64::from(PER_BATCH) == 0 && committed < i64::from(BATCHES * PER_BATCH),
        "whole batches only: {committed}"
    );

    // Started again and sent everything again: what it had comes back as duplicates, the
    // rest is accepted, each rating once.
    let running = running.restart();
    let (mut accepted, mut duplicate) = (0i64, 0i64);
    for batch in &batches {
        let answer: Value = post_batch(&running.url, &token, batch)
            .unwrap()
            .json()
            .unwrap();
        for result in answer["results"].as_array().unwrap() {
            match result["status"].as_str() {
                Some("accepted") => accepted += 1,
                Some("duplicate") => duplicate += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(duplicate, committed);
    assert_eq!(accepted + duplicate, i64::from(BATCHES * PER_BATCH));
    assert_eq!(count(&running.db), i64::from(BATCHES * PER_BATCH));
}

/// Posts one batch body to the server at `url` with a device's token.
fn post_batch(
    url: &str,
    token: &str,
    batch: &Value,
) -> reqwest::Result<reqwest::blocking::Response> {
    http()
        .post(format!("{url}/api/v1/ratings/batch"))
        .bearer_auth(token)
        .json(batch)
        .send()
}
