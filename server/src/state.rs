//! What every request handler shares: the server's connections and threads, and the ways to
//! run database work off the async threads. The API (`api`) and the dashboard (`web`) both
//! build on it and on nothing of each other.

use crate::db::{Db, DbError};
use crate::limits::{AttemptLimiter, SignInLimits};
use crate::password_checks::PasswordChecks;
use crate::writer::Writer;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hailong_core::period::ReportPeriod;
use hailong_core::report::{Heading, Letterhead};
use hailong_report::{Format, Lang};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct AppState {
    /// The writing connection: pairing and, through the writer thread, batches.
    pub db: Arc<Mutex<Db>>,
    /// A second connection for reads (tokens, summaries): WAL lets it read while a batch is
    /// being committed, so no request waits for another's fsync just to be let in.
    pub reader: Mutex<Db>,
    /// Batches go through the writer thread, which commits concurrent ones together.
    pub writer: Writer,
    pub pair_limiter: AttemptLimiter<IpAddr>,
    pub sign_in_limits: SignInLimits,
    pub password_checks: PasswordChecks,
    /// The database file, for reports read through a connection of their own.
    pub db_path: PathBuf,
    /// The private folder report downloads are made in (`exports::folder`).
    pub exports: PathBuf,
    /// Served over HTTPS: session cookies are marked `Secure`.
    pub https: bool,
    /// How the scheduled backups stand (off when `dir` is none).
    pub backups: crate::backups::SharedState,
}

pub type Shared = Arc<AppState>;

/// Why work sent off the async threads gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The work panicked or its thread was stopped.
    #[error("the work was lost")]
    Lost,
}

/// Runs `work` on the writing connection, off the async threads.
pub(crate) async fn with_db<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&mut Db) -> Result<T, DbError> + Send + 'static,
) -> Result<T, WorkError> {
    let state = state.clone();
    blocking(move || work(&mut state.db.lock().unwrap_or_else(|e| e.into_inner()))).await
}

/// Runs `work` on the reading connection, off the async threads.
pub(crate) async fn with_reader<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&Db) -> Result<T, DbError> + Send + 'static,
) -> Result<T, WorkError> {
    let state = state.clone();
    blocking(move || work(&state.reader.lock().unwrap_or_else(|e| e.into_inner()))).await
}

/// Runs `work` off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, WorkError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| WorkError::Lost)?
        .map_err(WorkError::Db)
}

/// The heading of a report made now on this server.
pub fn report_heading(db: &Db, period: ReportPeriod) -> Result<Heading, DbError> {
    Ok(heading(db.unit_name()?, db.letterhead()?, period))
}

/// The heading of a report of `period` made now for `unit`.
pub fn heading(unit: String, letterhead: Letterhead, period: ReportPeriod) -> Heading {
    Heading {
        unit,
        period,
        made_at: chrono::Local::now().fixed_offset().to_rfc3339(),
        letterhead,
    }
}

/// The report for `period` as a download, made on a read connection of its own (a long
/// export holds up nobody) into a temporary file that is streamed, never held in memory.
pub(crate) async fn report_file(
    state: &Shared,
    period: ReportPeriod,
    format: Format,
    lang: Lang,
) -> Result<Response, StatusCode> {
    let path = state.db_path.clone();
    let folder = state.exports.clone();
    let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let db = Db::open_reader(&path).map_err(|e| e.to_string())?;
        let heading = report_heading(&db, period).map_err(|e| e.to_string())?;
        let temp = folder.join(format!("{}.{}", uuid::Uuid::now_v7(), format.extension()));
        let written = hailong_report::export(&db, heading, format, lang, &temp, &mut |_, _| {})
            .map_err(|e| e.to_string());
        // Opened, then unlinked: the open file is read to the end and gone when closed.
        let opened = written.and_then(|_| std::fs::File::open(&temp).map_err(|e| e.to_string()));
        let _ = std::fs::remove_file(&temp);
        opened
    })
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .map_err(|e| {
        tracing::error!(error = %e, "export failed");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    let length = file.metadata().map(|m| m.len()).ok();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format.file_name(&period.code());
    let mut response = (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            // A report is no one else's: no cache, shared or private, keeps it.
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response();
    if let Some(length) = length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, length.into());
    }
    Ok(response)
}
