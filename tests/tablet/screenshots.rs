//! Renders every screen in both languages and orientations to `target/screenshots/` (looked
//! at by people, not compared by pixels).

use crate::support::{Tablet, wait};
use hailong::settings::Lang;
use hailong_core::level::Scale;
use std::time::Duration;

#[test]
fn every_screen_renders_in_both_languages_and_orientations() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            for scale in [Scale::Three, Scale::Five] {
                let h = Tablet::new(scale, lang).start(w, h_);
                let name = |screen: &str| {
                    out.join(format!(
                        "{screen}-{}-{}x{}-{}.png",
                        lang.code(),
                        w,
                        h_,
                        scale.number()
                    ))
                };
                h.snapshot(&name("citizen"));
                // Large text and high contrast; in grayscale too, where the faces differ by shape.
                h.tap("text-size");
                h.snapshot(&name("citizen-aa"));
                let colour = image::open(name("citizen-aa")).unwrap();
                colour.grayscale().save(name("citizen-aa-gray")).unwrap();
                if scale == Scale::Three {
                    h.tap("level-unsatisfied");
                    h.tap("reason-late");
                    h.snapshot(&name("reasons-aa"));
                    h.tap("send");
                    h.snapshot(&name("thanks-aa"));
                    wait(Duration::from_secs(5));
                }
                if scale == Scale::Five {
                    continue;
                }
                h.tap("level-unsatisfied");
                h.tap("reason-long_wait");
                h.snapshot(&name("reasons"));
                h.tap("comment");
                h.type_keys(&[
                    "key-c", "key-h", "key-ơ", "tone-2", "space", "key-l", "key-â", "key-u",
                    "tone-2",
                ]);
                h.snapshot(&name("comment"));
                h.tap("send");
                h.snapshot(&name("thanks"));
            }
        }
    }
}

#[test]
fn the_staff_screens_render_in_both_languages_and_orientations() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            let tablet = Tablet::new(Scale::Three, lang);
            let hoa = tablet.add_officer("Nguyễn Thị Hoa", "2468");
            tablet.add_officer("Trần Văn Bình", "1357");
            tablet.add_officer("Lê Thị Thu Hương", "8642");
            tablet.load_catalogue();
            let h = tablet.start(w, h_);
            let name =
                |screen: &str| out.join(format!("{screen}-{}-{}x{}.png", lang.code(), w, h_));
            h.scan("000.00.14.H56-200203-0118");
            h.snapshot(&name("citizen-no-shift"));
            h.open_staff();
            h.tap(&format!("officer-{hoa}"));
            h.type_pin("1111");
            h.tap("pin-1");
            h.tap("pin-2");
            h.snapshot(&name("sign-in"));
            h.tap("pin-erase");
            h.tap("pin-erase");
            h.type_pin("2468");
            h.type_code("38.98.H29-210519-0013");
            h.tap("dossier-next");
            h.snapshot(&name("console-warning"));
            h.tap("pad-clear");
            h.type_code("000.00.14.H56-200230-00");
            h.tap("dossier-next");
            h.tap("pad-letters");
            h.snapshot(&name("console-error"));
            h.tap("pad-letters");
            h.tap("pad-clear");
            h.type_code("000.00.14.H56-200203-0118");
            h.tap("dossier-next");
            h.type_on("search", &["key-c", "key-h", "key-u", "key-n", "key-g"]);
            h.snapshot(&name("console-procedure"));
            h.tap("procedure-2.000815");
            h.snapshot(&name("citizen-armed"));
        }
    }
}

#[test]
fn the_admin_screens_render_in_both_languages_and_orientations() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            let tablet = Tablet::new(Scale::Three, lang);
            tablet.fill_demo(3000, 120, 7);
            let h = tablet.start(w, h_);
            let name =
                |screen: &str| out.join(format!("{screen}-{}-{}x{}.png", lang.code(), w, h_));
            h.sign_in_as_admin();
            h.tap("admin-period-quarter");
            h.snapshot(&name("admin-summary"));
            h.tap("admin-by-field");
            h.snapshot(&name("admin-by-field"));
            // The summary was shot above; export has its own test.
            for tab in crate::support::ADMIN_TABS
                .into_iter()
                .filter(|t| !["summary", "export"].contains(t))
            {
                h.tap(&format!("admin-tab-{tab}"));
                h.snapshot(&name(&format!("admin-{tab}")));
            }
            h.tap("admin-tab-settings");
            h.tap("settings-page-screens");
            h.snapshot(&name("admin-settings-screens"));
            h.tap("settings-page-reports");
            h.snapshot(&name("admin-settings-reports"));
            // The messages: a refused officer, a refused catalogue, refused settings.
            h.tap("admin-tab-officers");
            h.fill("admin-officer-name", "Trần Văn Bình");
            h.fill("admin-officer-pin", "12");
            h.tap("admin-officer-add");
            h.snapshot(&name("admin-officers-problem"));
            h.tap("admin-officer-name");
            h.snapshot(&name("admin-officers-keyboard"));
            h.tap("staff-key-hide");
            std::fs::write(
                h.tablet.dir.path().join("tinh.csv"),
                "code,name_vi,field_vi,field_code\n1.1,A,B,c\n1.1,D,E,f\n",
            )
            .unwrap();
            h.tap("admin-tab-catalogue");
            h.tap("admin-catalogue-import-0");
            h.snapshot(&name("admin-catalogue-problem"));
            h.tap("admin-tab-settings");
            h.fill("settings-counter-name", "");
            h.fill("settings-admin-pin", "12");
            h.tap("settings-save");
            h.snapshot(&name("admin-settings-problem"));
        }
    }
}

/// The server tab in its states, from reports as the sender makes them: paired over plain
/// HTTP during an outage with refused ratings, and a refused pairing.
#[test]
fn the_server_tab_renders_its_states_in_both_languages_and_orientations() {
    use chrono::DateTime;
    use hailong::store::{OutboxCounts, RejectedRating, SyncRecord};
    use hailong::sync::{Pairing, SyncStatus};
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let at = |t: &str| Some(DateTime::parse_from_rfc3339(t).unwrap());
    let refused = |id: &str, outcome: &str, dossier: Option<&str>, error: &str| RejectedRating {
        id: id.into(),
        recorded_at: at("2026-11-20T14:32:00+07:00"),
        outcome: outcome.into(),
        dossier: dossier.map(Into::into),
        error: error.into(),
    };
    let outage = SyncStatus {
        server: Some("http://192.168.1.20:8080".into()),
        plain_http: true,
        counts: OutboxCounts {
            queued: 37,
            rejected: 2,
        },
        rejected: vec![
            refused(
                "a",
                "unsatisfied",
                Some("000.00.14.H56-261120-0042"),
                "bad_reason",
            ),
            refused("b", "satisfied", None, "bad_created_at"),
        ],
        record: SyncRecord {
            last_success: at("2026-11-23T08:41:00+07:00"),
            last_error: Some("unreachable".into()),
        },
        retry_at: at("2026-11-23T09:04:10+07:00"),
        sending: false,
        pairing: Pairing::Idle,
        refused: false,
    };
    let unpaired = SyncStatus {
        counts: OutboxCounts {
            queued: 412,
            rejected: 0,
        },
        pairing: Pairing::Failed("code_used"),
        ..SyncStatus::default()
    };
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            let h = Tablet::new(Scale::Three, lang).start(w, h_);
            let name =
                |screen: &str| out.join(format!("{screen}-{}-{}x{}.png", lang.code(), w, h_));
            h.sign_in_as_admin();
            h.tap("admin-tab-server");
            h.kiosk.show_sync(&outage);
            h.snapshot(&name("admin-server-outage"));
            let revoked = SyncStatus {
                record: SyncRecord {
                    last_success: at("2026-11-23T08:41:00+07:00"),
                    last_error: Some("unauthorised".into()),
                },
                retry_at: None,
                refused: true,
                ..outage.clone()
            };
            h.kiosk.show_sync(&revoked);
            h.snapshot(&name("admin-server-revoked"));
            h.kiosk.show_sync(&unpaired);
            h.fill("pair-address", "https://hailong.tanlap.gov.vn");
            h.fill("pair-code", "7KQ4MX9RTW");
            h.snapshot(&name("admin-server-unpaired"));
            // A scanned invitation whose server showed another CA.
            h.fill("pair-address", "https://192.168.1.20:8443");
            h.admin().set_pair_pinned(true);
            h.kiosk.show_sync(&SyncStatus {
                pairing: Pairing::Failed("ca_mismatch"),
                ..unpaired.clone()
            });
            h.snapshot(&name("admin-server-ca-mismatch"));
        }
    }
}

#[test]
fn the_start_screens_render_in_both_languages_and_orientations() {
    use hailong::clock::ManualClock;
    use hailong::kiosk::{FirstRun, Kiosk, fatal_window};
    use hailong::paths::DataDir;
    use slint::ComponentHandle;
    use std::sync::Arc;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    crate::support::init_backend();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            let name =
                |screen: &str| out.join(format!("{screen}-{}-{}x{}.png", lang.code(), w, h_));
            let clock = Arc::new(ManualClock::new(crate::support::now()));
            let shoot = |window: &hailong::ui::AppWindow, screen: &str| {
                window.window().set_size(slint::LogicalSize::new(w, h_));
                window.show().unwrap();
                hailong::kiosk::show_language(window, lang.code());
                let buffer = window.window().take_snapshot().unwrap();
                image::save_buffer(
                    name(screen),
                    buffer.as_bytes(),
                    buffer.width(),
                    buffer.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .unwrap();
                window.hide().unwrap();
            };
            let empty = tempfile::tempdir().unwrap();
            let setup =
                FirstRun::new(&DataDir::new(empty.path()), clock.clone(), None, |_| {}).unwrap();
            shoot(&setup.window, "setup");
            // The kiosk's keyboard under a field of the form (as when it is touched).
            let keys = setup.window.global::<hailong::ui::FieldKeys>();
            keys.set_active("setup-unit-name".into());
            keys.set_field_bottom(280.);
            keys.set_shown(true);
            shoot(&setup.window, "setup-keyboard");
            keys.set_shown(false);

            let tablet = Tablet::new(Scale::Three, lang);
            std::fs::write(tablet.data.database(), b"not a database".repeat(200)).unwrap();
            let kiosk = Kiosk::start(&tablet.data, clock.clone()).unwrap();
            shoot(&kiosk.window, "damaged");

            let tablet = Tablet::new(Scale::Three, lang);
            std::fs::create_dir(tablet.data.database()).unwrap();
            let Err(fault) = Kiosk::start(&tablet.data, clock.clone()) else {
                panic!("opened")
            };
            shoot(&fatal_window(&tablet.data, &fault).unwrap(), "fatal");
        }
    }
}

/// The export tab: a stick and the report folder to choose from, an export under way, done,
/// a stick pulled out, one not ejected yet, one ejected.
#[test]
fn the_export_tab_renders_its_states_in_both_languages_and_orientations() {
    use hailong::export::{ExportEvent, ExportProblem};
    use hailong::kiosk::UsbEvent;
    use hailong::usb::DriveError;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (w, h_) in [(1280., 800.), (800., 1280.)] {
        for lang in [Lang::Vi, Lang::En] {
            let tablet = Tablet::new(Scale::Three, lang);
            tablet.fill_demo(2000, 60, 3);
            let (stick, mounts) = tablet.fake_stick("KINGSTON 32GB");
            let h = tablet.start(w, h_);
            h.kiosk.use_mount_table(mounts);
            let (send, events) = std::sync::mpsc::channel();
            h.kiosk.report_exports_to(move |event| {
                let _ = send.send(event);
            });
            let name =
                |screen: &str| out.join(format!("{screen}-{}-{}x{}.png", lang.code(), w, h_));
            h.sign_in_as_admin();
            h.tap("admin-tab-export");
            h.tap("export-kind-quarter");
            h.snapshot(&name("admin-export"));
            h.tap("export-start");
            h.kiosk.show_export(&ExportEvent::Progress {
                done: 1843,
                total: 4795,
            });
            h.snapshot(&name("admin-export-running"));
            loop {
                let event = events
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .unwrap();
                let last = !matches!(event, ExportEvent::Progress { .. });
                h.kiosk.show_export(&event);
                if last {
                    break;
                }
            }
            h.snapshot(&name("admin-export-written"));
            h.kiosk.show_export(&ExportEvent::Failed {
                problem: ExportProblem::Gone,
                path: Some(stick.join("hailong-2026-Q4.xlsx")),
                removed: true,
            });
            h.snapshot(&name("admin-export-gone"));
            // A stick being ejected while a program still holds it, then ejected.
            h.kiosk.show_usb(&UsbEvent::Ejected {
                name: "KINGSTON 32GB".into(),
                outcome: Err(DriveError::Busy),
            });
            h.snapshot(&name("admin-export-eject-busy"));
            h.kiosk.show_usb(&UsbEvent::Ejected {
                name: "KINGSTON 32GB".into(),
                outcome: Ok(()),
            });
            h.snapshot(&name("admin-export-ejected"));
        }
    }
}
