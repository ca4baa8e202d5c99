//! The administrator's screens through Slint's testing backend: figures that match the
//! database, officers, catalogue import, settings applied at once, About, storage warnings.

use crate::support::{ADMIN_PIN, Tablet, now};
use chrono::DateTime;
use hailong::settings::{self, Lang};
use hailong::store::NewRating;
use hailong::ui::{KioskAdapter, Screen};
use hailong_core::dossier::DossierCode;
use hailong_core::level::{Level, Scale};
use hailong_core::rating::{OfficerRef, Outcome};
use slint::{ComponentHandle, Model};

fn record(
    tablet: &Tablet,
    at: &str,
    outcome: Outcome,
    officer: Option<&OfficerRef>,
    dossier: Option<&str>,
) {
    let at = DateTime::parse_from_rfc3339(at).unwrap();
    let dossier = dossier.map(|d| DossierCode::from_stored(d).unwrap());
    tablet
        .store()
        .record(&NewRating {
            at,
            scale: hailong_core::level::Scale::Three,
            outcome,
            dossier: dossier.as_ref(),
            procedure: None,
            officer,
            counter: "Quầy 1",
            finished: true,
        })
        .unwrap();
}

#[test]
fn the_administrator_reads_today_month_and_quarter_figures_that_match_the_database() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    let hoa = OfficerRef {
        id: tablet.add_officer("Nguyễn Thị Hoa", "2468"),
        name: "Nguyễn Thị Hoa".into(),
    };
    let today = "2026-11-23T08:30:00+07:00";
    record(
        &tablet,
        today,
        Outcome::Rated(Level::VerySatisfied),
        Some(&hoa),
        Some("000.00.14.H56-261120-0001"),
    );
    record(&tablet, today, Outcome::Rated(Level::Satisfied), None, None);
    record(
        &tablet,
        today,
        Outcome::Rated(Level::Unsatisfied),
        Some(&hoa),
        None,
    );
    record(
        &tablet,
        today,
        Outcome::NotRated,
        Some(&hoa),
        Some("000.00.14.H56-261120-0002"),
    );
    record(
        &tablet,
        "2026-11-05T10:00:00+07:00",
        Outcome::Rated(Level::Unsatisfied),
        None,
        None,
    );
    record(
        &tablet,
        "2026-10-10T10:00:00+07:00",
        Outcome::Rated(Level::VerySatisfied),
        None,
        None,
    );
    record(
        &tablet,
        "2026-09-30T10:00:00+07:00",
        Outcome::Rated(Level::Unsatisfied),
        None,
        None,
    );
    let h = tablet.start(1280., 800.);
    h.sign_in_as_admin();

    assert_eq!(h.label("admin-total"), "3");
    assert_eq!(h.label("admin-satisfied"), "66,7 %");
    assert_eq!(h.label("admin-unrated"), "1");
    assert_eq!(h.label("admin-response"), "50,0 %");
    let shares: Vec<i32> = h.admin().get_levels().iter().map(|l| l.tenths).collect();
    assert_eq!(shares.iter().sum::<i32>(), 1000, "{shares:?}");
    // By officer: Hoa's two ratings and the walk-up one.
    // By counter: "Quầy 1",
    let rows = h.admin().get_breakdown_rows();
    let hoa_row = rows.iter().find(|r| r.label == "Nguyễn Thị Hoa").unwrap();
    assert_eq!(
        (hoa_row.total, hoa_row.unrated, hoa_row.satisfied_tenths),
        (2, 1, 500)
    );

    h.tap("admin-period-month");
    assert_eq!(h.label("admin-total"), "4");
    assert_eq!(h.label("admin-satisfied"), "50,0 %");
    h.tap("admin-period-quarter");
    assert_eq!(h.label("admin-total"), "5");
    assert_eq!(h.label("admin-satisfied"), "60,0 %");
    assert_eq!(h.admin().get_period_from(), "01/10/2026");
    h.tap("lang-en");
    assert_eq!(h.label("admin-satisfied"), "60.0%");

    h.tap("admin-tab-negatives");
    assert_eq!(h.admin().get_negatives().row_count(), 3);
    assert!(h.find("admin-negative-2").is_some());
    h.tap("admin-close");
    assert_eq!(h.screen(), Screen::Citizen);
}

#[test]
fn officers_are_added_given_a_new_pin_and_removed_on_the_admin_screen() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    h.sign_in_as_admin();
    h.tap("admin-tab-officers");
    h.tap("admin-officer-add");
    assert_eq!(h.admin().get_officer_problem(), "name");
    // A tap on the field, where its hint is drawn, reaches the field: typed text lands there.
    h.tap("admin-officer-name");
    for key in ["B", "ì", "n", "h"] {
        h.key(key);
    }
    let typed = h.find("admin-officer-name").unwrap().accessible_value();
    assert_eq!(typed.as_deref(), Some("Bình"));
    h.fill("admin-officer-name", "Trần Văn Bình");
    h.fill("admin-officer-pin", "12");
    h.tap("admin-officer-add");
    assert_eq!(h.admin().get_officer_problem(), "pin");
    assert!(h.store().officers().unwrap().is_empty());
    h.fill("admin-officer-pin", "1357");
    h.tap("admin-officer-add");
    assert_eq!(h.admin().get_officer_done(), "added");
    let binh = h.store().officers().unwrap()[0].clone();
    assert_eq!(binh.name, "Trần Văn Bình");
    assert!(hailong::auth::verify_pin(&binh.pin_hash, "1357"));

    h.tap(&format!("admin-officer-reset-{}", binh.id));
    h.fill("admin-officer-new-pin", "97531");
    h.tap("admin-officer-save-pin");
    assert_eq!(h.admin().get_officer_done(), "pin_reset");
    assert!(hailong::auth::verify_pin(
        &h.store().officer(binh.id).unwrap().pin_hash,
        "97531"
    ));

    // The new officer signs in with the new PIN.
    h.tap("admin-close");
    h.sign_in(Some(binh.id), "97531");
    assert_eq!(h.screen(), Screen::Console);
    h.tap("console-sign-out");

    h.sign_in_as_admin();
    h.tap("admin-tab-officers");
    let remove = format!("admin-officer-remove-{}", binh.id);
    h.tap(&remove);
    assert_eq!(
        h.store().officers().unwrap().len(),
        1,
        "the first tap only asks"
    );
    h.tap(&remove);
    assert!(h.store().officers().unwrap().is_empty());
    assert_eq!(h.admin().get_officer_done(), "removed");
}

#[test]
fn a_catalogue_in_the_data_folder_is_imported_and_a_bad_one_changes_nothing() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    tablet.load_catalogue();
    let bundled = tablet.store().procedure_count().unwrap();
    std::fs::write(
        tablet.dir.path().join("a-bad.csv"),
        "code,name_vi,field_vi,field_code\n1.000001,Thủ tục A,Nội vụ,noi_vu\n1.000001,Thủ tục B,Nội vụ,noi_vu\n",
    )
    .unwrap();
    std::fs::write(
        tablet.dir.path().join("b-tinh.csv"),
        "code,name_vi,field_vi,field_code\n1.000001,Thủ tục A,Nội vụ,noi_vu\n1.000002,Thủ tục B,Nội vụ,noi_vu\n",
    )
    .unwrap();
    std::fs::write(
        tablet.dir.path().join("c-latin.csv"),
        b"code,name_vi,field_vi,field_code\n1.000001,Th\xf4ng b\xe1o,N\xf4i,noi\n",
    )
    .unwrap();
    let h = tablet.start(1280., 800.);
    h.sign_in_as_admin();
    h.tap("admin-tab-catalogue");
    assert_eq!(h.admin().get_catalogue_size() as usize, bundled);
    let files = h.admin().get_catalogue_files();
    assert_eq!(files.row_count(), 3);
    h.tap("admin-catalogue-import-2");
    assert_eq!(h.admin().get_catalogue_result(), "not_utf8");
    assert!(h.find("admin-catalogue-result").is_some());
    h.tap("admin-catalogue-import-0");
    assert_eq!(h.admin().get_catalogue_result(), "duplicate");
    assert_eq!(h.admin().get_catalogue_detail(), "3");
    assert_eq!(h.store().procedure_count().unwrap(), bundled);
    h.tap("admin-catalogue-import-1");
    assert_eq!(h.admin().get_catalogue_result(), "imported");
    assert_eq!(h.store().procedure_count().unwrap(), 2);
    assert_eq!(
        h.label("admin-catalogue-size"),
        "Danh mục hiện có 2 thủ tục."
    );
}

#[test]
fn settings_saved_on_the_admin_screen_are_written_and_apply_at_once() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    h.sign_in_as_admin();
    h.tap("admin-tab-settings");
    h.fill("settings-counter-name", "");
    h.fill("settings-admin-pin", "123");
    h.tap("settings-save");
    assert!(h.find("settings-problem-counter_name").is_some());
    assert!(h.find("settings-problem-admin_pin").is_some());

    h.fill("settings-counter-name", "Quầy 2 – Đất đai");
    h.fill("settings-admin-pin", "13579246");
    h.fill("settings-admin-pin-again", "13579264");
    h.tap("settings-save");
    assert!(
        h.find("settings-problem-pin_mismatch").is_some(),
        "a new PIN typed differently twice is refused"
    );
    h.fill("settings-admin-pin-again", "13579246");
    h.tap("settings-scale-5");
    h.tap("settings-page-screens");
    h.tap("settings-interval-more");
    h.tap("settings-walk-up");
    h.tap("settings-page-reports");
    h.fill("settings-superior", "UBND tỉnh Thanh Hóa");
    h.fill("settings-place", " Liêm Chung ");
    h.fill("settings-signer-left", "NGƯỜI TỔNG HỢP");
    h.fill("settings-signer-right", "CHỦ TỊCH");
    h.tap("settings-save");
    assert!(h.find("settings-saved").is_some());

    let saved = match settings::load(&h.tablet.data, now()).unwrap() {
        settings::Loaded::Ready(s) => *s,
        other => panic!("{other:?}"),
    };
    assert_eq!(saved.counter_name, "Quầy 2 – Đất đai");
    assert_eq!(saved.scale, Scale::Five);
    assert_eq!(saved.min_interval_secs, 4);
    assert!(!saved.walk_up_allowed);
    assert!(hailong::auth::verify_pin(&saved.admin_pin_hash, "13579246"));
    assert_eq!(
        saved.letterhead.superior.as_deref(),
        Some("UBND tỉnh Thanh Hóa")
    );
    assert_eq!(saved.letterhead.place.as_deref(), Some("Liêm Chung"));
    assert_eq!(saved.letterhead.signers, ["NGƯỜI TỔNG HỢP", "CHỦ TỊCH"]);

    let kiosk = h.kiosk.window.global::<KioskAdapter>();
    assert_eq!(kiosk.get_counter_name(), "Quầy 2 – Đất đai");
    assert_eq!(kiosk.get_levels().row_count(), 5);
    h.tap("admin-close");
    assert!(h.find("waiting-for-officer").is_some());
    // The new PIN is the administrator's now.
    h.open_staff();
    h.tap("officer-admin");
    h.type_pin(ADMIN_PIN);
    assert_eq!(h.screen(), Screen::SignIn);
    h.type_pin("13579246");
    assert_eq!(h.screen(), Screen::Admin);
}

#[test]
fn the_about_page_carries_the_slint_attribution_and_a_failed_save_shows_as_a_warning() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    h.tap_until_the_disk_is_full();
    h.sign_in_as_admin();
    assert_eq!(h.admin().get_storage_problem(), "disk_full");
    assert!(h.find("admin-storage-problem").is_some());
    h.tap("admin-tab-about");
    assert!(h.find("about-slint").is_some());
    assert!(h.label("about-version").starts_with("Hài Lòng "));
}

/// A voice whose device could not be opened.
struct Mute;

impl hailong::voice::Voice for Mute {
    fn say(&self, _: Lang, _: &[hailong::voice::Prompt]) {}
    fn set_volume(&self, _: u8) {}
    fn status(&self) -> hailong::voice::VoiceStatus {
        hailong::voice::VoiceStatus::NoDevice("no soundcards found".into())
    }
}

#[test]
fn the_settings_show_a_missing_speaker_and_save_the_voice_settings() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    h.kiosk.use_voice(std::rc::Rc::new(Mute));
    h.sign_in_as_admin();
    h.tap("admin-tab-settings");
    h.tap("settings-page-screens");
    assert!(
        h.label("settings-voice-problem")
            .contains("no soundcards found"),
        "the administrator sees why there is no sound"
    );
    let mut form = h.admin().get_form();
    form.voice_volume = 50;
    h.admin().set_form(form);
    h.tap("settings-save");
    let saved = match settings::load(&h.tablet.data, now()).unwrap() {
        settings::Loaded::Ready(s) => *s,
        other => panic!("{other:?}"),
    };
    assert_eq!(saved.voice_volume, 50);
    assert!(saved.voice_on);
}

#[test]
fn an_officer_is_added_on_a_bare_touch_tablet_with_the_kiosks_own_keyboard() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    h.sign_in_as_admin();
    h.tap("admin-tab-officers");
    assert!(
        h.find("staff-key-a").is_none(),
        "no keyboard before a field is touched"
    );
    h.tap("admin-officer-name");
    for key in [
        "shift", "l", "ê", "space", "shift", "t", "h", "i", "tone-5", "space", "shift", "t", "h",
        "u", "u", "erase",
    ] {
        h.tap(&format!("staff-key-{key}"));
    }
    h.tap("admin-officer-pin");
    for key in ["2", "4", "6", "8"] {
        h.tap(&format!("staff-key-{key}"));
    }
    h.tap("staff-key-hide");
    assert!(h.find("staff-key-a").is_none());
    h.tap("admin-officer-add");
    let officers = h.store().officers().unwrap();
    assert_eq!(
        officers.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["Lê Thị Thu"]
    );
    assert!(hailong::auth::verify_pin(&officers[0].pin_hash, "2468"));
    // The keyboard goes with the screen.
    h.tap("admin-officer-name");
    assert!(h.find("staff-key-a").is_some());
    h.tap("admin-close");
    assert!(h.find("staff-key-a").is_none());
}

/// The visible controls of the current screen smaller than 48 px either way (with their id or
/// label and size), and how many controls were looked at.
fn small_controls(h: &crate::support::Harness) -> (Vec<String>, usize) {
    use i_slint_backend_testing::{AccessibleRole, ElementQuery};
    let window = h.kiosk.window.window().size();
    let mut small = Vec::new();
    let mut looked = 0;
    for role in [
        AccessibleRole::Button,
        AccessibleRole::Checkbox,
        AccessibleRole::TextInput,
    ] {
        for e in ElementQuery::from_root(&h.kiosk.window)
            .match_accessible_role(role)
            .find_all()
        {
            let (at, size) = (e.absolute_position(), e.size());
            // Scrolled out of view, or not laid out.
            if size.width <= 0. || at.y >= window.height as f32 || at.y + size.height <= 0. {
                continue;
            }
            looked += 1;
            if size.width < 48. || size.height < 48. {
                let name = e
                    .accessible_id()
                    .or_else(|| e.accessible_label())
                    .unwrap_or_default();
                small.push(format!("{name} {}x{}", size.width, size.height));
            }
        }
    }
    (small, looked)
}

#[test]
fn every_staff_control_is_at_least_48_px_in_both_directions() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    tablet.add_officer("Nguyễn Thị Hoa", "2468");
    tablet.load_catalogue();
    let h = tablet.start(1280., 800.);
    let mut seen = Vec::new();
    h.open_staff();
    seen.push(("sign-in", small_controls(&h)));
    h.tap("officer-admin");
    h.type_pin(ADMIN_PIN);
    for tab in crate::support::ADMIN_TABS {
        h.tap(&format!("admin-tab-{tab}"));
        seen.push((tab, small_controls(&h)));
    }
    h.tap("admin-tab-settings");
    h.tap("settings-page-screens");
    seen.push(("settings, citizen screens", small_controls(&h)));
    h.tap("admin-tab-officers");
    h.tap("admin-officer-name");
    seen.push(("keyboard", small_controls(&h)));
    for (screen, (_, looked)) in &seen {
        assert!(*looked >= 3, "{screen}: only {looked} controls found");
    }
    let small: Vec<_> = seen
        .into_iter()
        .filter(|(_, (s, _))| !s.is_empty())
        .map(|(screen, (s, _))| (screen, s))
        .collect();
    assert!(small.is_empty(), "under 48 px: {small:#?}");
}

#[test]
fn a_message_never_moves_the_button_that_was_tapped() {
    let h = Tablet::new(Scale::Three, Lang::Vi).start(1280., 800.);
    std::fs::write(h.tablet.dir.path().join("sai.csv"), "code,name\n1,2\n").unwrap();
    h.sign_in_as_admin();
    let place = |id: &str| {
        let e = h.find(id).unwrap_or_else(|| panic!("no element {id}"));
        (e.absolute_position(), e.size())
    };
    h.tap("admin-tab-catalogue");
    let before = place("admin-catalogue-import-0");
    h.tap("admin-catalogue-import-0");
    assert!(h.find("admin-catalogue-result").is_some());
    assert_eq!(
        place("admin-catalogue-import-0"),
        before,
        "a second tap lands on the same file"
    );

    h.tap("admin-tab-settings");
    let before = place("settings-save");
    h.fill("settings-counter-name", "");
    h.fill("settings-admin-pin", "1");
    h.tap("settings-save");
    assert!(h.find("settings-problem-counter_name").is_some());
    assert_eq!(place("settings-save"), before);
}
