//! The real kiosk UI through Slint's testing backend: software renderer, mock time, elements
//! found by `accessible-id`, taps checked in the real SQLite file.

use chrono::{DateTime, FixedOffset};
use hailong::clock::ManualClock;
use hailong::kiosk::Kiosk;
use hailong::paths::DataDir;
use hailong::settings::Lang;
use hailong::setup::SetupForm;
use hailong::store::Store;
use hailong::ui::{KioskAdapter, Screen};
use hailong_core::level::{Level, Scale};
use hailong_core::period::DateRange;
use hailong_core::reason::Reason;
use i_slint_backend_testing::{
    ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions, mock_elapsed_time,
};
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};
use std::sync::Arc;
use std::time::Duration;

struct Harness {
    _dir: tempfile::TempDir,
    data: DataDir,
    kiosk: Kiosk,
}

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00+07:00").unwrap()
}

fn init_backend() {
    // One testing platform per test thread; later calls in the same thread keep the first.
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

fn set_up(scale: Scale, lang: Lang) -> (tempfile::TempDir, DataDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    SetupForm {
        admin_pin: "246810".into(),
        unit_name: "UBND xã Tân Lập".into(),
        unit_code: "000.00.14.H56".into(),
        counter_name: "Quầy 1 – Hộ tịch, Chứng thực".into(),
        lang,
        scale,
    }
    .apply(&data, now())
    .unwrap();
    (dir, data)
}

fn start(dir: tempfile::TempDir, data: DataDir, width: f32, height: f32) -> Harness {
    init_backend();
    let kiosk = Kiosk::start(&data, Arc::new(ManualClock::new(now()))).unwrap();
    kiosk
        .window
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    kiosk.window.show().unwrap();
    Harness {
        _dir: dir,
        data,
        kiosk,
    }
}

fn kiosk(scale: Scale) -> Harness {
    let (dir, data) = set_up(scale, Lang::Vi);
    start(dir, data, 1280., 800.)
}

impl Harness {
    fn find(&self, id: &str) -> Option<ElementHandle> {
        let id = id.to_owned();
        ElementQuery::from_root(&self.kiosk.window)
            .match_predicate(move |e| e.accessible_id().as_deref() == Some(id.as_str()))
            .find_first()
    }

    fn tap(&self, id: &str) {
        let element = self.find(id).unwrap_or_else(|| panic!("no element {id}"));
        element.mock_single_click(PointerEventButton::Left);
    }

    /// Taps on-screen comment keyboard keys by their id suffix (`key-c`, `tone-2`, `space`).
    fn type_keys(&self, keys: &[&str]) {
        for key in keys {
            self.tap(&format!("comment-{key}"));
        }
    }

    fn key(&self, text: &str) {
        let window = self.kiosk.window.window();
        window.dispatch_event(WindowEvent::KeyPressed { text: text.into() });
        window.dispatch_event(WindowEvent::KeyReleased { text: text.into() });
    }

    fn screen(&self) -> Screen {
        self.kiosk.window.global::<KioskAdapter>().get_screen()
    }

    fn store(&self) -> Store {
        Store::open(&self.data.database()).unwrap()
    }

    fn latest(&self) -> hailong_core::rating::Rating {
        let store = self.store();
        let count = store.rating_count().unwrap();
        assert!(count > 0, "no rating stored");
        let mut last = None;
        store
            .for_each_rating(DateRange::all(), |r, _| last = Some(r.clone()))
            .unwrap();
        last.unwrap()
    }
}

fn wait(d: Duration) {
    mock_elapsed_time(d);
}

#[test]
fn a_walk_up_positive_tap_is_on_disk_when_thanks_shows_and_the_screen_returns_after_four_seconds() {
    let h = kiosk(Scale::Three);
    assert_eq!(h.screen(), Screen::Citizen);
    h.tap("level-very_satisfied");
    assert_eq!(h.screen(), Screen::Thanks);
    let rating = h.latest();
    assert_eq!(rating.outcome.level(), Some(Level::VerySatisfied));
    assert!(rating.finished);
    assert_eq!(rating.dossier, None);
    assert_eq!(rating.recorded_at, now());
    wait(Duration::from_millis(3_900));
    assert_eq!(h.screen(), Screen::Thanks);
    wait(Duration::from_millis(200));
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn a_negative_tap_asks_for_reasons_and_a_typed_comment_then_amends_the_same_record() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    assert_eq!(h.screen(), Screen::Reasons);
    // The level is durable before the reasons are given.
    let tapped = h.latest();
    assert_eq!(tapped.outcome.level(), Some(Level::Unsatisfied));
    assert!(!tapped.finished);
    // Send needs at least one reason.
    h.tap("send");
    assert_eq!(h.screen(), Screen::Reasons);
    h.tap("reason-long_wait");
    h.tap("reason-attitude");
    h.tap("reason-late");
    h.tap("reason-late");
    h.tap("comment");
    h.type_keys(&[
        "key-c", "key-h", "key-ơ", "tone-2", "space", "key-l", "key-a", "key-u", "tone-2",
    ]);
    assert_eq!(
        h.kiosk.window.global::<KioskAdapter>().get_comment(),
        "chờ làu"
    );
    h.tap("comment-erase");
    h.tap("comment-erase");
    h.tap("comment-key-â");
    h.tap("comment-key-u");
    h.tap("comment-tone-2");
    h.tap("send");
    assert_eq!(h.screen(), Screen::Thanks);
    let rating = h.latest();
    assert_eq!(rating.id, tapped.id);
    assert_eq!(rating.reasons, vec![Reason::LongWait, Reason::Attitude]);
    assert_eq!(rating.comment.as_deref(), Some("chờ lầu"));
    assert!(rating.finished);
    assert_eq!(h.store().rating_count().unwrap(), 1);
}

#[test]
fn the_reasons_screen_times_out_keeping_what_was_chosen_and_each_touch_extends_it() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    h.tap("reason-multiple_trips");
    wait(Duration::from_secs(50));
    h.tap("reason-unofficial_fees");
    wait(Duration::from_secs(50));
    assert_eq!(h.screen(), Screen::Reasons);
    wait(Duration::from_secs(11));
    assert_eq!(h.screen(), Screen::Citizen);
    let rating = h.latest();
    assert!(rating.finished);
    assert_eq!(
        rating.reasons,
        vec![Reason::MultipleTrips, Reason::UnofficialFees]
    );
}

#[test]
fn digit_keys_pick_levels_left_to_right_and_a_fast_typed_code_does_not() {
    let h = kiosk(Scale::Three);
    h.key("2");
    assert_eq!(
        h.store().rating_count().unwrap(),
        0,
        "a key waits to see whether more follow"
    );
    wait(Duration::from_millis(100));
    assert_eq!(h.latest().outcome.level(), Some(Level::Satisfied));
    wait(Duration::from_secs(5));
    assert_eq!(h.screen(), Screen::Citizen);
    // A scanner types a whole code then Enter, all within the settle time.
    for c in "38.98.H29-210519-0013".chars() {
        h.key(&c.to_string());
    }
    h.key("\n");
    wait(Duration::from_millis(200));
    assert_eq!(h.store().rating_count().unwrap(), 1);
    // Keys beyond the scale do nothing.
    h.key("4");
    wait(Duration::from_millis(200));
    assert_eq!(h.store().rating_count().unwrap(), 1);
    h.key("3");
    wait(Duration::from_millis(100));
    assert_eq!(h.screen(), Screen::Reasons);
}

#[test]
fn on_the_five_level_scale_key_three_is_neutral() {
    let h = kiosk(Scale::Five);
    assert!(h.find("level-neutral").is_some());
    h.key("3");
    wait(Duration::from_millis(100));
    assert_eq!(h.latest().outcome.level(), Some(Level::Neutral));
    assert_eq!(h.screen(), Screen::Thanks);
}

#[test]
fn presses_within_three_seconds_of_a_rating_are_ignored_and_counted_as_misuse() {
    let h = kiosk(Scale::Three);
    h.key("1");
    wait(Duration::from_millis(100));
    h.key("1");
    wait(Duration::from_millis(100));
    h.key("3");
    wait(Duration::from_millis(100));
    let counts = h.store().summary(DateRange::all()).unwrap();
    assert_eq!((counts.total(), counts.misuse), (1, 2));
    wait(Duration::from_secs(5));
    h.tap("level-satisfied");
    let counts = h.store().summary(DateRange::all()).unwrap();
    assert_eq!((counts.total(), counts.misuse), (2, 2));
}

#[test]
fn the_language_switches_live_and_returns_to_vietnamese_for_the_next_citizen() {
    let h = kiosk(Scale::Three);
    let prompt = || {
        h.find("citizen-prompt")
            .unwrap()
            .accessible_label()
            .unwrap()
            .to_string()
    };
    assert_eq!(prompt(), "Mời Ông/Bà đánh giá mức độ hài lòng");
    h.tap("lang-en");
    assert_eq!(prompt(), "Please rate how satisfied you are");
    assert_eq!(
        h.find("level-unsatisfied")
            .unwrap()
            .accessible_label()
            .unwrap(),
        "Unsatisfied"
    );
    h.tap("level-satisfied");
    wait(Duration::from_secs(5));
    assert_eq!(h.screen(), Screen::Citizen);
    assert_eq!(prompt(), "Mời Ông/Bà đánh giá mức độ hài lòng");
}

#[test]
fn a_full_disk_keeps_the_citizen_screen_with_a_polite_message_and_stores_nothing() {
    let h = kiosk(Scale::Three);
    h.kiosk.flow.simulate_full_disk();
    // Fill what is left of the last page, then the next tap must fail.
    for _ in 0..200 {
        h.tap("level-very_satisfied");
        if h.find("save-failure").is_some() {
            break;
        }
        wait(Duration::from_secs(5));
    }
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.find("save-failure").is_some());
    assert_eq!(
        h.kiosk.window.global::<KioskAdapter>().get_save_failure(),
        "disk_full"
    );
}

#[test]
fn a_rating_left_on_the_reasons_screen_by_a_crash_is_finished_at_the_next_start() {
    let (dir, data) = set_up(Scale::Three, Lang::Vi);
    let h = start(dir, data, 1280., 800.);
    h.tap("level-unsatisfied");
    assert!(!h.latest().finished);
    let Harness { _dir, data, kiosk } = h;
    std::mem::forget(kiosk); // as if the process died: nothing runs on the way out
    let h = start(_dir, data, 1280., 800.);
    assert!(h.latest().finished);
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn every_screen_renders_in_both_languages_and_orientations() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            for scale in [Scale::Three, Scale::Five] {
                let (dir, data) = set_up(scale, lang);
                let h = start(dir, data, w, h_);
                let name = |screen: &str| {
                    out.join(format!(
                        "{screen}-{}-{}x{}-{}.png",
                        lang.code(),
                        w,
                        h_,
                        scale.number()
                    ))
                };
                snapshot(&h, &name("citizen"));
                if scale == Scale::Five {
                    continue;
                }
                h.tap("level-unsatisfied");
                h.tap("reason-long_wait");
                snapshot(&h, &name("reasons"));
                h.tap("comment");
                h.type_keys(&[
                    "key-c", "key-h", "key-ơ", "tone-2", "space", "key-l", "key-â", "key-u",
                    "tone-2",
                ]);
                snapshot(&h, &name("comment"));
                h.tap("send");
                snapshot(&h, &name("thanks"));
            }
        }
    }
}

fn snapshot(h: &Harness, path: &std::path::Path) {
    let buffer = h.kiosk.window.window().take_snapshot().unwrap();
    image::save_buffer(
        path,
        buffer.as_bytes(),
        buffer.width(),
        buffer.height(),
        image::ExtendedColorType::Rgba8,
    )
    .unwrap();
}
