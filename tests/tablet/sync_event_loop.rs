//! The kiosk as `hailong run` starts it, with Slint's event loop running: the background
//! sender's reports cross to the UI thread through `upgrade_in_event_loop` and reach the
//! administrator's screen. (One test: the event loop can be set up once per process.)

use crate::binary::{hailong, ok};
use crate::running::RunningServer;
use hailong::clock::SystemClock;
use hailong::kiosk::Kiosk;
use hailong::paths::DataDir;
use hailong::ui::AdminAdapter;
use slint::{ComponentHandle, Timer, TimerMode};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn reports_from_the_sender_reach_the_screen_through_the_event_loop() {
    let root = tempfile::tempdir().unwrap();
    let dir = DataDir::new(root.path().join("tablet"));
    ok(&hailong(
        dir.root(),
        &["demo", "--count", "500", "--days", "2"],
    ));
    let server = RunningServer::start(&root.path().join("server.db"));
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        dir.root(),
        &["pair", "--server", &server.url, "--code", &code],
    ));

    i_slint_backend_testing::init_integration_test_with_system_time();
    let kiosk = Kiosk::start(&dir, Arc::new(SystemClock)).unwrap();
    kiosk.window.show().unwrap();
    kiosk.start_sync().unwrap();

    // Look at the screen's properties until they show the queue empty; the deadline only
    // stops a broken test from hanging.
    let seen = Rc::new(Cell::new(false));
    let watch = Timer::default();
    let (window, flag) = (kiosk.window.as_weak(), seen.clone());
    watch.start(TimerMode::Repeated, Duration::from_millis(20), move || {
        let Some(window) = window.upgrade() else {
            return;
        };
        let admin = window.global::<AdminAdapter>();
        if admin.get_server_address() != "" && admin.get_queued() == 0 && !admin.get_sending() {
            flag.set(true);
            let _ = slint::quit_event_loop();
        }
    });
    Timer::single_shot(Duration::from_secs(120), || {
        let _ = slint::quit_event_loop();
    });
    slint::run_event_loop_until_quit().unwrap();

    assert!(seen.get(), "the screen never showed the queue empty");
    let admin = kiosk.window.global::<AdminAdapter>();
    assert_eq!(admin.get_server_address(), server.url.as_str());
    assert_ne!(admin.get_last_success(), "");
    let on_server: i64 = rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(on_server, 500);
}
