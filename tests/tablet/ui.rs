//! The citizen screens through Slint's testing backend: taps, reasons, keys, language,
//! faults, each checked in the real SQLite file.

use crate::support::{kiosk, now, wait};
use hailong::ui::{KioskAdapter, Screen};
use hailong_core::level::{Level, Scale};
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use slint::ComponentHandle;
use std::time::Duration;

#[test]
fn a_walk_up_positive_tap_is_on_disk_when_thanks_shows_and_the_screen_returns_after_four_seconds() {
    let h = kiosk(Scale::Three);
    assert_eq!(h.screen(), Screen::Citizen);
    h.tap("level-very_satisfied");
    assert_eq!(h.screen(), Screen::Thanks);
    let rating = h.latest();
    assert_eq!(rating.outcome.level(), Some(Level::VerySatisfied));
    assert!(
        !rating.finished,
        "open to a change of mind, so not sent yet"
    );
    assert_eq!(rating.dossier, None);
    assert_eq!(rating.recorded_at, now());
    // The thank-you echoes the face chosen.
    assert_eq!(h.label("thanks-choice"), "Rất hài lòng");
    assert!(h.find("choose-again").is_some());
    wait(Duration::from_millis(3_900));
    assert_eq!(h.screen(), Screen::Thanks);
    wait(Duration::from_millis(200));
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.latest().finished);
    assert_eq!(h.latest().first_outcome, None);
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
    // Send needs at least one reason, and the screen says so.
    assert_eq!(
        h.label("send-hint"),
        "Chọn một hoặc nhiều lý do, rồi bấm Gửi"
    );
    h.tap("send");
    assert_eq!(h.screen(), Screen::Reasons);
    assert_eq!(
        h.label("send-hint"),
        "Xin chọn ít nhất một lý do ở trên, rồi bấm Gửi."
    );
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
    assert_eq!(h.store().rating_count().unwrap(), 1);
    assert_eq!(h.label("thanks-choice"), "Không hài lòng");
    wait(Duration::from_secs(5));
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.latest().finished);
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
    assert_eq!(prompt(), "Mời Ông/Bà đánh giá mức độ hài lòng");
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
    assert_eq!(prompt(), "Mời Ông/Bà đánh giá mức độ hài lòng");
}

#[test]
fn a_full_disk_keeps_the_citizen_screen_with_a_polite_message_and_stores_nothing() {
    let h = kiosk(Scale::Three);
    h.tap_until_the_disk_is_full();
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.find("save-failure").is_some());
    assert_eq!(
        h.kiosk.window.global::<KioskAdapter>().get_save_failure(),
        "disk_full"
    );
}

#[test]
fn a_rating_left_on_the_reasons_screen_by_a_crash_is_finished_at_the_next_start() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    assert!(!h.latest().finished);
    let crate::support::Harness { tablet, kiosk, .. } = h;
    std::mem::forget(kiosk); // as if the process died: nothing runs on the way out
    let h = tablet.start(1280., 800.);
    assert!(h.latest().finished);
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn five_levels_on_a_portrait_screen_stack_top_to_bottom_in_key_order() {
    let h =
        crate::support::Tablet::new(Scale::Five, hailong::settings::Lang::Vi).start(800., 1280.);
    let ys: Vec<f32> = Level::ALL
        .iter()
        .map(|l| {
            h.find(&format!("level-{}", l.code()))
                .unwrap()
                .absolute_position()
                .y
        })
        .collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");
    let first = h.find("level-very_satisfied").unwrap();
    assert!(
        first.size().height >= 180.,
        "rows stay big: {:?}",
        first.size()
    );
    h.key("5");
    wait(Duration::from_millis(100));
    assert_eq!(h.latest().outcome.level(), Some(Level::VeryUnsatisfied));
}

#[test]
fn keys_reach_the_citizen_screens_after_an_admin_text_field_had_the_focus() {
    let h = kiosk(Scale::Three);
    h.sign_in_as_admin();
    h.tap("admin-tab-settings");
    // The administrator touches the new-PIN field, types, and closes the screens.
    h.tap("settings-admin-pin");
    h.key("9");
    h.tap("admin-close");
    assert_eq!(h.screen(), Screen::Citizen);
    h.key("1");
    wait(Duration::from_millis(100));
    assert_eq!(
        h.store().rating_count().unwrap(),
        1,
        "the level key was lost"
    );
    assert_eq!(h.screen(), Screen::Thanks);
    // The thank-you screen and the reasons screen take keys too.
    wait(Duration::from_secs(5));
    h.key("3");
    wait(Duration::from_millis(100));
    assert_eq!(h.screen(), Screen::Reasons);
}

#[test]
fn choose_again_after_a_wrong_sad_face_amends_the_same_rating_and_keeps_the_first_level() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    assert_eq!(h.screen(), Screen::Reasons);
    let tapped = h.latest();
    h.tap("reason-late");
    h.tap("choose-again");
    assert_eq!(h.screen(), Screen::Citizen);
    assert_eq!(
        h.label("citizen-prompt"),
        "Mời Ông/Bà chọn lại mức độ hài lòng"
    );
    // Within the misuse interval, yet a choice, not misuse.
    h.tap("level-very_satisfied");
    assert_eq!(h.screen(), Screen::Thanks);
    assert_eq!(h.label("thanks-choice"), "Rất hài lòng");
    let rating = h.latest();
    assert_eq!(rating.id, tapped.id, "the same rating, amended");
    assert_eq!(rating.outcome.level(), Some(Level::VerySatisfied));
    assert_eq!(
        rating.first_outcome,
        Some(Outcome::Rated(Level::Unsatisfied))
    );
    assert!(rating.reasons.is_empty());
    assert!(!rating.finished);
    let counts = h.store().summary(DateRange::all()).unwrap();
    assert_eq!((counts.total(), counts.misuse), (1, 0));
    assert_eq!(counts.count(Level::VerySatisfied), 1);
    wait(Duration::from_secs(5));
    assert_eq!(h.screen(), Screen::Citizen);
    assert!(h.latest().finished);
    assert_eq!(h.store().rating_count().unwrap(), 1);
}

#[test]
fn choose_again_is_offered_only_for_the_configured_time_and_an_unused_one_keeps_the_rating() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    wait(Duration::from_secs(11));
    assert!(h.find("choose-again").is_none(), "offered for 10 s");
    assert!(!h.latest().finished, "still waiting for its reasons");
    h.tap("reason-attitude");
    h.tap("send");
    assert!(h.latest().finished, "sent at once: the window is over");
    assert!(h.find("choose-again").is_none());

    // Chọn lại tapped, then nobody picks: the rating stands and the next citizen's tap is new.
    wait(Duration::from_secs(5));
    h.tap("level-satisfied");
    h.tap("choose-again");
    assert_eq!(h.screen(), Screen::Citizen);
    wait(Duration::from_secs(11));
    assert_eq!(
        h.label("citizen-prompt"),
        "Mời Ông/Bà đánh giá mức độ hài lòng"
    );
    let stood = h.latest();
    assert_eq!(stood.outcome.level(), Some(Level::Satisfied));
    assert!(stood.finished);
    h.tap("level-very_satisfied");
    assert_eq!(h.store().rating_count().unwrap(), 3);

    // Off in the settings: positive taps are finished at once and nothing is offered.
    let h = {
        let tablet = crate::support::Tablet::new(Scale::Three, hailong::settings::Lang::Vi);
        tablet.change_settings(|s| s.change_of_mind_secs = 0);
        tablet.start(1280., 800.)
    };
    h.tap("level-satisfied");
    assert!(h.find("choose-again").is_none());
    assert!(h.latest().finished);
}

#[test]
fn a_sad_face_left_without_a_reason_is_finished_as_no_reason_given() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    wait(Duration::from_secs(61));
    assert_eq!(h.screen(), Screen::Citizen);
    let rating = h.latest();
    assert!(rating.finished);
    assert_eq!(rating.reasons, vec![Reason::NotGiven]);
}

#[test]
fn a_phone_number_in_the_comment_is_masked_before_it_is_stored() {
    let h = kiosk(Scale::Three);
    h.tap("level-unsatisfied");
    assert!(
        h.label("comment-privacy")
            .contains("Số điện thoại, số CCCD sẽ được che")
    );
    h.tap("reason-long_wait");
    h.kiosk
        .window
        .global::<KioskAdapter>()
        .invoke_type_text("gọi tôi 0912 345 678, CCCD 001203004567".into());
    h.tap("send");
    assert_eq!(
        h.latest().comment.as_deref(),
        Some("gọi tôi •••• ••• •••, CCCD ••••••••••••")
    );
}

#[test]
fn three_levels_on_a_portrait_screen_stack_and_use_the_height() {
    let h =
        crate::support::Tablet::new(Scale::Three, hailong::settings::Lang::Vi).start(800., 1280.);
    let faces: Vec<_> = ["very_satisfied", "satisfied", "unsatisfied"]
        .iter()
        .map(|code| h.find(&format!("level-{code}")).unwrap())
        .collect();
    let ys: Vec<f32> = faces.iter().map(|f| f.absolute_position().y).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");
    let covered: f32 = faces.iter().map(|f| f.size().height).sum();
    assert!(covered > 700., "the rows fill the height: {covered}");
}

#[test]
fn face_labels_break_between_words_only() {
    let h = kiosk(Scale::Five);
    let labels = h.kiosk.window.global::<hailong::ui::Labels>();
    // "hài lòng" and "bình thường" are single words: a no-break space joins their syllables, so
    // a narrow column breaks "Rất không / hài lòng", never inside the word.
    let words = |code: &str| {
        labels
            .invoke_level_on_face(code.into())
            .split(' ')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(words("very_unsatisfied"), ["Rất", "không", "hài\u{a0}lòng"]);
    assert_eq!(words("neutral"), ["Bình\u{a0}thường"]);
    h.tap("lang-en");
    assert_eq!(words("very_unsatisfied"), ["Very", "unsatisfied"]);
}

#[test]
fn the_voice_says_the_face_pressed_then_the_next_screens_prompt_in_the_language_showing() {
    use hailong::settings::Lang;
    use hailong::voice::Prompt;
    let h = kiosk(Scale::Three);
    let voice = h.listen();
    h.tap("speak");
    assert_eq!(voice.take(), [(Lang::Vi, vec![Prompt::Invite])]);
    h.tap("level-satisfied");
    assert_eq!(
        voice.take(),
        [(
            Lang::Vi,
            vec![Prompt::Level(Level::Satisfied), Prompt::Thanks]
        )]
    );
    wait(Duration::from_secs(5));
    h.tap("lang-en");
    h.tap("level-unsatisfied");
    assert_eq!(
        voice.take(),
        [(
            Lang::En,
            vec![Prompt::Level(Level::Unsatisfied), Prompt::Reasons]
        )]
    );
    h.tap("speak");
    assert_eq!(voice.take(), [(Lang::En, vec![Prompt::Reasons])]);
    h.tap("choose-again");
    assert_eq!(voice.take(), [(Lang::En, vec![Prompt::ChooseAgain])]);
    h.tap("level-very_satisfied");
    assert_eq!(
        voice.take(),
        [(
            Lang::En,
            vec![Prompt::Level(Level::VerySatisfied), Prompt::Thanks]
        )]
    );
    // A tap that cannot be saved is said too.
    wait(Duration::from_secs(5));
    h.tap_until_the_disk_is_full();
    assert_eq!(
        voice.take().last(),
        Some(&(Lang::Vi, vec![Prompt::SaveFailure]))
    );
}

#[test]
fn with_the_voice_turned_off_nothing_is_said() {
    let tablet = crate::support::Tablet::new(Scale::Three, hailong::settings::Lang::Vi);
    tablet.change_settings(|s| s.voice_on = false);
    let h = tablet.start(1280., 800.);
    let voice = h.listen();
    h.tap("speak");
    h.tap("level-unsatisfied");
    assert!(voice.take().is_empty());
}

#[test]
fn aa_gives_this_citizen_large_text_and_high_contrast_and_the_next_one_the_default() {
    use hailong::ui::Theme;
    let h = kiosk(Scale::Three);
    let strong = || h.kiosk.window.global::<Theme>().get_strong();
    assert!(!strong());
    let prompt_height = h.find("citizen-prompt").unwrap().size().height;
    h.tap("text-size");
    assert!(strong());
    assert!(
        h.find("citizen-prompt").unwrap().size().height > prompt_height,
        "the text is larger"
    );
    h.tap("level-unsatisfied");
    assert!(strong(), "kept on the reasons screen");
    h.tap("reason-late");
    h.tap("send");
    wait(Duration::from_secs(5));
    assert!(!strong(), "the next citizen starts with the default");

    // The administrator's default: large from the start.
    let tablet = crate::support::Tablet::new(Scale::Three, hailong::settings::Lang::Vi);
    tablet.change_settings(|s| s.large_text = true);
    let h = tablet.start(1280., 800.);
    assert!(h.kiosk.window.global::<Theme>().get_strong());
    h.tap("text-size");
    assert!(!h.kiosk.window.global::<Theme>().get_strong());
}
