//! Reports from this tablet alone, with no network: `hailong-report`'s files, read from the
//! tablet's store. Used by `hailong export` and the administrator's "Xuất báo cáo" screen.

use crate::settings::Settings;
use crate::store::Store;
use chrono::{DateTime, FixedOffset};
use hailong_core::level::Scale;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::report::{Entry, Heading};
use hailong_report::{ExportError, Format, Lang, Source, SourceError};
use std::path::{Path, PathBuf};

/// The tablet's store as a report source; every entry carries this tablet's counter.
pub struct TabletSource<'a> {
    pub store: &'a Store,
    pub settings: &'a Settings,
}

impl Source for TabletSource<'_> {
    fn scale(&self) -> Result<Scale, SourceError> {
        Ok(self.settings.scale)
    }

    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError> {
        Ok(self.store.entry_count(range)?)
    }

    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError> {
        Ok(self
            .store
            .for_each_entry(range, &self.settings.counter_name, each)?)
    }

    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError> {
        Ok(self.store.misuse_by_month(range)?)
    }
}

/// The heading of a report made on this tablet now.
pub fn heading(settings: &Settings, period: ReportPeriod, now: DateTime<FixedOffset>) -> Heading {
    Heading {
        unit: settings.unit_name.clone(),
        period,
        made_at: now.to_rfc3339(),
        letterhead: settings.letterhead.clone(),
    }
}

/// A report the administrator asked for on the "Xuất báo cáo" screen.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub period: ReportPeriod,
    pub format: Format,
    pub lang: Lang,
    /// The USB stick or folder the file goes in; its name is made from the period.
    pub folder: PathBuf,
}

/// How an export on its own thread is going, for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEvent {
    /// Entries done out of the period's entries.
    Progress { done: u64, total: u64 },
    /// The file is whole at `path`; `ratings` were counted into it.
    Written { path: PathBuf, ratings: u64 },
    Failed {
        problem: ExportProblem,
        /// The file that was being written, if it got that far.
        path: Option<PathBuf>,
        /// Whether the unfinished file is gone (always, unless its removal failed too).
        removed: bool,
    },
}

/// Why an export failed, in terms the administrator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportProblem {
    /// The folder vanished: the USB stick was pulled out.
    Gone,
    Full,
    ReadOnly,
    /// Any other write error.
    Write,
    /// The ratings could not be read.
    Database,
    /// More entries than a spreadsheet holds.
    TooManyRows,
}

impl ExportProblem {
    /// A short stable code for the UI and logs.
    pub fn code(self) -> &'static str {
        match self {
            ExportProblem::Gone => "gone",
            ExportProblem::Full => "full",
            ExportProblem::ReadOnly => "read_only",
            ExportProblem::Write => "write",
            ExportProblem::Database => "database",
            ExportProblem::TooManyRows => "too_many_rows",
        }
    }

    fn of_io(e: &std::io::Error) -> ExportProblem {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => ExportProblem::Gone,
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => ExportProblem::Full,
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => ExportProblem::ReadOnly,
            _ => ExportProblem::Write,
        }
    }
}

/// A file name in `folder` for `job` that no earlier file has: `hailong-2026-Q1.xlsx`, then
/// `hailong-2026-Q1-2.xlsx`, … so an earlier report is never overwritten. The name says what
/// the file holds (`hailong-2026-Q1-summary.csv`, [`Format::file_name`]).
pub fn free_name(folder: &Path, period: ReportPeriod, format: Format) -> PathBuf {
    let first = format.file_name(&period.code());
    let extension = format!(".{}", format.extension());
    let stem = first.strip_suffix(&extension).unwrap_or(&first).to_owned();
    (1u32..)
        .map(|n| {
            let name = if n == 1 {
                first.clone()
            } else {
                format!("{stem}-{n}{extension}")
            };
            folder.join(name)
        })
        .find(|path| !path.exists() && !hailong_report::file::partial_path(path).exists())
        .unwrap_or_else(|| folder.join(&first))
}

/// Runs `job` on the database at `db` (read through its own connection), telling `report`
/// how it goes; the last event is `Written` or `Failed`.
pub fn run(
    db: &Path,
    settings: &Settings,
    job: &ExportJob,
    now: DateTime<FixedOffset>,
    report: &dyn Fn(ExportEvent),
) {
    let store = match Store::open_reader(db) {
        Ok(store) => store,
        Err(e) => {
            tracing::error!(error = %e, "the database could not be opened for an export");
            return report(ExportEvent::Failed {
                problem: ExportProblem::Database,
                path: None,
                removed: true,
            });
        }
    };
    if let Err(e) = std::fs::create_dir_all(&job.folder) {
        tracing::warn!(folder = %job.folder.display(), error = %e, "no folder to export to");
        return report(ExportEvent::Failed {
            problem: ExportProblem::of_io(&e),
            path: None,
            removed: true,
        });
    }
    let out = free_name(&job.folder, job.period, job.format);
    let source = TabletSource {
        store: &store,
        settings,
    };
    let result = hailong_report::export(
        &source,
        heading(settings, job.period, now),
        job.format,
        job.lang,
        &out,
        &mut |done, total| report(ExportEvent::Progress { done, total }),
    );
    report(match result {
        Ok(written) => {
            tracing::info!(path = %out.display(), period = %job.period.code(), format = job.format.code(), "report exported");
            ExportEvent::Written {
                path: out,
                ratings: written.counts.total(),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "report not exported");
            let (problem, removed) = match &e {
                ExportError::Write {
                    source, removed, ..
                } => (ExportProblem::of_io(source), *removed),
                ExportError::Source(_) => (ExportProblem::Database, true),
                ExportError::Xlsx(_) => (ExportProblem::Write, true),
                ExportError::TooManyRows(_) => (ExportProblem::TooManyRows, true),
            };
            ExportEvent::Failed {
                problem,
                path: Some(out),
                removed,
            }
        }
    });
}
