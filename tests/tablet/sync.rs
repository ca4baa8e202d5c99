//! The tablet's `pair` and `sync --once` against the real server (in-process) on a loopback
//! port: every rating reaches the server once, and failures say so with the right status.

use crate::binary::{hailong, ids, ok, send_through, texts};
use crate::proxy::{Fault, Proxy};
use crate::running::RunningServer;
use hailong::sync::BATCH;
use std::path::Path;

fn start_server(dir: &Path) -> RunningServer {
    RunningServer::start(&dir.join("server.db"))
}

/// A demo tablet of `count` ratings over five days in `root/tablet`, paired with a new server.
fn paired_demo_tablet(root: &Path, count: u32) -> (std::path::PathBuf, RunningServer) {
    let tablet = root.join("tablet");
    let count = count.to_string();
    ok(&hailong(
        &tablet,
        &["demo", "--count", &count, "--days", "5"],
    ));
    let server = start_server(root);
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    (tablet, server)
}

/// The same, synced to its server.
fn synced_demo_tablet(root: &Path, count: u32) -> (std::path::PathBuf, RunningServer) {
    let (tablet, server) = paired_demo_tablet(root, count);
    ok(&hailong(&tablet, &["sync", "--once"]));
    (tablet, server)
}

/// `GET path` with a bearer token, over a plain socket; the JSON body of a 200 answer.
fn get_json(url: &str, path: &str, token: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).unwrap()
}

/// Adds `count` misuse presses to a tablet's database.
fn add_misuse(tablet: &Path, count: usize) {
    let conn = rusqlite::Connection::open(tablet.join("hailong.db")).unwrap();
    for _ in 0..count {
        conn.execute(
            "INSERT INTO misuse (id, recorded_at, local_date)
             VALUES (?1, '2026-11-23T08:00:00+07:00', '2026-11-23')",
            [uuid::Uuid::now_v7().to_string()],
        )
        .unwrap();
    }
}

#[test]
fn misuse_presses_outlasting_the_ratings_all_go_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (tablet, server) = paired_demo_tablet(dir.path(), 100);
    // Three batches' worth of presses, and ratings for one: the presses go on alone.
    add_misuse(&tablet, 1_200);
    ok(&hailong(&tablet, &["sync", "--once"]));
    let count = |db: &Path, sql: &str| crate::binary::one(db, sql);
    let on_tablet = count(&tablet.join("hailong.db"), "SELECT count(*) FROM misuse");
    assert!(on_tablet >= 1_200);
    assert_eq!(
        count(&server.db, "SELECT count(*) FROM misuse"),
        on_tablet,
        "every press reached the server in the one pass"
    );
    assert_eq!(
        count(
            &tablet.join("hailong.db"),
            "SELECT count(*) FROM misuse WHERE sent = 0"
        ),
        0
    );
    assert_eq!(ids(&server.db).len(), 100);
}

#[test]
fn twenty_thousand_demo_ratings_reach_the_server_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "20000", "--days", "30"],
    ));
    // More misuse presses than a batch carries: they go over several batches, while the
    // ratings' batches follow each other.
    add_misuse(&tablet, 1_200);
    let server = start_server(dir.path());

    let out = hailong(&tablet, &["sync", "--once"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "not paired yet is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("hailong pair"));

    let code = server.pairing_code("Quầy 1");
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
    // The same code again from this tablet (its answer lost, say): the same device, no
    // second one.
    let link = std::fs::read_to_string(tablet.join("server.json")).unwrap();
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    let again = std::fs::read_to_string(tablet.join("server.json")).unwrap();
    let device =
        |link: &str| serde_json::from_str::<serde_json::Value>(link).unwrap()["device_id"].clone();
    assert_eq!(device(&again), device(&link));
    assert_eq!(
        crate::binary::one(&server.db, "SELECT count(*) FROM devices"),
        1
    );

    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 20000 ratings"), "{out}");
    let tablet_ids = ids(&tablet.join("hailong.db"));
    assert_eq!(tablet_ids.len(), 20000);
    assert_eq!(ids(&server.db), tablet_ids);
    // While the tablet reads and marks around a batch in flight, the server still takes its
    // ratings in their order: its receipts follow the tablet's sequence.
    assert_eq!(
        texts(&server.db, "SELECT id FROM ratings ORDER BY receipt"),
        texts(
            &tablet.join("hailong.db"),
            "SELECT id FROM ratings ORDER BY seq"
        )
    );

    // The commune's summary over this one tablet is the tablet's own, misuse presses included.
    let period = ["--from", "2020-01-01", "--to", "2030-12-31"];
    let tablet_summary: serde_json::Value = serde_json::from_str(&ok(&hailong(
        &tablet,
        &[
            "summary", "--json", period[0], period[1], period[2], period[3],
        ],
    )))
    .unwrap();
    let admin = server.last_line(&["admin-token"]);
    let server_summary = get_json(
        &server.url,
        "/api/v1/summary?from=2020-01-01&to=2030-12-31",
        &admin,
    );
    assert!(
        tablet_summary["misuse"].as_u64().unwrap() > 1_200,
        "the demo's misuse presses and those added"
    );
    for key in [
        "total",
        "levels",
        "satisfied_pct",
        "unrated",
        "repeat_dossier",
        "misuse",
    ] {
        assert_eq!(
            server_summary[key], tablet_summary[key],
            "{key}: server {server_summary} tablet {tablet_summary}"
        );
    }
    assert_eq!(
        server_summary["by_device"][0]["misuse"],
        tablet_summary["misuse"]
    );

    // Nothing left: a second pass sends nothing and still succeeds.
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 0 ratings"), "{out}");
    assert_eq!(ids(&server.db).len(), 20000);
}

#[test]
fn with_a_backlog_two_batches_are_at_the_server_at_once_and_land_in_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let count = 5 * BATCH;
    let (tablet, server) = paired_demo_tablet(dir.path(), count as u32);
    // Each answer after the first waits for the next batch to be asked: a tablet with one
    // batch out at a time would wait out every one of them.
    let proxy = Proxy::start(
        server.listen_address().parse().unwrap(),
        Fault::AnswerOnceAskedAgain,
        0,
    );
    send_through(&tablet, &proxy.url);
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains(&format!("sent {count} ratings")), "{out}");
    assert_eq!(
        proxy.faults(),
        1,
        "only the pass's last answer had no batch after it to wait for"
    );
    assert_eq!(
        texts(&server.db, "SELECT id FROM ratings ORDER BY receipt"),
        texts(
            &tablet.join("hailong.db"),
            "SELECT id FROM ratings ORDER BY seq"
        ),
        "taken in the tablet's order"
    );
}

#[test]
fn ratings_with_the_longest_comments_go_in_batches_the_server_takes() {
    use hailong::store::{NewRating, Store};
    use hailong_core::level::{Level, Scale};
    use hailong_core::rating::Outcome;
    use hailong_core::reason::Reason;
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(&tablet, &["demo", "--count", "1", "--days", "1"]));
    // 600 unhappy citizens each writing all a comment may hold, about a procedure with the
    // longest name and field a catalogue may give, at a counter and with an officer with the
    // longest names: 500 of them make a request of over 1 MiB, more than the server takes.
    let longest = |text: &str, chars: usize| -> String {
        text.repeat(chars)
            .chars()
            .take(chars)
            .collect::<String>()
            .trim_end()
            .to_owned()
    };
    let comment = longest(
        "Chờ đợi quá lâu, cán bộ hướng dẫn chưa rõ ràng, phải bổ sung giấy tờ nhiều lần. ",
        hailong_core::wire::MAX_COMMENT_CHARS,
    );
    let procedure = hailong_core::procedure::Procedure {
        code: "1.001193".into(),
        name: longest(
            "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan cấp; ",
            300,
        ),
        field_name: longest("Chứng thực, hộ tịch, đất đai, xây dựng, lao động; ", 300),
        field_code: "CT".into(),
    };
    let officer = hailong_core::rating::OfficerRef {
        id: 1,
        name: longest(
            "Nguyễn Thị Hồng Nhung, Trần Thị Mỹ Lệ, Phạm Ngọc Tường Vy; ",
            300,
        ),
    };
    let counter = longest(
        "Quầy tiếp nhận và trả kết quả hồ sơ đất đai, xây dựng; ",
        300,
    );
    let bytes = comment.len()
        + procedure.name.len()
        + procedure.field_name.len()
        + officer.name.len()
        + counter.len();
    assert!(hailong::sync::BATCH * bytes > hailong_core::wire::MAX_BATCH_BYTES);
    let mut store = Store::open(&tablet.join("hailong.db")).unwrap();
    for _ in 0..600 {
        let id = store
            .record(&NewRating {
                at: chrono::Local::now().fixed_offset(),
                scale: Scale::Three,
                outcome: Outcome::Rated(Level::Unsatisfied),
                dossier: None,
                procedure: Some(&procedure),
                officer: Some(&officer),
                counter: &counter,
                finished: false,
            })
            .unwrap()
            .id;
        store
            .amend_reasons(&id, &[Reason::LongWait], Some(&comment), true)
            .unwrap();
    }
    drop(store);
    let server = start_server(dir.path());
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 601 ratings"), "{out}");
    assert_eq!(ids(&server.db), ids(&tablet.join("hailong.db")));
    assert_eq!(
        crate::binary::one(
            &server.db,
            &format!("SELECT count(*) FROM ratings WHERE comment = '{comment}'")
        ),
        600,
        "every comment arrived whole"
    );
}

#[test]
fn a_server_that_cannot_be_reached_leaves_the_queue_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(&tablet, &["demo", "--count", "50", "--days", "2"]));
    let server = start_server(dir.path());
    let code = server.pairing_code("Quầy 1");
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

    let missing = dir.path().join("no-such-ca.pem");
    let out = hailong(
        &tablet,
        &[
            "pair",
            "--server",
            "https://example.invalid",
            "--code",
            "X",
            "--ca-file",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CA certificate"));
}

#[test]
fn ratings_sent_but_not_marked_before_a_crash_are_resent_as_duplicates_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let (tablet, server) = synced_demo_tablet(dir.path(), 1000);
    // As if the tablet died after the server committed but before it marked the last batches.
    let conn = rusqlite::Connection::open(tablet.join("hailong.db")).unwrap();
    let unmarked = conn
        .execute(
            "INSERT INTO outbox SELECT seq FROM sent WHERE seq > (SELECT max(seq) - 450 FROM sent)",
            [],
        )
        .unwrap();
    assert_eq!(unmarked, 450);
    conn.execute("DELETE FROM sent WHERE seq IN (SELECT seq FROM outbox)", [])
        .unwrap();
    drop(conn);
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 450 ratings"), "{out}");
    let tablet_ids = ids(&tablet.join("hailong.db"));
    assert_eq!(
        ids(&server.db),
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

/// A commune CA, and a certificate for `localhost` it signed: (ca.pem, server.pem, server.key).
fn commune_ca(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "UBND xã Tân Lập – CA nội bộ");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, server.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// `hailong pair --invite` with the invitation for `server`'s newest code and `ca`.
fn pair_by_invite(
    tablet: &Path,
    server: &RunningServer,
    ca: hailong_core::invite::Fingerprint,
) -> std::process::Output {
    let code = server.pairing_code("Quầy 1");
    let invite = hailong_core::invite::Invite::new(&server.url, &code, Some(ca)).unwrap();
    hailong(tablet, &["pair", "--invite", &invite.to_string()])
}

#[test]
fn an_invitation_pins_the_commune_ca_and_a_server_another_ca_vouches_for_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "120", "--days", "2"],
    ));
    let today = chrono::Local::now().date_naive();
    let made =
        hailong_server::commune_ca::init(&dir.path().join("tls"), &["localhost".into()], today)
            .unwrap();
    let files = &made.files;
    let https = |db: &str, cert: &Path, key: &Path| {
        RunningServer::start_with(
            &dir.path().join(db),
            "127.0.0.1:0",
            &[
                "--tls-cert".as_ref(),
                cert.as_os_str(),
                "--tls-key".as_ref(),
                key.as_os_str(),
                "--tls-ca".as_ref(),
                files.ca.as_os_str(),
            ],
        )
    };
    let server = https("server.db", &files.cert, &files.key);
    let devices = |server: &RunningServer| {
        rusqlite::Connection::open(&server.db)
            .unwrap()
            .query_row("SELECT count(*) FROM devices", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };

    // An invitation with another fingerprint (mistyped, or from another commune): refused
    // before the code leaves the tablet.
    let wrong = pair_by_invite(&tablet, &server, hailong_core::invite::Fingerprint([7; 32]));
    assert_eq!(wrong.status.code(), Some(1));
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("not the one in the invitation"), "{said}");
    assert_eq!(devices(&server), 0);

    // A machine on the LAN that hands out the commune's CA but holds a certificate another CA
    // signed: the code is never sent to it.
    std::fs::create_dir(dir.path().join("other")).unwrap();
    let (_, other_cert, other_key) = commune_ca(&dir.path().join("other"));
    let impostor = https("impostor.db", &other_cert, &other_key);
    let refused = pair_by_invite(&tablet, &impostor, made.fingerprint);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("cannot be reached"), "{said}");
    assert_eq!(devices(&impostor), 0);
    assert!(
        !tablet.join("server.json").exists(),
        "nothing is kept from a failed pairing"
    );

    // The right invitation: paired, the CA pinned, every rating sent over it.
    let paired = ok(&pair_by_invite(&tablet, &server, made.fingerprint));
    assert!(paired.contains("pinned"), "{paired}");
    let link: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tablet.join("server.json")).unwrap()).unwrap();
    assert_eq!(
        link["ca_pem"].as_str().map(str::as_bytes),
        Some(std::fs::read(&files.ca).unwrap().as_slice())
    );
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 120 ratings"), "{out}");
    assert_eq!(ids(&server.db), ids(&tablet.join("hailong.db")));

    // A broken invitation is a usage error, said as such.
    let broken = hailong(&tablet, &["pair", "--invite", "hailong:pair?code=ABC"]);
    assert_eq!(broken.status.code(), Some(2));
}

#[test]
fn over_https_the_tablet_trusts_the_commune_ca_it_is_given_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "300", "--days", "2"],
    ));
    let (ca, cert, key) = commune_ca(dir.path());
    let server = RunningServer::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &[
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
            "--tls-handshake-timeout".as_ref(),
            "2s".as_ref(),
        ],
    );
    assert!(
        server.url.starts_with("https://localhost:"),
        "{}",
        server.url
    );
    let code = server.pairing_code("Quầy 1");

    // Without the commune's CA the certificate is not trusted, and the code is not spent.
    let out = hailong(&tablet, &["pair", "--server", &server.url, "--code", &code]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot be reached"), "{stderr}");
    // Plain HTTP to the HTTPS port gets no answer either.
    let plain = server.url.replace("https://", "http://");
    let out = hailong(&tablet, &["pair", "--server", &plain, "--code", &code]);
    assert_eq!(out.status.code(), Some(1));

    let paired = hailong(
        &tablet,
        &[
            "pair",
            "--server",
            &server.url,
            "--code",
            &code,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
    );
    ok(&paired);
    let warnings = String::from_utf8_lossy(&paired.stderr);
    assert!(!warnings.contains("plain HTTP"), "{warnings}");
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 300 ratings"), "{out}");
    assert_eq!(ids(&server.db), ids(&tablet.join("hailong.db")));

    // Over HTTPS a browser is told to keep to HTTPS; a handshake never begun is cut off.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusting = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let answer = trusting
        .get(format!("{}/healthz", server.url))
        .send()
        .unwrap();
    assert_eq!(
        answer.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    let mut silent = std::net::TcpStream::connect(server.listen_address()).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut said = Vec::new();
    let closed = std::io::Read::read_to_end(&mut silent, &mut said);
    assert!(
        closed.is_ok() || closed.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the server closed a connection that never began its handshake"
    );

    // Over HTTPS too, SIGTERM stops it cleanly.
    let mut server = server;
    let log = server.stop();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
}

/// Taps `count` finished ratings into the tablet's database, as the kiosk would.
fn tap(tablet: &Path, count: u32) {
    use hailong::store::{NewRating, Store};
    use hailong_core::level::{Level, Scale};
    use hailong_core::rating::Outcome;
    let mut store = Store::open(&tablet.join("hailong.db")).unwrap();
    let levels = [Level::VerySatisfied, Level::Satisfied, Level::Unsatisfied];
    for n in 0..count {
        store
            .record(&NewRating {
                at: chrono::Local::now().fixed_offset(),
                scale: Scale::Three,
                outcome: Outcome::Rated(levels[n as usize % 3]),
                dossier: None,
                procedure: None,
                officer: None,
                counter: "Quầy 1",
                finished: true,
            })
            .unwrap();
    }
}

#[test]
fn after_a_restore_from_an_older_backup_one_sync_brings_every_rating_back_once() {
    let dir = tempfile::tempdir().unwrap();
    let (tablet, server) = synced_demo_tablet(dir.path(), 3000);

    // Yesterday's backup; then a day of ratings the restored server will not have.
    let backup = dir.path().join("yesterday.db");
    server.command(&["backup", "--out", backup.to_str().unwrap()]);
    tap(&tablet, 500);
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 500 ratings"), "{out}");
    let everything = ids(&tablet.join("hailong.db"));
    assert_eq!(ids(&server.db), everything);

    // The server's disk is replaced by yesterday's backup.
    let server = server.restored_from(&backup);
    assert_eq!(ids(&server.db).len(), everything.len() - 500);

    // One sync: the tablet learns what the server lost and sends it again, in the same pass.
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 500 ratings"), "{out}");
    assert_eq!(ids(&server.db), everything, "every rating is back");
    let admin = server.last_line(&["admin-token"]);
    let server_summary = get_json(
        &server.url,
        "/api/v1/summary?from=2020-01-01&to=2030-12-31",
        &admin,
    );
    let tablet_summary: serde_json::Value = serde_json::from_str(&ok(&hailong(
        &tablet,
        &[
            "summary",
            "--json",
            "--from",
            "2020-01-01",
            "--to",
            "2030-12-31",
        ],
    )))
    .unwrap();
    for key in ["total", "levels", "unrated", "repeat_dossier"] {
        assert_eq!(
            server_summary[key], tablet_summary[key],
            "{key}: none counted twice"
        );
    }
    // And nothing more: the next sync sends nothing again.
    let out = ok(&hailong(&tablet, &["sync", "--once"]));
    assert!(out.contains("sent 0 ratings"), "{out}");
    assert_eq!(ids(&server.db), everything);
}

#[test]
fn a_pairing_whose_answer_was_lost_pairs_again_with_the_same_code_as_the_same_tablet() {
    use crate::binary::one;
    use crate::proxy::{Fault, Proxy};
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    ok(&hailong(&tablet, &["demo", "--count", "3", "--days", "1"]));
    let server = start_server(dir.path());
    let code = server.pairing_code("Quầy 1");
    // A proxy whose first connection swallows its first answer: the server pairs the tablet,
    // the tablet never hears so.
    let seed = (0..)
        .find(|s| StdRng::seed_from_u64(*s).random_range(1..=3) == 1)
        .unwrap();
    let address = server.listen_address().parse().unwrap();
    let proxy = Proxy::start(address, Fault::DropResponses, seed);
    let lost = hailong(&tablet, &["pair", "--server", &proxy.url, "--code", &code]);
    assert!(!lost.status.success(), "{lost:?}");
    assert_eq!(proxy.faults(), 1);
    assert_eq!(one(&server.db, "SELECT count(*) FROM devices"), 1);
    // The same code again, straight: the same device, not a second one, and it syncs.
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    assert_eq!(one(&server.db, "SELECT count(*) FROM devices"), 1);
    ok(&hailong(&tablet, &["sync", "--once"]));
    assert_eq!(one(&server.db, "SELECT count(*) FROM ratings"), 3);
}
