//! The real kiosk UI through Slint's testing backend, shared by the UI test files: software
//! renderer, mock time, elements found by `accessible-id`, taps checked in the real SQLite file.

#![allow(dead_code)] // each test file uses its own part of the harness

use chrono::{DateTime, FixedOffset};
use hailong::auth::hash_pin;
use hailong::clock::ManualClock;
use hailong::kiosk::Kiosk;
use hailong::paths::DataDir;
use hailong::settings::{self, Lang, Settings};
use hailong::setup::SetupForm;
use hailong::store::Store;
use hailong::ui::{AdminAdapter, KioskAdapter, Screen};
use hailong::usb::MountTable;
use hailong::voice::{Prompt, Voice, VoiceStatus};
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::pin::{OFFICER_PIN_MIN, Pin};
use hailong_core::procedure::parse_catalogue;
use hailong_core::rating::Rating;
use i_slint_backend_testing::{
    ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions, mock_elapsed_time,
};
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const UNIT_CODE: &str = "000.00.14.H56";
/// The administrator's tabs, left to right, by the id suffix of their buttons.
pub const ADMIN_TABS: [&str; 8] = [
    "summary",
    "negatives",
    "export",
    "officers",
    "catalogue",
    "server",
    "settings",
    "about",
];

/// The administrator PIN every test tablet is set up with.
pub const ADMIN_PIN: &str = "246810";

pub fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00+07:00").unwrap()
}

pub fn wait(d: Duration) {
    mock_elapsed_time(d);
}

pub fn init_backend() {
    // One testing platform per test thread; later calls in the same thread keep the first.
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

/// A set-up data dir in a temporary folder, not yet opened by a kiosk.
pub struct Tablet {
    pub dir: tempfile::TempDir,
    pub data: DataDir,
}

impl Tablet {
    pub fn new(scale: Scale, lang: Lang) -> Tablet {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        SetupForm {
            admin_pin: ADMIN_PIN.into(),
            unit_name: "UBND xã Tân Lập".into(),
            unit_code: UNIT_CODE.into(),
            counter_name: "Quầy 1 – Hộ tịch, Chứng thực".into(),
            lang,
            scale,
        }
        .apply(&data, now())
        .unwrap();
        Tablet { dir, data }
    }

    pub fn store(&self) -> Store {
        Store::open(&self.data.database()).unwrap()
    }

    /// Adds an officer with `pin`; returns their id.
    pub fn add_officer(&self, name: &str, pin: &str) -> i64 {
        let hash = hash_pin(&Pin::parse(pin, OFFICER_PIN_MIN).unwrap()).unwrap();
        self.store().add_officer(name, &hash, now()).unwrap()
    }

    /// Loads the bundled procedure catalogue.
    pub fn load_catalogue(&self) {
        let procedures = parse_catalogue(hailong::catalogue::BUNDLED).unwrap();
        self.store().replace_procedures(&procedures).unwrap();
    }

    /// Adds `count` demo ratings over the last `days` days.
    pub fn fill_demo(&self, count: u64, days: u32, seed: u64) {
        let plan = hailong::demo::DemoPlan { count, days, seed };
        hailong::demo::fill(&self.data, plan, now()).unwrap();
    }

    /// A USB stick named `label` "mounted" under a fake `/media`: its folder, and the mount
    /// table (written as the system writes `/proc/mounts`) to give the kiosk.
    pub fn fake_stick(&self, label: &str) -> (PathBuf, MountTable) {
        let media = self.dir.path().join("media");
        let stick = media.join("canbo").join(label);
        std::fs::create_dir_all(&stick).unwrap();
        let table = self.dir.path().join("mounts");
        let escaped = stick.display().to_string().replace(' ', "\\040");
        std::fs::write(
            &table,
            format!("/dev/vda1 / ext4 rw 0 0\n/dev/sdb1 {escaped} vfat rw,nosuid 0 0\n"),
        )
        .unwrap();
        let mounts = MountTable {
            table,
            roots: vec![media],
        };
        (stick, mounts)
    }

    pub fn change_settings(&self, change: impl FnOnce(&mut Settings)) {
        let mut s = match settings::load(&self.data, now()).unwrap() {
            settings::Loaded::Ready(s) => *s,
            other => panic!("settings not ready: {other:?}"),
        };
        change(&mut s);
        settings::save(&self.data, &s).unwrap();
    }

    /// Opens the kiosk on this data dir in a window of `width` x `height`.
    pub fn start(self, width: f32, height: f32) -> Harness {
        init_backend();
        let clock = ManualClock::new(now());
        let kiosk = Kiosk::start(&self.data, Arc::new(clock.clone())).unwrap();
        kiosk
            .window
            .window()
            .set_size(slint::LogicalSize::new(width, height));
        kiosk.window.show().unwrap();
        Harness {
            tablet: self,
            clock,
            kiosk,
        }
    }
}

pub struct Harness {
    pub tablet: Tablet,
    pub clock: ManualClock,
    pub kiosk: Kiosk,
}

/// A voice that records what the screens asked it to say.
#[derive(Default)]
pub struct Recorder {
    pub said: std::cell::RefCell<Vec<(Lang, Vec<Prompt>)>>,
}

impl Voice for Recorder {
    fn say(&self, lang: Lang, prompts: &[Prompt]) {
        self.said.borrow_mut().push((lang, prompts.to_vec()));
    }
    fn set_volume(&self, _: u8) {}
    fn status(&self) -> VoiceStatus {
        VoiceStatus::Ready
    }
}

impl Recorder {
    /// What was said since the last call.
    pub fn take(&self) -> Vec<(Lang, Vec<Prompt>)> {
        std::mem::take(&mut *self.said.borrow_mut())
    }
}

pub fn kiosk(scale: Scale) -> Harness {
    Tablet::new(scale, Lang::Vi).start(1280., 800.)
}

impl Harness {
    /// Records what the kiosk says from now on.
    pub fn listen(&self) -> std::rc::Rc<Recorder> {
        let recorder = std::rc::Rc::new(Recorder::default());
        self.kiosk.use_voice(recorder.clone());
        recorder
    }

    /// Closes this kiosk and starts a new one on the same data dir, as after a restart.
    pub fn restart(self) -> Harness {
        let Harness { tablet, kiosk, .. } = self;
        kiosk.window.hide().unwrap();
        drop(kiosk);
        tablet.start(1280., 800.)
    }

    pub fn find(&self, id: &str) -> Option<ElementHandle> {
        let id = id.to_owned();
        ElementQuery::from_root(&self.kiosk.window)
            .match_predicate(move |e| e.accessible_id().as_deref() == Some(id.as_str()))
            .find_first()
    }

    pub fn label(&self, id: &str) -> String {
        self.find(id)
            .unwrap_or_else(|| panic!("no element {id}"))
            .accessible_label()
            .unwrap_or_default()
            .to_string()
    }

    pub fn tap(&self, id: &str) {
        let element = self.find(id).unwrap_or_else(|| panic!("no element {id}"));
        element.mock_single_click(PointerEventButton::Left);
    }

    /// Taps on-screen keyboard keys by their id suffix (`key-c`, `tone-2`, `space`) after `prefix`.
    pub fn type_on(&self, prefix: &str, keys: &[&str]) {
        for key in keys {
            self.tap(&format!("{prefix}-{key}"));
        }
    }

    /// Taps on-screen comment keyboard keys by their id suffix.
    pub fn type_keys(&self, keys: &[&str]) {
        self.type_on("comment", keys);
    }

    /// Types a dossier code on the console's keypad, switching to the letters page and back
    /// where needed (the letters page stays until "123"); returns the taps it took.
    pub fn type_code(&self, code: &str) -> usize {
        let mut letters = false;
        let mut taps = 0;
        let mut tap = |id: &str| {
            self.tap(id);
            taps += 1;
        };
        for c in code.chars() {
            let letter = c.is_ascii_alphabetic();
            if letter != letters && (letter || c.is_ascii_digit()) {
                tap("pad-letters");
                letters = letter;
            }
            match c {
                '.' if letters => tap("pad-letters-dot"),
                '-' if letters => tap("pad-letters-dash"),
                '.' => tap("pad-dot"),
                '-' => tap("pad-dash"),
                c => tap(&format!("pad-{}", c.to_ascii_uppercase())),
            }
        }
        if letters {
            tap("pad-letters");
        }
        taps
    }

    pub fn key(&self, text: &str) {
        let window = self.kiosk.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: text.into() });
        window.dispatch_event(WindowEvent::KeyReleased { text: text.into() });
    }

    /// A USB scanner: the code's characters in a burst, then Enter.
    pub fn scan(&self, code: &str) {
        for c in code.chars() {
            self.key(&c.to_string());
        }
        self.key("\n");
    }

    /// Holds a finger on `id` for `held` (mock time), then lifts it.
    pub fn press_for(&self, id: &str, held: Duration) {
        let element = self.find(id).unwrap_or_else(|| panic!("no element {id}"));
        let at = element.absolute_position();
        let size = element.size();
        let position = slint::LogicalPosition::new(at.x + size.width / 2., at.y + size.height / 2.);
        let window = self.kiosk.window.window();
        window.dispatch_event(WindowEvent::PointerPressed {
            position,
            button: PointerEventButton::Left,
        });
        wait(held);
        window.dispatch_event(WindowEvent::PointerReleased {
            position,
            button: PointerEventButton::Left,
        });
    }

    /// The staff's way in: a long press on the unit name.
    pub fn open_staff(&self) {
        self.press_for("staff-entry", Duration::from_millis(1600));
    }

    /// Signs in from the citizen screen through the long press, choosing `officer` if given
    /// (with one officer, or the officer on shift, it is already chosen).
    pub fn sign_in(&self, officer: Option<i64>, pin: &str) {
        self.open_staff();
        assert_eq!(self.screen(), Screen::SignIn);
        if let Some(id) = officer {
            self.tap(&format!("officer-{id}"));
        }
        self.type_pin(pin);
    }

    /// Signs in as the administrator from the citizen screen.
    pub fn sign_in_as_admin(&self) {
        self.open_staff();
        self.tap("officer-admin");
        self.type_pin(ADMIN_PIN);
        assert_eq!(self.screen(), Screen::Admin);
    }

    pub fn admin(&self) -> AdminAdapter<'_> {
        self.kiosk.window.global::<AdminAdapter>()
    }

    /// Sets a text field's content, as typing would.
    pub fn fill(&self, id: &str, text: &str) {
        self.find(id)
            .unwrap_or_else(|| panic!("no field {id}"))
            .set_accessible_value(text);
    }

    pub fn type_pin(&self, pin: &str) {
        for d in pin.chars() {
            self.tap(&format!("pin-{d}"));
        }
        self.tap("pin-ok");
    }

    pub fn screen(&self) -> Screen {
        self.kiosk.window.global::<KioskAdapter>().get_screen()
    }

    pub fn store(&self) -> Store {
        self.tablet.store()
    }

    pub fn ratings(&self) -> Vec<Rating> {
        let mut all = Vec::new();
        self.store()
            .for_each_rating(DateRange::all(), |r| all.push(r.clone()))
            .unwrap();
        all
    }

    pub fn latest(&self) -> Rating {
        self.ratings().pop().expect("no rating stored")
    }

    /// Makes the disk full, then taps (a rating every 5 s, past the misuse interval) until a
    /// tap fails: the free space left in the last page takes a few.
    pub fn tap_until_the_disk_is_full(&self) {
        self.kiosk.flow.simulate_full_disk();
        for _ in 0..200 {
            self.tap("level-very_satisfied");
            if self.find("save-failure").is_some() {
                return;
            }
            wait(Duration::from_secs(5));
        }
        panic!("200 taps fitted on a full disk");
    }

    /// Renders the window to a PNG file.
    pub fn snapshot(&self, path: &Path) {
        let buffer = self.kiosk.window.window().take_snapshot().unwrap();
        image::save_buffer(
            path,
            buffer.as_bytes(),
            buffer.width(),
            buffer.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    }
}
