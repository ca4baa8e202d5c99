//! Report files administrators file, the same from a tablet and from the commune server: one
//! row per rating (CSV), the summary (CSV, JSON), the formal XLSX report, the PDF report an
//! office signs, and a PNG chart.
//!
//! Every format is drawn from one pass over a [`Source`]'s entries (see
//! [`hailong_core::report::Tally`]), so every file shows the same figures. Files are written
//! whole or not at all ([`file`]).

mod chart;
mod csv_files;
mod figures;
pub mod file;
mod pdf;
pub mod sqlite;
mod words;
mod xlsx;

pub use chart::{level_rgb, round_up_125};
pub use csv_files::RATING_COLUMNS;
pub use words::{Lang, month_label};

use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::report::{Entry, Group, Heading, Report, Tally};
use std::path::{Path, PathBuf};

/// What a report is read from: a tablet's store or the server's database.
pub trait Source {
    /// The scale the ratings were given on.
    fn scale(&self) -> Result<Scale, SourceError>;
    /// How many entries `for_each_entry` will give: for progress.
    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError>;
    /// Gives every entry in `range`, oldest first, until `each` returns false.
    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError>;
    /// Misuse presses in `range`, per month (`2026-03`).
    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError>;
    /// Counts per tablet, on the server.
    fn by_device(&self, _range: DateRange) -> Result<Vec<Group>, SourceError> {
        Ok(Vec::new())
    }
    /// Whether the devices are communes' servers (on a province's server): the breakdown by
    /// device is then "by commune".
    fn devices_are_communes(&self) -> Result<bool, SourceError> {
        Ok(false)
    }
}

/// A source's own error, kept whole for the log.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}{}", path.display(), if *removed { " (the unfinished file was removed)" } else { "" })]
    Write {
        path: PathBuf,
        source: std::io::Error,
        /// Whether the unfinished file is gone (it always is unless the removal failed too).
        removed: bool,
    },
    #[error("cannot read the ratings: {0}")]
    Source(SourceError),
    #[error("the spreadsheet could not be made: {0}")]
    Xlsx(String),
    #[error(
        "the period has {0} entries, more than a spreadsheet holds; export a shorter period or CSV"
    )]
    TooManyRows(u64),
}

/// A write error inside a format's writer; [`file::write_whole`] names the file and says
/// whether the unfinished one was removed.
impl From<std::io::Error> for ExportError {
    fn from(source: std::io::Error) -> ExportError {
        ExportError::Write {
            path: PathBuf::new(),
            source,
            removed: false,
        }
    }
}

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One row per rating (and per unrated dossier), for programs: RFC 4180, codes, ISO times.
    Csv,
    /// The summary and its breakdowns, one row per group, for programs.
    SummaryCsv,
    /// One row per rating for a spreadsheet with Vietnamese settings: `;` between fields, dates
    /// as dd/mm/yyyy hh:mm, labels, codes kept as text.
    CsvExcel,
    /// The summary for a spreadsheet with Vietnamese settings: `;`, decimal commas, labels.
    SummaryCsvExcel,
    Xlsx,
    /// The report an office prints, signs and files.
    Pdf,
    Png,
    Json,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Csv,
        Format::SummaryCsv,
        Format::CsvExcel,
        Format::SummaryCsvExcel,
        Format::Xlsx,
        Format::Pdf,
        Format::Png,
        Format::Json,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::SummaryCsv => "summary-csv",
            Format::CsvExcel => "csv-excel",
            Format::SummaryCsvExcel => "summary-csv-excel",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
            Format::Png => "png",
            Format::Json => "json",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::SummaryCsv | Format::CsvExcel | Format::SummaryCsvExcel => "csv",
            other => other.code(),
        }
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self.extension() {
            "csv" => "text/csv; charset=utf-8",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "png" => "image/png",
            "pdf" => "application/pdf",
            _ => "application/json",
        }
    }

    /// The file's name for a period (its code, `2026-Q4`): what it holds is in the name, so
    /// two CSV files of a period are never both `hailong-2026-Q4.csv`.
    pub fn file_name(self, period: &str) -> String {
        let what = match self {
            Format::Csv => "-ratings",
            Format::SummaryCsv => "-summary",
            Format::CsvExcel => "-ratings-excel",
            Format::SummaryCsvExcel => "-summary-excel",
            Format::Xlsx | Format::Pdf | Format::Png | Format::Json => "",
        };
        format!("hailong-{period}{what}.{}", self.extension())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.code() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a format: csv, summary-csv, csv-excel, summary-csv-excel, xlsx, \
                 pdf, png or json"
                )
            })
    }
}

/// Told how far an export is: entries done, entries in all.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Progress is reported after every this many entries.
const PROGRESS_EVERY: u64 = 4096;

/// One pass over the entries: counts them into the report, and hands each to `each` (which
/// stops the pass by returning false).
fn tally(
    source: &dyn Source,
    heading: Heading,
    each: &mut dyn FnMut(&Entry) -> bool,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    let range = heading.period.range();
    let total = source.entry_count(range).map_err(ExportError::Source)?;
    let mut tally = Tally::default();
    let mut done = 0u64;
    progress(0, total);
    source
        .for_each_entry(range, &mut |entry| {
            tally.add(entry);
            done += 1;
            if done.is_multiple_of(PROGRESS_EVERY) {
                progress(done, total);
            }
            each(entry)
        })
        .map_err(ExportError::Source)?;
    for (month, n) in source.misuse_by_month(range).map_err(ExportError::Source)? {
        tally.add_misuse(&month, n);
    }
    let mut report = tally.finish(heading, source.scale().map_err(ExportError::Source)?);
    report.by_device = source.by_device(range).map_err(ExportError::Source)?;
    report.devices_are_communes = source.devices_are_communes().map_err(ExportError::Source)?;
    progress(done, total.max(done));
    Ok(report)
}

/// The report for `heading`'s period with no file: for screens, such as the server's dashboard.
pub fn report(source: &dyn Source, heading: Heading) -> Result<Report, ExportError> {
    tally(source, heading, &mut |_| true, &mut |_, _| {})
}

/// The PDF report's bytes: for a mail's attachment.
pub fn pdf(report: &Report, lang: Lang) -> Result<Vec<u8>, ExportError> {
    pdf::render(report, lang).map_err(|e| ExportError::Write {
        path: PathBuf::new(),
        source: std::io::Error::other(e),
        removed: false,
    })
}

/// Writes the report for `heading`'s period to `out` in `format`; returns the report.
pub fn export(
    source: &dyn Source,
    heading: Heading,
    format: Format,
    lang: Lang,
    out: &Path,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    file::write_whole(out, |w| match format {
        Format::Csv => csv_files::ratings(source, heading, lang, w, progress),
        Format::CsvExcel => csv_files::ratings_for_excel(source, heading, lang, w, progress),
        Format::Xlsx => xlsx::write(source, heading, lang, w, progress),
        Format::SummaryCsv | Format::SummaryCsvExcel | Format::Json | Format::Png | Format::Pdf => {
            let report = tally(source, heading, &mut |_| true, progress)?;
            match format {
                Format::SummaryCsv => csv_files::summary(&report, lang, w)?,
                Format::SummaryCsvExcel => csv_files::summary_for_excel(&report, lang, w)?,
                Format::Json => serde_json::to_writer_pretty(&mut *w, &report.to_json())
                    .map_err(std::io::Error::from)?,
                Format::Pdf => pdf::write(&report, lang, w)?,
                _ => chart::write(&report, lang, w)?,
            }
            Ok(report)
        }
    })
}
