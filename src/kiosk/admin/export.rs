//! The "Xuất báo cáo" tab: the period, format and destination the administrator picks, the
//! export on its own thread (the counter keeps working), and its progress and outcome.

use super::Admin;
use crate::export::{self, ExportEvent, ExportJob};
use crate::ui::{AdminAdapter, AppWindow, ExportDestination, ExportKind, KioskAdapter};
use crate::usb;
use hailong_core::period::ReportPeriod;
use hailong_report::Format;
use slint::{ComponentHandle, Model, VecModel};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// Where an export's events go, from its thread: the window's event loop when the kiosk runs.
pub type ExportReporter = Arc<dyn Fn(ExportEvent) + Send + Sync>;

/// Reports that reach the window through its event loop.
pub fn reporter_for(window: &AppWindow) -> ExportReporter {
    let window = window.as_weak();
    Arc::new(move |event| {
        // Fails only once the event loop has quit, when nobody is looking.
        let _ = window.upgrade_in_event_loop(move |w| show_export(&w, &event));
    })
}

fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Puts an export's progress or outcome on the administrator's screen (on the UI thread); the
/// tab shows one message at a time, so one about a stick gives way (not an ejection under way).
pub fn show_export(window: &AppWindow, event: &ExportEvent) {
    let a = window.global::<AdminAdapter>();
    if !matches!(event, ExportEvent::Progress { .. }) {
        super::usb::forget_usb_outcome(&a);
    }
    match event {
        ExportEvent::Progress { done, total } => {
            a.set_export_done(int(*done));
            a.set_export_total(int(*total));
        }
        ExportEvent::Written { path, ratings } => {
            a.set_export_running(false);
            a.set_export_outcome("written".into());
            a.set_export_path(path.display().to_string().into());
            a.set_export_ratings(int(*ratings));
            a.set_export_removed(false);
        }
        ExportEvent::Failed {
            problem,
            path,
            removed,
        } => {
            a.set_export_running(false);
            a.set_export_outcome(problem.code().into());
            if let Some(path) = path {
                a.set_export_path(path.display().to_string().into());
            }
            a.set_export_removed(*removed);
        }
    }
}

/// The period the tab shows.
fn period(a: &AdminAdapter<'_>) -> ReportPeriod {
    let (year, number) = (a.get_export_year(), a.get_export_number());
    let number = u32::try_from(number).unwrap_or(1);
    match a.get_export_kind() {
        ExportKind::Month => ReportPeriod::Month {
            year,
            month: number.clamp(1, 12),
        },
        ExportKind::Quarter => ReportPeriod::Quarter {
            year,
            quarter: number.clamp(1, 4),
        },
        ExportKind::Year => ReportPeriod::Year(year),
    }
}

impl Admin {
    pub(super) fn show_export_tab(&self) {
        let today = self.clock.now().date_naive();
        let unset = self.with(|a| a.get_export_year() == 0).unwrap_or(false);
        if unset {
            self.set_export_period(ReportPeriod::month_of(today));
        }
        self.find_destinations();
    }

    /// Shows `period`, moved back to the one holding today if it lies in the future.
    fn set_export_period(&self, period: ReportPeriod) {
        let today = self.clock.now().date_naive();
        let mut period = period;
        while period.range().from > today {
            period = period.step(-1);
        }
        let (kind, year, number) = match period {
            ReportPeriod::Month { year, month } => (ExportKind::Month, year, month),
            ReportPeriod::Quarter { year, quarter } => (ExportKind::Quarter, year, quarter),
            ReportPeriod::Year(year) => (ExportKind::Year, year, 1),
            ReportPeriod::Range(_) => return,
        };
        let range = period.range();
        self.with(|a| {
            a.set_export_kind(kind);
            a.set_export_year(year);
            a.set_export_number(i32::try_from(number).unwrap_or(1));
            a.set_export_from(range.from.format("%d/%m/%Y").to_string().into());
            a.set_export_to(range.to.format("%d/%m/%Y").to_string().into());
            a.set_export_latest(period.step(1).range().from > today);
        });
    }

    pub(super) fn export_choose_kind(&self, kind: ExportKind) {
        self.idle.touched();
        let Some(current) = self.with(|a| period(&a)) else {
            return;
        };
        // The new kind's period holding the first day of the one shown.
        let first = current.range().from;
        self.set_export_period(match kind {
            ExportKind::Month => ReportPeriod::month_of(first),
            ExportKind::Quarter => ReportPeriod::quarter_of(first),
            ExportKind::Year => ReportPeriod::Year(chrono::Datelike::year(&first)),
        });
    }

    pub(super) fn export_step(&self, by: i32) {
        self.idle.touched();
        if let Some(current) = self.with(|a| period(&a)) {
            self.set_export_period(current.step(by));
        }
    }

    pub(super) fn export_choose_format(&self, code: &str) {
        self.idle.touched();
        if code.parse::<Format>().is_ok() {
            self.with(|a| a.set_export_format(code.into()));
        }
    }

    pub(super) fn export_choose_destination(&self, index: i32) {
        self.idle.touched();
        self.with(|a| {
            if usize::try_from(index).is_ok_and(|i| i < a.get_export_destinations().row_count()) {
                a.set_export_destination(index);
            }
        });
    }

    /// USB sticks first, then the report folder; a stick just plugged in is chosen, else the
    /// one chosen stays chosen if still there.
    pub(super) fn find_destinations(&self) {
        let folder = self
            .settings
            .borrow()
            .export_dir
            .clone()
            .unwrap_or_else(|| self.dir.reports());
        let mut places: Vec<ExportDestination> = self
            .usb
            .borrow()
            .sticks
            .mounted()
            .into_iter()
            .map(|stick| ExportDestination {
                name: usb::display_name(&stick).into(),
                path: stick.display().to_string().into(),
                usb: true,
            })
            .collect();
        places.push(ExportDestination {
            name: usb::display_name(&folder).into(),
            path: folder.display().to_string().into(),
            usb: false,
        });
        self.with(|a| {
            let shown = a.get_export_destinations();
            // Looked for every 2 s: the same places keep their rows (and a finger on one).
            if shown.iter().eq(places.iter().cloned()) {
                return;
            }
            let chosen = shown
                .row_data(usize::try_from(a.get_export_destination()).unwrap_or(0))
                .map(|d| d.path);
            // A stick just plugged in is where the administrator means to save.
            let new_stick = places
                .iter()
                .position(|p| p.usb && !shown.iter().any(|s| s.path == p.path));
            let index = new_stick
                .or_else(|| chosen.and_then(|path| places.iter().position(|p| p.path == path)))
                .unwrap_or(0);
            a.set_export_destination(i32::try_from(index).unwrap_or(0));
            a.set_export_destinations(Rc::new(VecModel::from(places)).into());
        });
    }

    /// Starts the export asked for on its own thread; its events go to the reporter.
    pub(super) fn export_start(&self) {
        self.idle.touched();
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let a = window.global::<AdminAdapter>();
        if a.get_export_running() {
            return;
        }
        let Some(folder) = a
            .get_export_destinations()
            .row_data(usize::try_from(a.get_export_destination()).unwrap_or(usize::MAX))
            .map(|d| PathBuf::from(d.path.as_str()))
        else {
            return;
        };
        let Ok(format) = a.get_export_format().parse::<Format>() else {
            return;
        };
        let lang = window
            .global::<KioskAdapter>()
            .get_language()
            .parse()
            .unwrap_or_default();
        let job = ExportJob {
            period: period(&a),
            format,
            lang,
            folder: folder.clone(),
        };
        a.set_export_running(true);
        a.set_export_done(0);
        a.set_export_total(0);
        a.set_export_outcome("".into());
        super::usb::forget_usb_outcome(&a);
        a.set_export_path(folder.display().to_string().into());
        tracing::info!(period = %job.period.code(), format = format.code(), folder = %folder.display(), "export asked for");
        let settings = self.settings.borrow().clone();
        let db = self.dir.database();
        let now = self.clock.now();
        let report = self.export_reporter.borrow().clone();
        let fallback = report.clone();
        let spawned = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || export::run(&db, &settings, &job, now, &*report));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "no thread for the export");
            fallback(ExportEvent::Failed {
                problem: export::ExportProblem::Write,
                path: None,
                removed: true,
            });
        }
    }
}
