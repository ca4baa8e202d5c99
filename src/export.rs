//! `hailong export --format csv`: one row per rating, UTF-8 with a BOM so Excel shows Vietnamese.

use crate::store::{Store, StoreError};
use hailong_core::period::DateRange;
use std::io::Write;
use std::path::Path;

/// The documented columns, in order (README.md describes each).
pub const CSV_COLUMNS: [&str; 16] = [
    "id",
    "seq",
    "recorded_at",
    "outcome",
    "satisfied",
    "reasons",
    "comment",
    "dossier",
    "procedure_code",
    "procedure_name",
    "field_name",
    "officer_id",
    "officer_name",
    "repeat_dossier",
    "finished",
    "counted",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes the ratings in `range` to `out` (through a temporary file, so a failed export
/// never leaves half a file behind); returns the number of rows.
pub fn export_csv(store: &Store, range: DateRange, out: &Path) -> Result<usize, ExportError> {
    let werr = |source: std::io::Error| ExportError::Write {
        path: out.display().to_string(),
        source,
    };
    let tmp = out.with_file_name(format!(
        ".{}.partial",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into())
    ));
    let file = std::fs::File::create(&tmp).map_err(werr)?;
    let mut buffered = std::io::BufWriter::new(file);
    buffered.write_all("\u{feff}".as_bytes()).map_err(werr)?;
    let mut writer = csv::Writer::from_writer(buffered);
    let mut failure: Option<csv::Error> = None;
    let result = (|| {
        writer
            .write_record(CSV_COLUMNS)
            .map_err(|e| werr(e.into()))?;
        let rows = store.for_each_rating(range, |r, extras| {
            if failure.is_some() {
                return;
            }
            let level = r.outcome.level();
            let record = [
                r.id.clone(),
                r.seq.to_string(),
                r.recorded_at.to_rfc3339(),
                r.outcome.code().to_owned(),
                level.map_or(String::new(), |l| u8::from(l.is_satisfied()).to_string()),
                r.reasons
                    .iter()
                    .map(|x| x.code())
                    .collect::<Vec<_>>()
                    .join(" "),
                r.comment.clone().unwrap_or_default(),
                r.dossier.clone().unwrap_or_default(),
                r.procedure_code.clone().unwrap_or_default(),
                extras.procedure_name.clone().unwrap_or_default(),
                extras.field_name.clone().unwrap_or_default(),
                r.officer
                    .as_ref()
                    .map_or(String::new(), |o| o.id.to_string()),
                r.officer.as_ref().map_or(String::new(), |o| o.name.clone()),
                u8::from(r.repeat_dossier).to_string(),
                u8::from(r.finished).to_string(),
                u8::from(level.is_some() && !r.repeat_dossier).to_string(),
            ];
            if let Err(e) = writer.write_record(&record) {
                failure = Some(e);
            }
        })?;
        if let Some(e) = failure.take() {
            return Err(werr(e.into()));
        }
        let buffered = writer.into_inner().map_err(|e| werr(e.into_error()))?;
        let file = buffered.into_inner().map_err(|e| werr(e.into_error()))?;
        file.sync_all().map_err(werr)?;
        std::fs::rename(&tmp, out).map_err(werr)?;
        Ok(rows)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
