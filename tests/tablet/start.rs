//! What the kiosk shows at start: the first-run setup, a damaged database moved aside, and a
//! database that cannot be opened at all.

use crate::support::{Tablet, init_backend, now};
use hailong::clock::ManualClock;
use hailong::kiosk::{FirstRun, Kiosk, StartError, fatal_window};
use hailong::paths::DataDir;
use hailong::settings::{self, Lang};
use hailong::ui::{KioskAdapter, Screen, SetupAdapter};
use hailong_core::level::Scale;
use i_slint_backend_testing::ElementQuery;
use slint::platform::PointerEventButton;
use slint::{ComponentHandle, Model};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

fn find(
    window: &hailong::ui::AppWindow,
    id: &str,
) -> Option<i_slint_backend_testing::ElementHandle> {
    let id = id.to_owned();
    ElementQuery::from_root(window)
        .match_predicate(move |e| e.accessible_id().as_deref() == Some(id.as_str()))
        .find_first()
}

fn tap(window: &hailong::ui::AppWindow, id: &str) {
    find(window, id)
        .unwrap_or_else(|| panic!("no element {id}"))
        .mock_single_click(PointerEventButton::Left);
}

fn type_into(window: &hailong::ui::AppWindow, id: &str, text: &str) {
    find(window, id)
        .unwrap_or_else(|| panic!("no element {id}"))
        .set_accessible_value(text);
}

#[test]
fn the_first_run_screen_refuses_an_incomplete_form_then_sets_up_the_tablet() {
    init_backend();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let clock = Arc::new(ManualClock::new(now()));
    assert!(matches!(
        Kiosk::start(&data, clock.clone()),
        Err(StartError::NotSetUp(_))
    ));
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    let setup = FirstRun::new(&data, clock.clone(), None, move |_| flag.set(true)).unwrap();
    let w = &setup.window;
    w.window().set_size(slint::LogicalSize::new(1280., 800.));
    w.show().unwrap();
    assert_eq!(w.global::<KioskAdapter>().get_screen(), Screen::Setup);

    tap(w, "setup-save");
    let problems: Vec<String> = w
        .global::<SetupAdapter>()
        .get_problems()
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        problems,
        ["admin_pin", "unit_name", "unit_code", "counter_name"]
    );
    assert!(find(w, "setup-problem-unit_code").is_some());

    type_into(w, "setup-unit-name", "UBND xã Tân Lập");
    // The office's own code, then another whose dossiers it also handles.
    type_into(w, "setup-unit-code", "000.00.14.h56 h56.123.45");
    type_into(w, "setup-counter-name", "Quầy 1 – Hộ tịch");
    type_into(w, "setup-admin-pin", "246810");
    type_into(w, "setup-admin-pin-again", "246811");
    tap(w, "setup-scale-5");
    tap(w, "setup-save");
    assert!(find(w, "setup-problem-pin_mismatch").is_some());
    assert!(!done.get());
    assert!(!data.settings().exists());

    type_into(w, "setup-admin-pin-again", "246810");
    tap(w, "setup-save");
    assert!(done.get());
    let saved = match settings::load(&data, now()).unwrap() {
        settings::Loaded::Ready(s) => *s,
        other => panic!("{other:?}"),
    };
    assert_eq!(saved.unit_code, "000.00.14.H56");
    assert_eq!(saved.extra_unit_codes, ["H56.123.45"]);
    assert_eq!(saved.scale, Scale::Five);
    assert!(hailong::auth::verify_pin(&saved.admin_pin_hash, "246810"));
    assert!(!saved.admin_pin_hash.contains("246810"));
    let kiosk = Kiosk::start(&data, clock).unwrap();
    assert_eq!(
        kiosk
            .window
            .global::<KioskAdapter>()
            .get_levels()
            .row_count(),
        5
    );
    assert!(
        hailong::store::Store::open(&data.database())
            .unwrap()
            .procedure_count()
            .unwrap()
            > 0
    );
}

#[test]
fn a_damaged_database_is_moved_aside_kept_and_said_and_ratings_go_on_in_a_new_one() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let garbage = b"this is not a database, but somebody's ratings may be in here".repeat(100);
    std::fs::write(tablet.data.database(), &garbage).unwrap();
    let h = tablet.start(1280., 800.);
    assert_eq!(h.screen(), Screen::Damaged);
    let said = h.label("damaged-moved-to");
    let moved = std::fs::read_dir(h.tablet.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("hailong.db.damaged-"))
        .expect("the damaged file is kept");
    assert!(said.contains(&moved.display().to_string()), "{said}");
    assert_eq!(std::fs::read(&moved).unwrap(), garbage);

    h.tap("damaged-ok");
    assert_eq!(h.screen(), Screen::Citizen);
    h.tap("level-very_satisfied");
    assert_eq!(h.ratings().len(), 1);
}

#[test]
fn a_database_that_cannot_be_opened_gets_a_screen_that_says_so_and_nothing_is_deleted() {
    init_backend();
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    // A folder where the database file should be: SQLite cannot open it.
    std::fs::create_dir(tablet.data.database()).unwrap();
    std::fs::write(tablet.data.database().join("keep.txt"), "keep").unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let fault = match Kiosk::start(&tablet.data, clock) {
        Err(e) => e,
        Ok(_) => panic!("a folder opened as a database"),
    };
    let window = fatal_window(&tablet.data, &fault).unwrap();
    window
        .window()
        .set_size(slint::LogicalSize::new(1280., 800.));
    window.show().unwrap();
    assert_eq!(window.global::<KioskAdapter>().get_screen(), Screen::Fatal);
    assert!(find(&window, "fatal-reason").is_some());
    let path = find(&window, "fatal-path")
        .unwrap()
        .accessible_label()
        .unwrap();
    assert!(path.contains("hailong.db"), "{path}");
    assert!(tablet.data.database().join("keep.txt").exists());
}

/// A bare X server (no window manager, as on a counter device) for the real-window check, and
/// the kiosk's process on it; both are killed on drop.
struct BareX {
    display: String,
    server: std::process::Child,
    kiosk: Option<std::process::Child>,
    /// The kiosk's log, shown if the test fails.
    log: Option<std::path::PathBuf>,
}

impl BareX {
    fn start(width: u32, height: u32) -> BareX {
        // The server picks a free display itself and writes its number to our pipe once it
        // accepts connections (`-displayfd`): no guessed number, no socket that exists before
        // the server listens on it. `-noreset`: an X server starts over when its last client
        // leaves, refusing connections meanwhile, and the last client to leave can be the
        // xdotool that checked it was up (CI once saw the kiosk refused so, right after).
        let mut server = std::process::Command::new("Xvfb")
            .args([
                "-noreset",
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb (Debian: apt-get install xvfb xdotool)");
        let mut number = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.take().unwrap()),
            &mut number,
        )
        .unwrap();
        let number = number.trim();
        assert!(
            !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
            "Xvfb did not say its display: {number:?}"
        );
        let x = BareX {
            display: format!(":{number}"),
            server,
            kiosk: None,
            log: None,
        };
        // The number can come before a client gets in (CI once saw the kiosk refused at once,
        // "Failed to open connection to X server"): the kiosk starts when xdotool has been let in.
        let size = format!("{width} {height}");
        x.wait_for("the X server to let a client in", || {
            x.xdotool(&["getdisplaygeometry"]) == size
        });
        x
    }

    fn xdotool(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool (Debian: apt-get install xdotool)");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits (up to 60 s, for a slow machine) until `ready`; an external process has no mock
    /// time, so this polls the condition, it does not time anything.
    fn wait_for(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !ready() {
            assert!(
                std::time::Instant::now() < deadline,
                "waited in vain for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn run_kiosk(&mut self, dir: &std::path::Path) {
        let log = dir.join(format!("kiosk{}.log", self.display.replace(':', "-")));
        let kiosk = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
            .arg("--data-dir")
            .arg(dir)
            .args(["run", "--fullscreen"])
            .env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("HAILONG_DATA_DIR")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.kiosk = Some(kiosk);
        self.log = Some(log);
    }

    /// The focused window's id and size, once it is a Hài Lòng window of `width` x `height`.
    fn focused_window(&self, width: u32, height: u32) -> String {
        let mut id = String::new();
        self.wait_for("a full-screen window with the focus", || {
            id = self.xdotool(&["getwindowfocus"]);
            let geometry = self.xdotool(&["getwindowgeometry", "--shell", &id]);
            geometry.contains(&format!("WIDTH={width}"))
                && geometry.contains(&format!("HEIGHT={height}"))
                && self.xdotool(&["getwindowname", &id]) == "Hài Lòng"
        });
        id
    }

    fn ratings(&self, dir: &std::path::Path) -> u64 {
        hailong::store::Store::open(&DataDir::new(dir).database())
            .and_then(|s| s.rating_count())
            .unwrap_or(0)
    }
}

impl Drop for BareX {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(log) = &self.log
        {
            eprintln!(
                "the kiosk's log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            eprintln!("windows: {}", self.xdotool(&["search", "--name", "."]));
        }
        if let Some(kiosk) = self.kiosk.as_mut() {
            let _ = kiosk.kill();
            let _ = kiosk.wait();
        }
        // SIGTERM, so the server removes its socket and lock file; SIGKILL only if that fails.
        let terminated = std::process::Command::new("kill")
            .arg(self.server.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = self.server.kill();
        }
        let _ = self.server.wait();
    }
}

#[test]
fn on_a_bare_x_server_the_kiosk_fills_the_screen_and_keeps_the_keyboard_through_setup() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = BareX::start(1024, 768);
    x.run_kiosk(dir.path());
    let setup = x.focused_window(1024, 768);
    // Setup from the keyboard alone: Tab to each field, Enter in the last one.
    // ASCII only: xdotool types a letter outside the keymap by remapping a spare key for a
    // moment, and on a busy machine the kiosk may read the event after the mapping is gone
    // (CI lost "ử" and "ầ" so). Vietnamese input is tested through Slint's testing backend.
    for text in ["UBND xa Thu", "000.00.14.H56", "Quay 1", "246810", "246810"] {
        x.xdotool(&["key", "Tab"]);
        x.xdotool(&["type", "--delay", "5", text]);
    }
    x.xdotool(&["key", "Return"]);
    x.wait_for("the settings", || {
        DataDir::new(dir.path()).settings().exists()
    });
    let settings = std::fs::read_to_string(DataDir::new(dir.path()).settings()).unwrap();
    assert!(settings.contains("UBND xa Thu"), "{settings}");
    // The kiosk's window replaces the setup's, at the screen's size, with the keyboard.
    let mut kiosk = String::new();
    x.wait_for("the kiosk's own window", || {
        kiosk = x.focused_window(1024, 768);
        kiosk != setup
    });
    x.xdotool(&["key", "1"]);
    x.wait_for("the level key's rating", || x.ratings(dir.path()) == 1);
    drop(x);

    // A portrait screen, straight into the kiosk.
    let mut x = BareX::start(768, 1024);
    x.run_kiosk(dir.path());
    x.focused_window(768, 1024);
    x.xdotool(&["key", "2"]);
    x.wait_for("the second rating", || x.ratings(dir.path()) == 2);
}
