//! Alerts through the real server: configured with `hailong-server notify`, a negative rating
//! sent by a tablet reaches a webhook on its own, from the writer's commit through the
//! notifier's thread; the dashboard's tablets page says how the queue stands. Settings that
//! cannot work are refused with exit code 2 and the reason.

use crate::api::{Server, id, rating};
use crate::dashboard::{PASSWORD, get, sign_in};
use crate::http::cookie_from;
use crate::receiver::Receiver;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
pub(crate) fn a_negative_rating_reaches_the_webhook_by_itself_and_the_dashboard_says_so() {
    let server = Server::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hailong", listener.local_addr().unwrap());
    let receiver = Receiver::start(listener);
    // Reports off before there is a channel: the running server's first round may come at any
    // moment, and with a channel and reports on it would send last month's report.
    server.cli(&["notify", "options", "--reports", "off"]);
    let said = server.cli(&["notify", "webhook", "--url", &url]);
    assert!(said.contains(&url), "{said}");
    let token = server.device("Quầy 1");
    let mut unhappy = rating(&id(1), "unsatisfied");
    unhappy["reasons"] = serde_json::json!(["long_wait"]);
    assert_eq!(
        server.statuses(&token, vec![unhappy, rating(&id(2), "satisfied")]),
        ["accepted", "accepted"]
    );
    // The alert comes on its own: nobody asks for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.received().is_empty() {
        assert!(Instant::now() < deadline, "no alert reached the webhook");
        std::thread::sleep(Duration::from_millis(20));
    }
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let ratings = got[0].1["ratings"].as_array().unwrap().clone();
    assert_eq!(ratings.len(), 1, "the negative one only");
    assert_eq!(ratings[0]["id"], id(1).as_str());
    assert_eq!(ratings[0]["reasons"], serde_json::json!(["long_wait"]));

    // The tablets page: sent through the webhook, nothing waiting.
    assert!(server.running.add_user("lan", PASSWORD).status.success());
    let signed_in = sign_in(&server.running, "lan", PASSWORD);
    let cookie = cookie_from(signed_in.headers()["set-cookie"].to_str().unwrap());
    let page = get(&server.running, "/devices", Some(&cookie))
        .text()
        .unwrap();
    assert!(page.contains("id=\"notifications-channels\""), "{page}");
    // Backups: off here, or PostgreSQL's own business.
    let backups = match server.running.postgres {
        Some(_) => "id=\"backups-database-server\"",
        None => "id=\"backups-off\"",
    };
    assert!(page.contains(backups), "{page}");
    assert!(
        page.contains("<strong id=\"notifications-waiting\">0</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<strong id=\"notifications-sent\">1</strong>"),
        "{page}"
    );
    let shown = server.cli(&["notify", "show"]);
    assert!(shown.contains("waiting: 0, sent: 1"), "{shown}");
}

#[test]
pub(crate) fn notify_settings_that_cannot_work_are_refused_with_the_reason() {
    let server = Server::start();
    // The real binary, on the server's database (a file, or PostgreSQL by its address).
    let database: [std::ffi::OsString; 2] = match &server.running.postgres {
        Some(url) => ["--database".into(), url.into()],
        None => ["--db".into(), server.running.db.clone().into()],
    };
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hailong-server"))
            .args(args)
            .args(&database)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &[
                "notify",
                "smtp",
                "--host",
                "smtp.tanphu.vn",
                "--from",
                "không phải địa chỉ",
                "--to",
                "a@tanphu.vn",
            ],
            "",
            "is not an e-mail address",
        ),
        (
            &[
                "notify",
                "smtp",
                "--host",
                "smtp.tanphu.vn",
                "--security",
                "none",
                "--user",
                "ubnd",
                "--from",
                "a@tanphu.vn",
                "--to",
                "b@tanphu.vn",
            ],
            "mật khẩu\n",
            "never sent over an unencrypted connection",
        ),
        (
            &["notify", "webhook", "--url", "ftp://tanphu.vn/x"],
            "",
            "is not a webhook address",
        ),
        (&["notify", "test"], "", "no channel is set"),
    ];
    for (args, stdin, message) in cases {
        let out = run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // A mail server with a password: kept, and never shown.
    let out = run(
        &[
            "notify",
            "smtp",
            "--host",
            "smtp.tanphu.vn",
            "--user",
            "ubnd",
            "--from",
            "a@tanphu.vn",
            "--to",
            "b@tanphu.vn",
        ],
        "bí mật\n",
    );
    assert!(out.status.success(), "{out:?}");
    let shown = server.cli(&["notify", "show"]);
    assert!(
        shown.contains("\"port\": 587") && shown.contains("(set)"),
        "{shown}"
    );
    assert!(!shown.contains("bí mật"), "{shown}");
}
