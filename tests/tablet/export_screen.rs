//! The administrator's "Xuất báo cáo" tab through Slint's testing backend: period, format and
//! destination picked on screen, the export on its own thread with progress, the file on a
//! (fake-mounted) USB stick, a stick pulled out mid-export, an unwritable folder.

use crate::support::{Harness, Tablet};
use hailong::export::{ExportEvent, ExportProblem};
use hailong::settings::Lang;
use hailong::ui::ExportKind;
use hailong::usb::MountTable;
use hailong_core::level::Scale;
use hailong_core::period::ReportPeriod;
use serde_json::Value;
use slint::Model;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// A tablet with demo ratings over the last 120 days, and a USB stick "KINGSTON" mounted
/// under a fake `/media` that the kiosk's mount table lists.
fn tablet_with_stick(ratings: u64) -> (Harness, PathBuf) {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    tablet.fill_demo(ratings, 120, 11);
    let (stick, mounts) = tablet.fake_stick("KINGSTON");
    let h = tablet.start(1280., 800.);
    h.kiosk.use_mount_table(mounts);
    (h, stick)
}

/// Sends the export's events, from its thread, to the returned channel.
pub(crate) fn capture(h: &Harness) -> Receiver<ExportEvent> {
    let (send, receive) = channel();
    h.kiosk.report_exports_to(move |event| {
        let _ = send.send(event);
    });
    receive
}

/// Shows every event of one export until its outcome, which is returned; progress must only
/// go forward and end at the total.
pub(crate) fn follow(h: &Harness, events: &Receiver<ExportEvent>) -> ExportEvent {
    let mut last = None;
    loop {
        // The deadline only stops a broken test from hanging.
        let event = events.recv_timeout(Duration::from_secs(120)).unwrap();
        h.kiosk.show_export(&event);
        match event {
            ExportEvent::Progress { done, total } => {
                assert!(h.admin().get_export_running());
                assert_eq!(h.admin().get_export_done() as u64, done);
                assert!(done <= total);
                if let Some((before, _)) = last {
                    assert!(done >= before, "progress went back");
                }
                last = Some((done, total));
            }
            outcome => {
                assert!(!h.admin().get_export_running());
                if let (Some((done, total)), ExportEvent::Written { .. }) = (last, &outcome) {
                    assert_eq!(done, total, "the bar ends full");
                }
                return outcome;
            }
        }
    }
}

pub(crate) fn destination(h: &Harness, i: usize) -> String {
    h.admin()
        .get_export_destinations()
        .row_data(i)
        .map(|d| d.path.to_string())
        .unwrap_or_default()
}

#[test]
fn a_quarter_exported_to_a_usb_stick_holds_the_figures_of_the_database() {
    let (h, stick) = tablet_with_stick(3000);
    let events = capture(&h);
    h.sign_in_as_admin();
    h.tap("admin-tab-export");

    // The stick first, then the report folder in the data dir; this month shown, no later one.
    assert_eq!(destination(&h, 0), stick.display().to_string());
    assert_eq!(
        destination(&h, 1),
        h.tablet.data.reports().display().to_string()
    );
    assert_eq!(h.admin().get_export_destination(), 0);
    assert_eq!(h.admin().get_export_kind(), ExportKind::Month);
    assert_eq!(
        (h.admin().get_export_year(), h.admin().get_export_number()),
        (2026, 11)
    );
    assert!(h.admin().get_export_latest());
    h.tap("export-later");
    assert_eq!(
        h.admin().get_export_number(),
        11,
        "no period after this one"
    );

    // Back to the third quarter and forward again to the fourth.
    h.tap("export-kind-quarter");
    assert_eq!(h.admin().get_export_kind(), ExportKind::Quarter);
    assert_eq!(h.admin().get_export_number(), 4);
    h.tap("export-earlier");
    assert_eq!(h.admin().get_export_number(), 3);
    assert_eq!(h.admin().get_export_from(), "01/07/2026");
    assert_eq!(h.admin().get_export_to(), "30/09/2026");
    assert!(!h.admin().get_export_latest());
    h.tap("export-later");
    assert_eq!(h.admin().get_export_number(), 4);
    h.tap("export-format-json");
    assert_eq!(h.admin().get_export_format(), "json");

    h.tap("export-start");
    assert!(h.admin().get_export_running());
    let outcome = follow(&h, &events);
    let file = stick.join("hailong-2026-Q4.json");
    assert_eq!(
        outcome,
        ExportEvent::Written {
            path: file.clone(),
            ratings: h
                .store()
                .summary(
                    ReportPeriod::Quarter {
                        year: 2026,
                        quarter: 4
                    }
                    .range()
                )
                .unwrap()
                .total(),
        }
    );
    assert_eq!(h.admin().get_export_outcome(), "written");
    assert!(
        h.label("export-outcome")
            .contains(&file.display().to_string()),
        "the message names the file"
    );
    let json: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let counts = h
        .store()
        .summary(
            ReportPeriod::Quarter {
                year: 2026,
                quarter: 4,
            }
            .range(),
        )
        .unwrap();
    assert_eq!(json["total"].as_u64(), Some(counts.total()));
    assert_eq!(json["unrated"].as_u64(), Some(counts.unrated));
    assert_eq!(json["period"]["code"], "2026-Q4");

    // A second export never overwrites the first; an Excel report of the year goes beside it.
    h.tap("export-start");
    let ExportEvent::Written { path, .. } = follow(&h, &events) else {
        panic!("the second export failed");
    };
    assert_eq!(path, stick.join("hailong-2026-Q4-2.json"));
    h.tap("export-kind-year");
    h.tap("export-format-xlsx");
    h.tap("export-start");
    let ExportEvent::Written { path, ratings } = follow(&h, &events) else {
        panic!("the XLSX export failed");
    };
    assert_eq!(path, stick.join("hailong-2026.xlsx"));
    assert_eq!(
        ratings,
        h.store()
            .summary(ReportPeriod::Year(2026).range())
            .unwrap()
            .total()
    );
    // The PDF report is the first choice on the screen, for the office to sign.
    h.tap("export-format-pdf");
    assert_eq!(h.admin().get_export_format(), "pdf");
    h.tap("export-start");
    let ExportEvent::Written { path, .. } = follow(&h, &events) else {
        panic!("the PDF export failed");
    };
    assert_eq!(path, stick.join("hailong-2026.pdf"));
    let pdf = std::fs::read(&path).unwrap();
    assert!(
        pdf.starts_with(b"%PDF-") && pdf.len() > 10_000,
        "{} bytes",
        pdf.len()
    );
    let names: Vec<String> = std::fs::read_dir(&stick)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "no partial file left: {names:?}");
}

#[test]
fn a_stick_pulled_out_mid_export_leaves_no_file_and_the_message_says_so() {
    let (h, stick) = tablet_with_stick(300);
    let (send, events) = channel();
    // The stick goes while the file is being written: on the export's thread, at its first
    // progress report, when the unfinished file is already on the stick.
    let pulled = stick.clone();
    h.kiosk.report_exports_to(move |event| {
        if matches!(event, ExportEvent::Progress { .. }) && pulled.exists() {
            let partial: Vec<PathBuf> = std::fs::read_dir(&pulled)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(partial.len(), 1, "the unfinished file is there");
            std::fs::remove_dir_all(&pulled).unwrap();
        }
        let _ = send.send(event);
    });
    h.sign_in_as_admin();
    h.tap("admin-tab-export");
    h.tap("export-format-csv");
    h.tap("export-start");
    let outcome = follow(&h, &events);
    assert_eq!(
        outcome,
        ExportEvent::Failed {
            problem: ExportProblem::Gone,
            path: Some(stick.join("hailong-2026-11-ratings.csv")),
            removed: true,
        }
    );
    assert!(!stick.exists());
    assert_eq!(h.admin().get_export_outcome(), "gone");
    assert!(h.admin().get_export_removed());
    assert!(
        h.label("export-outcome")
            .contains("hailong-2026-11-ratings.csv")
    );

    // The system unmounts it; looking again finds only the report folder, and exporting
    // there works.
    std::fs::write(
        h.tablet.dir.path().join("mounts"),
        "/dev/vda1 / ext4 rw 0 0\n",
    )
    .unwrap();
    h.tap("export-rescan");
    assert_eq!(h.admin().get_export_destinations().row_count(), 1);
    h.tap("export-start");
    assert!(matches!(
        follow(&h, &events),
        ExportEvent::Written { path, .. } if path.starts_with(h.tablet.data.reports())
    ));
}

#[test]
fn a_folder_that_cannot_be_made_is_refused_with_its_path() {
    let tablet = Tablet::new(Scale::Three, Lang::En);
    let blocker = tablet.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the folder should be").unwrap();
    let folder = blocker.join("reports");
    let configured = folder.clone();
    tablet.change_settings(move |s| s.export_dir = Some(configured));
    let h = tablet.start(1280., 800.);
    h.kiosk.use_mount_table(MountTable {
        table: Path::new("/nonexistent").to_owned(),
        roots: Vec::new(),
    });
    let events = capture(&h);
    h.sign_in_as_admin();
    h.tap("admin-tab-export");
    assert_eq!(destination(&h, 0), folder.display().to_string());
    h.tap("export-start");
    assert!(matches!(
        follow(&h, &events),
        ExportEvent::Failed {
            problem: ExportProblem::Write,
            path: None,
            ..
        }
    ));
    assert_eq!(h.admin().get_export_outcome(), "write");
    assert!(
        h.label("export-outcome")
            .contains(&folder.display().to_string())
    );
    assert!(blocker.is_file(), "nothing was destroyed");
}
