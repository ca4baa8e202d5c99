//! The administrator's server tab through Slint's testing backend, with the kiosk's real
//! background sender and the real `hailong-server` on a loopback port: pairing from the
//! screen, the queue emptying, failures in words, "send now", refused ratings listed.

use crate::running::RunningServer;
use crate::support::{Harness, Tablet, wait};
use hailong::settings::Lang;
use hailong::sync::SyncStatus;
use hailong::ui::Screen;
use hailong_core::level::Scale;
use slint::Model;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// Starts the kiosk's sender with its reports coming back to this (the UI) thread.
fn start_sync(h: &Harness) -> Receiver<SyncStatus> {
    let (tx, rx) = channel();
    h.kiosk
        .start_sync_reporting(move |status| {
            let _ = tx.send(status);
        })
        .unwrap();
    rx
}

/// Shows each report on screen, as the event loop would, until one satisfies `wanted`. The
/// deadline only stops a broken test from hanging.
fn show_until(
    h: &Harness,
    reports: &Receiver<SyncStatus>,
    what: &str,
    wanted: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
    loop {
        let status = reports
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("no report where {what}: {e}"));
        h.kiosk.show_sync(&status);
        if wanted(&status) {
            return status;
        }
    }
}

fn settled(queued: u64) -> impl Fn(&SyncStatus) -> bool {
    move |s| !s.sending && s.counts.queued == queued && s.pairing == hailong::sync::Pairing::Idle
}

fn open_server_tab(h: &Harness) {
    if h.screen() != Screen::Admin {
        h.sign_in_as_admin();
    }
    h.tap("admin-tab-server");
    assert_eq!(h.screen(), Screen::Admin);
}

fn tap_ratings(h: &Harness, n: usize) {
    for _ in 0..n {
        h.tap("level-very_satisfied");
        wait(Duration::from_secs(10));
    }
}

fn server_count(server: &RunningServer) -> i64 {
    rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_administrator_pairs_on_the_screen_and_follows_the_queue_through_an_outage() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    tap_ratings(&h, 3);
    let server = RunningServer::start(&h.tablet.dir.path().join("server.db"));
    let reports = start_sync(&h);
    show_until(&h, &reports, "three wait, unpaired", settled(3));

    open_server_tab(&h);
    assert_eq!(h.admin().get_server_address(), "");
    assert_eq!(h.admin().get_queued(), 3);
    assert!(h.find("server-link").is_some());
    assert!(h.find("server-send-now").is_none(), "nothing to send to");
    assert!(h.find("server-plain-http").is_none());
    let submit = h.find("pair-submit").unwrap();
    assert_eq!(
        submit.accessible_enabled(),
        Some(false),
        "no address or code yet"
    );

    // A wrong code is refused in words; the queue stays.
    h.fill("pair-address", &server.url);
    h.fill("pair-code", "WRONGCODE2");
    h.tap("pair-submit");
    assert_eq!(h.admin().get_pairing(), "working");
    show_until(&h, &reports, "the pairing failed", |s| {
        matches!(s.pairing, hailong::sync::Pairing::Failed(_))
    });
    assert_eq!(h.admin().get_pairing(), "unauthorised");
    assert!(h.find("pair-result").is_some());
    assert_eq!(server_count(&server), 0);

    // The right code pairs; the three ratings go at once.
    let code = server.pairing_code("Quầy 1");
    h.fill("pair-code", &code);
    h.tap("pair-submit");
    show_until(&h, &reports, "all sent", settled(0));
    assert_eq!(h.admin().get_pairing(), "paired");
    assert_eq!(h.admin().get_pair_code(), "", "the used code is cleared");
    assert_eq!(h.admin().get_server_address(), server.url.as_str());
    assert_eq!(h.admin().get_queued(), 0);
    assert_eq!(h.admin().get_last_success(), "09:00 23/11/2026");
    assert!(
        h.find("server-plain-http").is_some(),
        "http:// is warned about"
    );
    assert!(h.find("server-error").is_none());
    assert_eq!(server_count(&server), 3);

    // The server goes away; a new tap waits, and the tab says why and when it tries again.
    let mut server = server;
    server.kill();
    h.tap("admin-close");
    assert_eq!(h.screen(), Screen::Citizen);
    tap_ratings(&h, 1);
    show_until(&h, &reports, "a try failed", |s| s.retry_at.is_some());
    open_server_tab(&h);
    assert_eq!(h.admin().get_sync_error(), "unreachable");
    assert_eq!(h.admin().get_queued(), 1);
    assert_ne!(h.admin().get_retry_at(), "");
    assert!(h.find("server-error").is_some());
    assert_eq!(
        h.admin().get_last_success(),
        "09:00 23/11/2026",
        "the last success still shows"
    );

    // Back again: "send now" does not wait for the backoff.
    let server = server.restart();
    h.tap("server-send-now");
    show_until(&h, &reports, "the tap is sent", settled(0));
    assert_eq!(h.admin().get_sync_error(), "");
    assert_eq!(h.admin().get_retry_at(), "");
    assert!(h.find("server-error").is_none());
    assert_eq!(server_count(&server), 4);

    // The commune revokes the tablet: the tab says so and names no next try; the tap waits.
    let device: String = rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT id FROM devices", [], |r| r.get(0))
        .unwrap();
    server.command(&["revoke", &device]);
    h.tap("admin-close");
    tap_ratings(&h, 1);
    show_until(&h, &reports, "the server refuses the tablet", |s| s.refused);
    open_server_tab(&h);
    assert_eq!(h.admin().get_sync_error(), "unauthorised");
    assert_eq!(h.admin().get_retry_at(), "", "no next try");
    assert_eq!(h.admin().get_queued(), 1);
    assert!(h.find("server-error").is_some());
    assert_eq!(server_count(&server), 4);
}

#[test]
fn ratings_the_server_refuses_are_listed_with_the_reason_and_never_sent_again() {
    let h = Tablet::new(Scale::Three, Lang::En).start(1280., 800.);
    tap_ratings(&h, 2);
    // A rating damaged on the tablet: a reason code no version knows. It does not hold up the
    // others: it is refused on the tablet with the code the server would give, kept, listed.
    let conn = rusqlite::Connection::open(h.tablet.data.database()).unwrap();
    conn.execute(
        "UPDATE ratings SET outcome = 'unsatisfied', reasons = 'rude'
         WHERE seq = (SELECT min(seq) FROM ratings)",
        [],
    )
    .unwrap();
    let server = RunningServer::start(&h.tablet.dir.path().join("server.db"));
    let code = server.pairing_code("Quầy 1");
    let reports = start_sync(&h);
    open_server_tab(&h);
    h.fill("pair-address", &server.url);
    h.fill("pair-code", &code);
    h.tap("pair-submit");
    show_until(&h, &reports, "all handled", |s| {
        settled(0)(s) && s.counts.rejected == 1
    });
    assert_eq!(h.admin().get_rejected_count(), 1);
    let rows = h.admin().get_rejected();
    assert_eq!(rows.row_count(), 1);
    let row = rows.row_data(0).unwrap();
    assert_eq!(row.error, "bad_reason");
    assert_eq!(row.level, "unsatisfied");
    assert_eq!(
        h.find("server-rejected-0")
            .and_then(|e| e.accessible_label())
            .as_deref(),
        Some("bad_reason")
    );
    assert!(h.find("server-rejected-count").is_some());
    assert_eq!(server_count(&server), 1);

    // Another pass sends nothing: the refused one stays here.
    h.tap("server-send-now");
    let again = show_until(&h, &reports, "the pass ended", settled(0));
    assert_eq!(again.counts.rejected, 1);
    let outbox = h.store().outbox(0, 10).unwrap();
    assert!(outbox.is_empty(), "{outbox:?}");
    assert_eq!(server_count(&server), 1);
}

#[test]
fn a_scanned_invitation_pairs_in_one_step_and_pins_the_commune_ca() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    tap_ratings(&h, 2);
    let tls = h.tablet.dir.path().join("tls");
    let today = chrono::Local::now().date_naive();
    let made = hailong_server::commune_ca::init(&tls, &["localhost".into()], today).unwrap();
    let server = RunningServer::start_with(
        &h.tablet.dir.path().join("server.db"),
        "127.0.0.1:0",
        &[
            "--tls-cert".as_ref(),
            made.files.cert.as_os_str(),
            "--tls-key".as_ref(),
            made.files.key.as_os_str(),
            "--tls-ca".as_ref(),
            made.files.ca.as_os_str(),
        ],
    );
    let reports = start_sync(&h);
    open_server_tab(&h);
    let invitation = |fingerprint| {
        hailong_core::invite::Invite::new(
            &server.url,
            &server.pairing_code("Quầy 1"),
            Some(fingerprint),
        )
        .unwrap()
        .to_string()
    };

    // A half-read QR code (the scanner moved): said in words, nothing sent.
    h.tap("pair-code");
    h.scan("hailong:pair?server=https%3A%2F%2Floc");
    assert_eq!(h.admin().get_pairing(), "bad_invite");
    assert!(h.find("pair-result").is_some());
    assert_eq!(server_count(&server), 0);

    // An invitation whose fingerprint is not this server's CA: refused before the code goes.
    h.fill("pair-code", "");
    h.tap("pair-code");
    h.scan(&invitation(hailong_core::invite::Fingerprint([1; 32])));
    show_until(&h, &reports, "the pairing failed", |s| {
        matches!(s.pairing, hailong::sync::Pairing::Failed(_))
    });
    assert_eq!(h.admin().get_pairing(), "ca_mismatch");

    // The right one, scanned into the code field (no address typed): paired, CA pinned, sent.
    h.fill("pair-code", "");
    h.tap("pair-code");
    h.scan(&invitation(made.fingerprint));
    assert_eq!(h.admin().get_pair_address(), server.url.as_str());
    assert!(
        h.find("pair-pinned").is_some(),
        "the screen says the CA is pinned"
    );
    show_until(&h, &reports, "all sent", settled(0));
    assert_eq!(h.admin().get_pairing(), "paired");
    assert_eq!(h.admin().get_server_address(), server.url.as_str());
    assert!(h.find("server-plain-http").is_none());
    assert_eq!(server_count(&server), 2);
}
