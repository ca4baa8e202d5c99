//! Alert latency: from a tablet's batch being answered (its commit) to a real mail server
//! (Debian's aiosmtpd, keeping each message in a Maildir) having the alert, through the release
//! server's writer, its notifier thread and lettre. Beside it, alternating, the baseline: a bare
//! SMTP exchange written by hand on a TCP socket to the same mail server, timed from its first
//! byte to the file, the floor that the mail server itself sets.
//! `cargo build --release -p hailong-server && cargo bench -p hailong-server --bench alerts`.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/process.rs"]
mod process;

use http::http;
use process::ServerProcess;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const ALERTS: usize = 100;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Messages the mail server has kept so far.
fn kept(maildir: &Path) -> usize {
    std::fs::read_dir(maildir.join("new")).map_or(0, |d| d.count())
}

/// Waits (polling each 0.2 ms) until the mail server keeps more than `before` messages.
fn until_kept(maildir: &Path, before: usize, started: Instant) -> Duration {
    let deadline = started + Duration::from_secs(30);
    while kept(maildir) <= before {
        assert!(Instant::now() < deadline, "no mail arrived");
        std::thread::sleep(Duration::from_micros(200));
    }
    started.elapsed()
}

/// One message by hand: HELO, MAIL, RCPT, DATA, QUIT.
fn bare_smtp(port: u16, n: usize) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut answer = |writer: &mut TcpStream, line: &str| {
        if !line.is_empty() {
            writer.write_all(line.as_bytes()).unwrap();
        }
        // Multi-line answers end with a line whose code is followed by a space.
        loop {
            let mut reply = String::new();
            reader.read_line(&mut reply).unwrap();
            if reply.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    };
    answer(&mut writer, "");
    answer(&mut writer, "EHLO bench\r\n");
    answer(&mut writer, "MAIL FROM:<hailong@tanphu.gov.vn>\r\n");
    answer(&mut writer, "RCPT TO:<chutich@tanphu.gov.vn>\r\n");
    answer(&mut writer, "DATA\r\n");
    answer(
        &mut writer,
        &format!("Subject: baseline {n}\r\n\r\nA negative rating.\r\n.\r\n"),
    );
    answer(&mut writer, "QUIT\r\n");
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp_port = free_port();
    let mut smtpd: Child = Command::new("/usr/bin/python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{smtp_port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .spawn()
        .expect("Debian's aiosmtpd (apt-get install python3-aiosmtpd)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", smtp_port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let server = ServerProcess::start(
        Path::new(env!("CARGO_BIN_EXE_hailong-server")),
        &dir.path().join("server.db"),
    );
    server.command(&[
        "notify",
        "smtp",
        "--host",
        "127.0.0.1",
        "--port",
        &smtp_port.to_string(),
        "--security",
        "none",
        "--from",
        "hailong@tanphu.gov.vn",
        "--to",
        "chutich@tanphu.gov.vn",
    ]);
    server.command(&["notify", "options", "--reports", "off"]);
    let code = server.pairing_code("Quầy 1");
    let paired: serde_json::Value = http()
        .post(format!("{}/api/v1/devices/pair", server.url))
        .json(&json!({"code": code, "device_name": "bench"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = paired["token"].as_str().unwrap().to_owned();
    let created_at = chrono::Local::now().fixed_offset().to_rfc3339();
    let (mut alerts, mut bare) = (Vec::new(), Vec::new());
    for n in 0..ALERTS {
        let before = kept(&maildir);
        let batch = json!({"ratings": [{
            "id": format!("01936f6e-8b7a-7c41-9a57-{n:012x}"), "created_at": created_at,
            "seq": n, "scale": 3, "level": "unsatisfied", "reasons": ["long_wait"],
            "comment": null, "dossier_code": null, "procedure_code": "1.001193",
            "officer": "Nguyễn Văn A", "counter": "Quầy 1"}]});
        let answer = http()
            .post(format!("{}/api/v1/ratings/batch", server.url))
            .bearer_auth(&token)
            .json(&batch)
            .send()
            .unwrap();
        assert!(answer.status().is_success());
        let committed = Instant::now();
        alerts.push(until_kept(&maildir, before, committed));
        let before = kept(&maildir);
        let started = Instant::now();
        bare_smtp(smtp_port, n);
        bare.push(until_kept(&maildir, before, started));
    }
    let _ = smtpd.kill();
    let _ = smtpd.wait();
    let (a50, b50) = (percentile(&mut alerts, 0.5), percentile(&mut bare, 0.5));
    let (a99, b99) = (percentile(&mut alerts, 0.99), percentile(&mut bare, 0.99));
    println!("| {ALERTS} alerts, one negative rating a batch | p50 | p99 | max |");
    println!("|---|---|---|---|");
    println!(
        "| batch answered → alert kept by the mail server | {} | {} | {} |",
        ms(a50),
        ms(a99),
        ms(*alerts.last().unwrap())
    );
    println!(
        "| bare SMTP exchange → kept (baseline) | {} | {} | {} |",
        ms(b50),
        ms(b99),
        ms(*bare.last().unwrap())
    );
    println!(
        "ratio p50 {:.2}x, p99 {:.2}x; goal: under 2 s",
        a50.as_secs_f64() / b50.as_secs_f64(),
        a99.as_secs_f64() / b99.as_secs_f64()
    );
}
