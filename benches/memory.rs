//! Resident memory of the kiosk over 10,000 ratings, with the voice loaded: the real `Kiosk` on a
//! real data dir (10,000 demo ratings to start with), its real speaker, driven through the
//! callbacks its citizen screens call (release builds carry no element ids) on Slint's testing backend with mock time, so 10,000
//! citizens take minutes instead of the hours the kiosk's pauses between ratings would need.
//! Every tenth citizen is unhappy and gives a reason. The baseline is the same process after its
//! first 100 ratings, when every prompt has been decoded once.
//!
//! `cargo bench --bench memory`. The window's own buffers are not in this process (the testing
//! backend draws only when asked); `benches/touch.rs` measures the real window's memory.

mod window;

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use hailong::clock::ManualClock;
use hailong::kiosk::Kiosk;
use hailong::paths::DataDir;
use hailong::settings::Lang;
use hailong::setup::SetupForm;
use hailong::store::Store;
use hailong::ui::KioskAdapter;
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::summary::Counts;
use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use slint::ComponentHandle;
use window::rss_mb;

/// Citizens rating; `MEMORY_RATINGS=30000` looks further.
const DEFAULT_RATINGS: u32 = 10_000;
const WARM_UP: u32 = 100;
/// Longer than the thank-you (4 s) and the pause between ratings (3 s) by default.
const BETWEEN: Duration = Duration::from_secs(5);

fn main() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("the testing platform");
    let now = DateTime::parse_from_rfc3339("2026-11-23T09:00:00+07:00").unwrap();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let data = DataDir::new(dir.path());
    SetupForm {
        admin_pin: "246810".into(),
        unit_name: "UBND xã Tân Lập".into(),
        unit_code: "000.00.14.H56".into(),
        counter_name: "Quầy 1".into(),
        lang: Lang::Vi,
        scale: Scale::Three,
    }
    .apply(&data, now)
    .expect("set up");
    let plan = hailong::demo::DemoPlan {
        count: 10_000,
        days: 90,
        seed: 7,
    };
    hailong::demo::fill(&data, plan, now).expect("demo ratings");

    let before = counts(&data);
    let ratings: u32 = std::env::var("MEMORY_RATINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_RATINGS);

    let clock = ManualClock::new(now);
    let kiosk = Kiosk::start(&data, Arc::new(clock.clone())).expect("the kiosk starts");
    kiosk
        .window
        .window()
        .set_size(slint::LogicalSize::new(1280., 800.));
    kiosk.start_voice();
    kiosk.window.show().expect("shown");
    let pid = std::process::id();
    let screens = kiosk.window.global::<KioskAdapter>();
    let mut warm = 0.0;
    for n in 1..=ratings {
        // The three-level scale: 0 very satisfied, 1 satisfied, 2 unsatisfied.
        if n % 10 == 0 {
            screens.invoke_choose_level(2);
            screens.invoke_toggle_reason(2);
            screens.invoke_send();
        } else {
            screens.invoke_choose_level((n % 2) as i32);
        }
        i_slint_backend_testing::mock_elapsed_time(BETWEEN);
        clock.advance(chrono::Duration::from_std(BETWEEN).unwrap());
        if n == WARM_UP {
            warm = rss_mb(pid).expect("VmRSS");
        }
    }
    // One frame drawn, as the window would.
    let _ = kiosk.window.window().take_snapshot();
    let after = rss_mb(pid).expect("VmRSS");
    let after_counts = counts(&data);
    let rated = |c: &Counts| c.levels.iter().sum::<u64>();
    assert_eq!(
        (rated(&after_counts) - rated(&before), after_counts.misuse),
        (u64::from(ratings), before.misuse),
        "every rating stored, none refused as too soon"
    );
    println!("resident memory with the voice loaded, software renderer (testing backend):");
    println!("  after {WARM_UP} ratings (baseline): {warm:.1} MB");
    println!(
        "  after {ratings} ratings: {after:.1} MB (goal < 50 MB), ratio {:.2}x, {:+.2} MB per \
         1,000 ratings",
        after / warm,
        (after - warm) / f64::from(ratings - WARM_UP) * 1000.0
    );
}

fn counts(data: &DataDir) -> Counts {
    Store::open(&data.database())
        .and_then(|store| store.summary(DateRange::all()))
        .expect("the summary")
}
