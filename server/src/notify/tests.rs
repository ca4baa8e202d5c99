//! The notifier against a real mail server (Debian's aiosmtpd, started here) and a real HTTP
//! receiver, on a real database file, with mock time: each round is run at the time the test
//! says, so retries and the reports' dates need no waiting.

use super::*;
use crate::db::testing::{batch, certificate_authority, paired, rating_with};
use chrono::TimeZone;
use settings::{Security, Smtp, Webhook};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Instant;

#[path = "../../tests/support/receiver.rs"]
mod receiver;
use receiver::Receiver;

/// Debian's Python, which has Debian's aiosmtpd (another `python3` on the PATH may not).
const PYTHON: &str = "/usr/bin/python3";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` (a server process starting), at most 20 s.
fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A real SMTP server keeping each message it accepts in a Maildir.
struct Smtpd {
    child: Child,
    maildir: PathBuf,
}

impl Smtpd {
    fn start(port: u16, maildir: &Path) -> Smtpd {
        Smtpd::start_with(port, maildir, &[])
    }

    /// With `options` before the handler: `--tlscert`, `--tlskey` for STARTTLS.
    fn start_with(port: u16, maildir: &Path, options: &[&Path]) -> Smtpd {
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .spawn()
            .expect("Debian's aiosmtpd (apt-get install python3-aiosmtpd)");
        wait_for_port(port);
        Smtpd {
            child,
            maildir: maildir.to_owned(),
        }
    }

    /// Each message received, read by Python's own e-mail parser: the subject decoded, the
    /// raw subject header, the text, the attachments (name, type, base64).
    fn messages(&self) -> Vec<serde_json::Value> {
        let script = r#"
import sys, json, email, email.policy, os, base64
out = []
for sub in ('new', 'cur'):
    folder = os.path.join(sys.argv[1], sub)
    if not os.path.isdir(folder):
        continue
    for name in sorted(os.listdir(folder)):
        raw = open(os.path.join(folder, name), 'rb').read()
        m = email.message_from_bytes(raw, policy=email.policy.default)
        body = m.get_body(('plain',))
        raw_subject = [l for l in raw.decode('ascii', 'replace').splitlines() if l.lower().startswith('subject:')]
        out.append({
            'subject': str(m['subject']),
            'raw_subject': raw_subject[0] if raw_subject else '',
            'to': str(m['to']),
            'body': body.get_content() if body is not None else '',
            'attachments': [{'name': a.get_filename(), 'type': a.get_content_type(),
                             'data': base64.b64encode(a.get_payload(decode=True)).decode()}
                            for a in m.iter_attachments()],
        })
print(json.dumps(out))
"#;
        let out = Command::new(PYTHON)
            .args(["-c", script])
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database with the unit's name, one tablet, `settings`, and a batch taken at 14:26 on
/// 29 November 2026: two negative ratings (one with a phone number in its comment) and a
/// satisfied one.
fn database(dir: &Path, settings: &Settings) -> PathBuf {
    let path = dir.join("server.db");
    let mut db = Db::open(&path).unwrap();
    db.set_unit_name("UBND xã Tân Phú").unwrap();
    db.set_notify_settings(&serde_json::to_string(settings).unwrap())
        .unwrap();
    let device = paired(&mut db, "Quầy 1");
    let at = "2026-11-29T14:26:05+07:00";
    let items = vec![
        rating_with(
            1,
            serde_json::json!({"level": "unsatisfied", "reasons": ["late", "long_wait"],
                "comment": "Gọi lại cho tôi: 0912345678", "created_at": at,
                "dossier_code": "000.00.14.H56-261128-0017", "officer": "Nguyễn Thị Lan",
                "counter": "Quầy 1",
                "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh"}),
        ),
        rating_with(
            2,
            serde_json::json!({"level": "satisfied", "created_at": at}),
        ),
        rating_with(
            3,
            serde_json::json!({"level": "unsatisfied", "reasons": ["attitude"], "created_at": at}),
        ),
    ];
    db.ingest(&[&batch(&device, items)], Utc::now()).unwrap();
    path
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Local> {
    Local.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn webhook(port: u16) -> Settings {
    Settings {
        webhook: Some(Webhook {
            url: format!("http://127.0.0.1:{port}/hailong"),
        }),
        reports: false,
        ..Settings::default()
    }
}

/// Negatives taken while alerts are off are not queued, those queued before alerts went off
/// leave the queue unsent, and neither is alerted late when alerts are turned on.
#[test]
fn negatives_taken_while_alerts_are_off_are_never_alerted() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let on = webhook(port);
    let off = Settings {
        alerts: false,
        ..on.clone()
    };
    let path = database(dir.path(), &on);
    let queued = |path: &Path| -> i64 {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("SELECT count(*) FROM alert_queue", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        queued(&path),
        2,
        "alerts on: the writer queues both negatives"
    );
    let mut db = Db::open(&path).unwrap();
    db.set_notify_settings(&serde_json::to_string(&off).unwrap())
        .unwrap();
    let mut notifier = Notifier::open(&path).unwrap();
    let t0 = at(2026, 11, 29, 14, 27, 0);
    let round = notifier.round(t0).unwrap();
    assert_eq!((round.alerted, round.sent, round.failed), (0, 0, 0));
    assert_eq!(queued(&path), 0, "what was queued before is dropped");
    let device = paired(&mut db, "Quầy 2");
    let negative = rating_with(
        9,
        serde_json::json!({"level": "unsatisfied", "reasons": ["late"],
            "created_at": "2026-11-29T14:27:30+07:00"}),
    );
    db.ingest(&[&batch(&device, vec![negative])], Utc::now())
        .unwrap();
    assert_eq!(queued(&path), 0, "alerts off: the writer queues none");
    db.set_notify_settings(&serde_json::to_string(&on).unwrap())
        .unwrap();
    let later = notifier.round(t0 + chrono::Duration::seconds(61)).unwrap();
    assert_eq!((later.alerted, later.sent, later.failed), (0, 0, 0));
    assert_eq!(db.queue_state().unwrap().waiting, 0, "no message made");
}

/// Issue 15: the negatives of a batch go out as one alert; while the receiver is down the alert
/// waits, through a restart, and is tried again later; when it is back it gets the alert once.
#[test]
fn an_alert_waits_for_a_receiver_that_is_down_and_reaches_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = database(dir.path(), &webhook(port));
    let t0 = at(2026, 11, 29, 14, 27, 0);
    let mut notifier = Notifier::open(&path).unwrap();
    let first = notifier.round(t0).unwrap();
    assert_eq!(first.alerted, 2, "both negatives, not the satisfied one");
    assert_eq!(
        (first.sent, first.failed),
        (0, 1),
        "one alert, not sent: nobody listens"
    );
    assert_eq!(
        first.next_due,
        Some((t0 + backoff(0)).with_timezone(&Utc)),
        "tried again in a minute"
    );
    let mut db = Db::open(&path).unwrap();
    let state = db.queue_state().unwrap();
    assert_eq!(state.waiting, 1);
    let (channel, attempts, error, _) = state.failing.clone().unwrap();
    assert_eq!((channel.as_str(), attempts), ("webhook", 1));
    assert!(!error.is_empty());
    // Not due yet: nothing is tried.
    let early = notifier.round(t0 + chrono::Duration::seconds(30)).unwrap();
    assert_eq!((early.alerted, early.sent, early.failed), (0, 0, 0));
    // The server restarts; the receiver comes back.
    drop(notifier);
    let receiver = Receiver::start(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let mut notifier = Notifier::open(&path).unwrap();
    let later = notifier.round(t0 + chrono::Duration::seconds(61)).unwrap();
    assert_eq!((later.sent, later.failed, later.next_due), (1, 0, None));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert!(
        headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("idempotency-key: hailong-alert-1")),
        "{headers:?}"
    );
    assert_eq!(body["type"], "alert");
    assert_eq!(body["unit"], "UBND xã Tân Phú");
    let ratings = body["ratings"].as_array().unwrap();
    assert_eq!(ratings.len(), 2, "one alert for the batch's two negatives");
    assert_eq!(
        ratings[0]["reasons"],
        serde_json::json!(["late", "long_wait"])
    );
    assert_eq!(ratings[0]["officer"], "Nguyễn Thị Lan");
    let comment = ratings[0]["comment"].as_str().unwrap();
    assert!(
        !comment.contains("0912345678"),
        "masked as on the tablet: {comment}"
    );
    // Nothing is sent twice, however often the rounds run.
    for minutes in [5, 60, 600] {
        let round = notifier
            .round(t0 + chrono::Duration::minutes(minutes))
            .unwrap();
        assert_eq!((round.sent, round.failed), (0, 0));
    }
    assert_eq!(receiver.received().len(), 1);
    let state = db.queue_state().unwrap();
    assert_eq!((state.waiting, state.sent, state.failing), (0, 1, None));

    // With reports on, 1 December brings November's report: its figures and the PDF.
    let mut settings = webhook(port);
    settings.reports = true;
    db.set_notify_settings(&serde_json::to_string(&settings).unwrap())
        .unwrap();
    let december = notifier.round(at(2026, 12, 1, 7, 0, 0)).unwrap();
    assert_eq!(
        (december.reports.clone(), december.sent),
        (vec!["2026-11".to_owned()], 1)
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    let report = &got[1].1;
    assert_eq!(
        (report["type"].as_str(), report["period"].as_str()),
        (Some("report"), Some("2026-11"))
    );
    assert_eq!(
        report["report"]["total"], 3,
        "the month's figures: {report}"
    );
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(report["pdf_base64"].as_str().unwrap())
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

/// Issue 15: an alert by mail through a real SMTP server, its Vietnamese subject MIME-encoded;
/// the month's report on the first day of the next month, once, its PDF attached; after a
/// quarter, the quarter's too. The mail server is down at first and comes back.
#[test]
fn alerts_and_the_months_report_arrive_by_mail_in_vietnamese() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let settings = Settings {
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            username: None,
            password: None,
            from: "hailong@tanphu.gov.vn".into(),
            to: vec![
                "chutich@tanphu.gov.vn".into(),
                "vanphong@tanphu.gov.vn".into(),
            ],
            ca_file: None,
        }),
        ..Settings::default()
    };
    let path = database(dir.path(), &settings);
    let mut notifier = Notifier::open(&path).unwrap();
    let t0 = at(2026, 11, 29, 14, 27, 0);
    // The mail server is down: the alert waits. (The report of October is queued too: the
    // first round after the settings were made sends the month that ended.)
    let down = notifier.round(t0).unwrap();
    assert_eq!(down.reports, ["2026-10"]);
    assert_eq!((down.sent, down.failed), (0, 2));
    let smtpd = Smtpd::start(port, &dir.path().join("maildir"));
    let back = notifier.round(t0 + chrono::Duration::minutes(2)).unwrap();
    assert_eq!((back.sent, back.failed), (2, 0));
    let mails = smtpd.messages();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    // A Maildir keeps no order: each mail is found by what it is.
    let find = |mails: &[serde_json::Value], words: &str| -> serde_json::Value {
        let found: Vec<&serde_json::Value> = mails
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().contains(words))
            .collect();
        assert_eq!(found.len(), 1, "one mail about {words:?}: {mails:#?}");
        found[0].clone()
    };
    let alert = &find(&mails, "không hài lòng –");
    assert_eq!(
        alert["subject"],
        "[Hài Lòng] 2 đánh giá không hài lòng – UBND xã Tân Phú"
    );
    let raw = alert["raw_subject"].as_str().unwrap();
    assert!(
        raw.to_ascii_lowercase().contains("=?utf-8?"),
        "MIME-encoded: {raw}"
    );
    assert!(
        alert["to"]
            .as_str()
            .unwrap()
            .contains("vanphong@tanphu.gov.vn")
    );
    let body = alert["body"].as_str().unwrap();
    for said in [
        "Có 2 đánh giá không hài lòng:",
        "14:26 29/11/2026 – Không hài lòng",
        "Lý do: Trả kết quả trễ hẹn; Phải chờ đợi lâu",
        "Cán bộ: Nguyễn Thị Lan – Quầy 1",
        "Hồ sơ: 000.00.14.H56-261128-0017 (1.001193 – Đăng ký khai sinh)",
        "Lý do: Thái độ cán bộ chưa tốt",
    ] {
        assert!(body.contains(said), "{said:?} in {body}");
    }
    assert!(!body.contains("0912345678"), "{body}");

    // 1 December: November's report, once.
    let december = at(2026, 12, 1, 7, 0, 0);
    let round = notifier.round(december).unwrap();
    assert_eq!(
        (round.reports.clone(), round.sent),
        (vec!["2026-11".to_owned()], 1)
    );
    assert_eq!(
        notifier
            .round(december + chrono::Duration::hours(3))
            .unwrap()
            .reports
            .len(),
        0
    );
    let mails = smtpd.messages();
    assert_eq!(mails.len(), 3);
    let report = &find(&mails, "Tháng 11");
    assert_eq!(
        report["subject"],
        "[Hài Lòng] Báo cáo Tháng 11 năm 2026 – UBND xã Tân Phú"
    );
    assert!(
        report["body"]
            .as_str()
            .unwrap()
            .contains("Số phiếu đánh giá: 3"),
        "{report}"
    );
    let attachment = &report["attachments"][0];
    assert_eq!(attachment["name"], "hailong-2026-11.pdf");
    assert_eq!(attachment["type"], "application/pdf");
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(attachment["data"].as_str().unwrap())
        .unwrap();
    let file = dir.path().join("attached.pdf");
    std::fs::write(&file, pdf).unwrap();
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian: poppler-utils)");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"),
        "{text}"
    );
    assert!(text.contains("UBND XÃ TÂN PHÚ"), "{text}");
    // 1 January: December's report and the fourth quarter's.
    let january = notifier.round(at(2027, 1, 1, 7, 0, 0)).unwrap();
    assert_eq!(january.reports, ["2026-12", "2026-Q4"]);
    assert_eq!(january.sent, 2);
}

/// Issue 15: mail over STARTTLS, to a mail server whose certificate the commune's own CA signed
/// (`notify smtp --ca-file`). With an unrelated CA the server is refused and the alert waits.
#[test]
fn mail_goes_over_starttls_only_to_a_server_the_communes_ca_vouches_for() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificate_authority(dir.path(), "tanphu");
    let (other_ca, _, _) = certificate_authority(dir.path(), "other");
    let port = free_port();
    let smtpd = Smtpd::start_with(
        port,
        &dir.path().join("maildir"),
        &[Path::new("--tlscert"), &cert, Path::new("--tlskey"), &key],
    );
    let smtp = |ca_file: &Path| Settings {
        smtp: Some(Smtp {
            host: "127.0.0.1".into(),
            port,
            security: Security::Starttls,
            username: None,
            password: None,
            from: "hailong@tanphu.gov.vn".into(),
            to: vec!["chutich@tanphu.gov.vn".into()],
            ca_file: Some(ca_file.display().to_string()),
        }),
        reports: false,
        ..Settings::default()
    };
    let path = database(dir.path(), &smtp(&other_ca));
    let mut notifier = Notifier::open(&path).unwrap();
    let t0 = at(2026, 11, 29, 14, 27, 0);
    let refused = notifier.round(t0).unwrap();
    assert_eq!(
        (refused.sent, refused.failed),
        (0, 1),
        "an unknown CA is refused"
    );
    let (_, _, error, _) = Db::open(&path)
        .unwrap()
        .queue_state()
        .unwrap()
        .failing
        .unwrap();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert!(smtpd.messages().is_empty());
    let mut db = Db::open(&path).unwrap();
    db.set_notify_settings(&serde_json::to_string(&smtp(&ca)).unwrap())
        .unwrap();
    let trusted = notifier.round(t0 + chrono::Duration::minutes(2)).unwrap();
    assert_eq!((trusted.sent, trusted.failed), (1, 0));
    let mails = smtpd.messages();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0]["body"]
            .as_str()
            .unwrap()
            .contains("Có 2 đánh giá không hài lòng:")
    );
}
