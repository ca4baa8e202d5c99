//! The officer's side through Slint's testing backend: sign-in and PIN lockout, the dossier
//! keypad and the scanner, procedure search, arming, expiry and repeat dossiers, each checked
//! in the real SQLite file.

use crate::support::{Harness, Tablet, wait};
use hailong::kiosk::{CONSOLE_GRACE, STAFF_IDLE};
use hailong::settings::Lang;
use hailong::ui::{ConsoleAdapter, ConsoleStep, Screen, StaffAdapter};
use hailong_core::level::{Level, Scale};
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use slint::{ComponentHandle, Model};
use std::time::Duration;

const CODE: &str = "000.00.14.H56-200203-0118";

/// A tablet with two officers (so one must be chosen) and the sample catalogue.
fn staffed() -> (Harness, i64, i64) {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
    let binh = tablet.add_officer("Trần Văn Bình", "1357");
    tablet.load_catalogue();
    (tablet.start(1280., 800.), hoa, binh)
}

fn console(h: &Harness) -> ConsoleAdapter<'_> {
    h.kiosk.window.global::<ConsoleAdapter>()
}

fn staff(h: &Harness) -> StaffAdapter<'_> {
    h.kiosk.window.global::<StaffAdapter>()
}

#[test]
fn an_officer_signs_in_types_a_code_picks_a_procedure_and_the_citizens_tap_carries_them() {
    let (h, hoa, _) = staffed();
    h.open_staff();
    assert_eq!(h.screen(), Screen::SignIn);
    // A PIN without a name chosen is refused in words.
    h.type_pin("2468");
    assert_eq!(staff(&h).get_pin_status(), "choose");
    h.tap(&format!("officer-{hoa}"));
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::Console);
    assert_eq!(h.label("console-officer"), "Cán bộ: Nguyễn Thị Hoa");

    // A month 13 is refused and said why.
    h.type_code("000.00.14.H56-201303-0118");
    h.tap("dossier-next");
    assert_eq!(console(&h).get_error(), "bad_date");
    assert!(h.label("dossier-error").contains("không phải ngày có thật"));
    h.tap("pad-clear");
    assert!(h.find("dossier-error").is_none());
    h.type_code(CODE);
    assert_eq!(console(&h).get_input(), CODE);
    h.tap("dossier-next");
    assert_eq!(console(&h).get_step(), ConsoleStep::Procedure);

    // Search without tone marks finds the procedure.
    h.type_on(
        "search",
        &[
            "key-k", "key-h", "key-a", "key-i", "space", "key-s", "key-i",
        ],
    );
    assert_eq!(console(&h).get_query(), "khai si");
    assert!(
        h.find("procedure-1.000894").is_none(),
        "kết hôn does not match"
    );
    h.tap("procedure-1.001193");
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.label("armed-dossier").contains(CODE));
    assert_eq!(h.kiosk.armed().unwrap().procedure.unwrap().code, "1.001193");

    h.tap("level-satisfied");
    let rating = h.latest();
    assert_eq!(rating.outcome, Outcome::Rated(Level::Satisfied));
    assert_eq!(rating.dossier.as_deref(), Some(CODE));
    assert_eq!(rating.procedure_code.as_deref(), Some("1.001193"));
    assert_eq!(rating.officer.as_ref().map(|o| o.id), Some(hoa));
    assert!(!rating.repeat_dossier);
    assert!(h.kiosk.armed().is_none());
    wait(Duration::from_secs(5));
    assert!(h.find("armed-dossier").is_none());

    // The shift goes on: the corner opens the console without a PIN, until sign-out.
    h.open_staff();
    assert_eq!(h.screen(), Screen::Console);
    h.tap("console-sign-out");
    assert_eq!(h.screen(), Screen::Citizen);
    h.open_staff();
    assert_eq!(h.screen(), Screen::SignIn);
    h.tap("sign-in-cancel");
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn a_scanned_code_arms_the_tablet_from_the_citizen_screens_only_during_a_shift() {
    let (h, hoa, _) = staffed();
    h.scan(CODE);
    assert!(h.kiosk.armed().is_none(), "nobody is signed in");
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(
        h.label("staff-note")
            .contains("Chưa có cán bộ nào đăng nhập ca"),
        "the officer is told why the scan did nothing"
    );
    wait(Duration::from_secs(11));
    assert!(h.find("staff-note").is_none());

    h.sign_in(Some(hoa), "2468");
    h.tap("console-close");
    let voice = h.listen();
    h.scan(CODE);
    assert_eq!(h.screen(), Screen::Citizen);
    assert_eq!(
        voice.take(),
        [(Lang::Vi, vec![hailong::voice::Prompt::Invite])],
        "the citizen is invited aloud"
    );
    let armed = h.kiosk.armed().unwrap();
    assert_eq!(armed.dossier.to_string(), CODE);
    assert_eq!(armed.procedure, None);
    assert!(h.label("armed-dossier").contains(CODE));

    // Scanned on the thank-you screen, the next dossier is armed for the next citizen.
    h.tap("level-very_satisfied");
    assert_eq!(h.screen(), Screen::Thanks);
    h.scan("https://dichvucong.example.gov.vn/tra-cuu?mahoso=000.00.14.H56-200203-0119");
    wait(Duration::from_secs(5));
    assert_eq!(h.screen(), Screen::Citizen);
    assert_eq!(
        h.kiosk.armed().unwrap().dossier.to_string(),
        "000.00.14.H56-200203-0119"
    );

    // A code of another unit opens the console with the warning, for the officer to confirm.
    h.scan("000.17.22.H56-210531-0001");
    assert_eq!(h.screen(), Screen::Console);
    assert!(h.find("dossier-warning-foreign_unit").is_some());
    h.tap("dossier-next");
    assert_eq!(console(&h).get_step(), ConsoleStep::Procedure);
    h.tap("procedure-skip");
    assert_eq!(
        h.kiosk.armed().unwrap().dossier.to_string(),
        "000.17.22.H56-210531-0001"
    );
    // The dossier it replaced was never rated: it is stored as such.
    let unrated = h.latest();
    assert_eq!(unrated.outcome, Outcome::NotRated);
    assert_eq!(
        unrated.dossier.as_deref(),
        Some("000.00.14.H56-200203-0119")
    );

    // Rubbish from the scanner opens the console with the reason (no PIN: the officer used the
    // console a moment ago).
    h.scan("ABC");
    assert_eq!(h.screen(), Screen::Console);
    assert_eq!(console(&h).get_error(), "bad_shape");
    // Keys typed on the console go into the code; Enter goes on.
    h.tap("pad-clear");
    h.scan("000.00.14.H56-991231-0001");
    assert_eq!(console(&h).get_error(), "future_date");
    // Left alone, the console gives the screen back to the citizen.
    wait(STAFF_IDLE + Duration::from_secs(1));
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn an_armed_dossier_nobody_rates_is_stored_as_not_rated_after_three_minutes() {
    let (h, hoa, _) = staffed();
    h.sign_in(Some(hoa), "2468");
    h.tap("console-close");
    h.scan(CODE);
    wait(Duration::from_secs(179));
    assert!(h.ratings().is_empty());
    assert!(h.find("armed-dossier").is_some());
    wait(Duration::from_secs(2));
    let rating = h.latest();
    assert_eq!(rating.outcome, Outcome::NotRated);
    assert_eq!(rating.dossier.as_deref(), Some(CODE));
    assert_eq!(rating.officer.map(|o| o.id), Some(hoa));
    assert!(rating.finished);
    assert!(h.kiosk.armed().is_none());
    assert!(h.find("armed-dossier").is_none());
    let counts = h.store().summary(DateRange::all()).unwrap();
    assert_eq!((counts.total(), counts.unrated), (0, 1));
    // A walk-up tap afterwards carries no dossier.
    h.tap("level-very_satisfied");
    assert_eq!(h.latest().dossier, None);
}

#[test]
fn arming_a_dossier_already_rated_warns_and_its_second_rating_is_kept_but_not_counted() {
    let (h, hoa, _) = staffed();
    h.sign_in(Some(hoa), "2468");
    h.tap("console-close");
    h.scan(CODE);
    h.tap("level-very_satisfied");
    wait(Duration::from_secs(5));

    h.scan(CODE);
    assert_eq!(h.screen(), Screen::Console);
    assert!(
        h.kiosk.armed().is_none(),
        "not armed before the officer confirms"
    );
    assert!(
        h.label("dossier-warning-repeat")
            .contains("09:00 23/11/2026")
    );
    h.tap("dossier-next");
    h.tap("procedure-2.000815");
    assert_eq!(h.screen(), Screen::Citizen);
    h.tap("level-unsatisfied");
    h.tap("reason-attitude");
    h.tap("send");
    let second = h.latest();
    assert!(second.repeat_dossier);
    let counts = h.store().summary(DateRange::all()).unwrap();
    assert_eq!(counts.total(), 1);
    assert_eq!(counts.count(Level::Unsatisfied), 0);
    assert_eq!(counts.repeat_dossier, 1);
}

#[test]
fn five_wrong_pins_lock_the_pad_for_thirty_seconds_and_a_restart_keeps_the_lock() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
    let h = tablet.start(1280., 800.);
    // With one officer, the name is already chosen.
    h.open_staff();
    for left in (1..=4).rev() {
        h.type_pin("1111");
        assert_eq!(staff(&h).get_pin_status(), "wrong");
        assert_eq!(staff(&h).get_attempts_left(), left);
    }
    h.type_pin("1111");
    assert_eq!(staff(&h).get_pin_status(), "locked");
    assert!(
        h.label("pin-status").contains("0:30"),
        "{}",
        h.label("pin-status")
    );
    // The right PIN does nothing while locked.
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::SignIn);

    let h = h.restart();
    h.open_staff();
    assert_eq!(staff(&h).get_pin_status(), "locked");
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::SignIn);
    // The countdown ticks each second (the long press that opened the pad took one).
    for _ in 0..10 {
        wait(Duration::from_secs(1));
    }
    assert_eq!(staff(&h).get_locked_seconds(), 19);
    wait(Duration::from_secs(21));
    assert_eq!(staff(&h).get_pin_status(), "");
    // The sixth wrong PIN in a row locks for twice as long.
    h.type_pin("1111");
    assert_eq!(staff(&h).get_locked_seconds(), 60);
    wait(Duration::from_secs(61));
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::Console);
    assert_eq!(h.store().pin_lock(&hoa.to_string()).unwrap().failures, 0);
}

#[test]
fn with_walk_up_ratings_off_the_faces_show_only_for_an_armed_dossier() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
    tablet.change_settings(|s| s.walk_up_allowed = false);
    let h = tablet.start(1280., 800.);
    assert!(h.find("level-very_satisfied").is_none());
    assert!(h.find("waiting-for-officer").is_some());
    assert_eq!(
        h.label("citizen-prompt"),
        "Vui lòng chờ cán bộ trả kết quả hồ sơ",
        "a waiting screen, not an invitation"
    );
    h.key("1");
    wait(Duration::from_millis(100));
    assert!(h.ratings().is_empty());

    h.sign_in(None, "2468");
    // No catalogue on this tablet: a clean code arms at once.
    h.type_code(CODE);
    h.tap("dossier-next");
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.find("waiting-for-officer").is_none());
    assert_eq!(
        h.label("citizen-prompt"),
        "Mời Ông/Bà đánh giá mức độ hài lòng"
    );
    h.tap("level-very_satisfied");
    let rating = h.latest();
    assert_eq!(rating.dossier.as_deref(), Some(CODE));
    assert_eq!(rating.officer.map(|o| o.id), Some(hoa));
    wait(Duration::from_secs(5));
    assert!(h.find("level-very_satisfied").is_none());
}

#[test]
fn only_a_long_press_opens_the_pin_pad_and_the_console_needs_the_pin_after_two_minutes() {
    let (h, hoa, _) = staffed();
    assert!(
        h.find("staff-corner").is_none(),
        "no menu icon on the citizen's side"
    );
    h.tap("staff-entry");
    assert_eq!(
        h.screen(),
        Screen::Citizen,
        "a tap on the unit name does nothing"
    );
    h.press_for("staff-entry", Duration::from_millis(800));
    assert_eq!(h.screen(), Screen::Citizen, "nor does a short press");
    h.sign_in(Some(hoa), "2468");
    assert_eq!(h.screen(), Screen::Console);
    h.tap("console-close");
    assert_eq!(
        h.label("header-counter"),
        "Quầy 1 – Hộ tịch, Chứng thực · Cán bộ: Nguyễn Thị Hoa"
    );
    // Back within two minutes: no PIN.
    wait(Duration::from_secs(60));
    h.open_staff();
    assert_eq!(h.screen(), Screen::Console);
    h.tap("console-close");
    // Later, the PIN pad, with the officer on shift already chosen.
    wait(CONSOLE_GRACE + Duration::from_secs(1));
    h.open_staff();
    assert_eq!(h.screen(), Screen::SignIn);
    assert_eq!(i64::from(staff(&h).get_chosen()), hoa);
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::Console);

    // A code that needs the officer's eye, scanned after the grace time, goes through the PIN.
    h.tap("console-close");
    wait(CONSOLE_GRACE + Duration::from_secs(1));
    h.scan("000.17.22.H56-210531-0001");
    assert_eq!(h.screen(), Screen::SignIn);
    h.type_pin("2468");
    assert_eq!(h.screen(), Screen::Console);
    assert!(h.find("dossier-warning-foreign_unit").is_some());
    assert_eq!(console(&h).get_input(), "000.17.22.H56-210531-0001");
}

#[test]
fn wrong_pins_lock_the_name_tried_and_never_lock_the_administrator_out() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
    let binh = tablet.add_officer("Trần Văn Bình", "1357");
    let thu = tablet.add_officer("Lê Thị Thu", "8642");
    let an = tablet.add_officer("Phạm Văn An", "1122");
    let h = tablet.start(1280., 800.);
    h.open_staff();
    h.tap(&format!("officer-{hoa}"));
    for _ in 0..5 {
        h.type_pin("1111");
    }
    assert_eq!(staff(&h).get_pin_status(), "locked");
    // Another name is not locked.
    h.tap(&format!("officer-{binh}"));
    assert_eq!(staff(&h).get_pin_status(), "");
    h.type_pin("1357");
    assert_eq!(h.screen(), Screen::Console);
    h.tap("console-sign-out");

    // Someone trying names one after another: twelve wrong PINs on the pad lock every officer
    // name, but not the administrator's.
    h.open_staff();
    h.tap(&format!("officer-{binh}"));
    for _ in 0..4 {
        h.type_pin("1111");
    }
    assert_eq!(staff(&h).get_attempts_left(), 1);
    h.tap(&format!("officer-{thu}"));
    for _ in 0..4 {
        h.type_pin("1111");
    }
    h.tap(&format!("officer-{an}"));
    for _ in 0..3 {
        h.type_pin("1111");
    }
    assert_eq!(staff(&h).get_pin_status(), "wrong");
    assert_eq!(
        staff(&h).get_attempts_left(),
        1,
        "the pad's, not the name's"
    );
    h.type_pin("1111");
    assert_eq!(
        staff(&h).get_pin_status(),
        "locked",
        "the pad's twelfth wrong PIN"
    );
    h.type_pin("1122");
    assert_eq!(h.screen(), Screen::SignIn);
    h.tap(&format!("officer-{binh}"));
    assert_eq!(staff(&h).get_pin_status(), "locked");
    h.tap("officer-admin");
    assert_eq!(staff(&h).get_pin_status(), "");
    h.type_pin(crate::support::ADMIN_PIN);
    assert_eq!(h.screen(), Screen::Admin);
}

#[test]
fn a_shift_survives_a_restart_within_the_day() {
    let (h, hoa, _) = staffed();
    h.sign_in(Some(hoa), "2468");
    h.tap("console-close");
    let h = h.restart();
    assert_eq!(
        h.label("header-counter"),
        "Quầy 1 – Hộ tịch, Chứng thực · Cán bộ: Nguyễn Thị Hoa"
    );
    h.scan(CODE);
    assert_eq!(
        h.kiosk.armed().unwrap().officer.id,
        hoa,
        "a scan right after a restart arms"
    );
    h.tap("level-satisfied");
    assert_eq!(h.latest().officer.unwrap().id, hoa);
    wait(Duration::from_secs(5));
    // Signed out, the next start has no shift.
    h.open_staff();
    h.type_pin("2468");
    h.tap("console-sign-out");
    let h = h.restart();
    assert_eq!(h.label("header-counter"), "Quầy 1 – Hộ tịch, Chứng thực");
    h.scan(CODE);
    assert!(h.kiosk.armed().is_none());
}

#[test]
fn a_code_is_armed_by_hand_in_at_most_twelve_taps_and_a_pasted_tracking_url_works() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    tablet.change_settings(|s| s.extra_unit_codes = vec!["H56.123.45".into()]);
    let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
    tablet.load_catalogue();
    let h = tablet.start(1280., 800.);
    h.sign_in(Some(hoa), "2468");
    assert_eq!(console(&h).get_today(), "261123");
    // The office's second identifier, today, the sequence, continue, no procedure: 8 taps.
    let mut taps = 0;
    let mut tap = |id: &str| {
        h.tap(id);
        taps += 1;
    };
    tap("dossier-unit-1");
    tap("dossier-today");
    for d in ["0", "1", "1", "8"] {
        tap(&format!("pad-{d}"));
    }
    assert_eq!(console(&h).get_input(), "H56.123.45-261123-0118");
    tap("dossier-next");
    assert!(
        console(&h).get_warnings().row_count() == 0,
        "ours, so no warning"
    );
    tap("procedure-skip");
    assert!(taps <= 12, "{taps} taps");
    assert_eq!(
        h.kiosk.armed().unwrap().dossier.to_string(),
        "H56.123.45-261123-0118"
    );

    // Typed letter by letter, the letters page stays until closed: fewer taps than before.
    h.open_staff();
    let typed = h.type_code("H56.123.45-261123-0119");
    assert!(typed <= 24, "{typed} taps");
    assert_eq!(console(&h).get_input(), "H56.123.45-261123-0119");

    // A whole tracking URL pasted into the field (over 512 characters) is read for its code.
    let url = format!(
        "https://dichvucong.example.gov.vn/tra-cuu-ho-so?ma-ho-so=000.00.14.H56-261123-0120&{}",
        "x=1&".repeat(120)
    );
    assert!(url.len() > 512);
    h.tap("pad-clear");
    h.fill("dossier-input", &url);
    assert_eq!(console(&h).get_input().len(), url.len());
    h.tap("dossier-next");
    assert_eq!(console(&h).get_error(), "");
    assert_eq!(console(&h).get_dossier(), "000.00.14.H56-261123-0120");
}

#[test]
fn the_procedures_used_lately_at_this_counter_come_first() {
    let (h, hoa, _) = staffed();
    h.sign_in(Some(hoa), "2468");
    h.type_code(CODE);
    h.tap("dossier-next");
    let first_alphabetical = console(&h).get_results().row_data(0).unwrap();
    assert!(!first_alphabetical.recent);
    // Pick one further down the list, by search, and rate it.
    h.type_on(
        "search",
        &[
            "key-k", "key-h", "key-a", "key-i", "space", "key-s", "key-i", "key-n", "key-h",
        ],
    );
    let picked = console(&h).get_results().row_data(0).unwrap();
    assert_ne!(picked.code, first_alphabetical.code);
    h.tap(&format!("procedure-{}", picked.code));
    h.tap("level-satisfied");
    wait(Duration::from_secs(5));
    h.open_staff();
    h.type_code("000.00.14.H56-200203-0119");
    h.tap("dossier-next");
    let top = console(&h).get_results().row_data(0).unwrap();
    assert_eq!(top.code, picked.code);
    assert!(top.recent);
    assert!(
        h.label(&format!("procedure-{}", picked.code))
            .contains("khai sinh")
    );
}
