//! What every request handler shares: the server's connections and threads, and the ways to
//! run database work off the async threads. The API (`api`) and the dashboard (`web`) both
//! build on it and on nothing of each other.

use crate::db::{Db, DbError};
use crate::ingest::{Incoming, Stored};
use crate::limits::{AttemptLimiter, SignInLimits};
use crate::password_checks::PasswordChecks;
use crate::pg::{Blocking, PgWriter};
use crate::storage::StoreError;
use crate::store::Store;
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

/// Where the server keeps its data, with the writer its batches go through.
// One per server: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    Sqlite {
        /// The writing connection: pairing and, through the writer thread, batches.
        db: Arc<Mutex<Db>>,
        /// A second connection for reads (tokens, summaries): WAL lets it read while a batch
        /// is being committed, so no request waits for another's fsync just to be let in.
        reader: Mutex<Db>,
        /// Batches go through the writer thread, which commits concurrent ones together.
        writer: Writer,
        /// The database file, for reports read through a connection of their own.
        path: PathBuf,
    },
    Postgres {
        /// The pool, reached from blocking tasks.
        pg: Blocking,
        /// Batches go through the writer task, which commits concurrent ones together.
        writer: PgWriter,
    },
}

pub struct AppState {
    pub backend: Backend,
    pub pair_limiter: AttemptLimiter<IpAddr>,
    pub sign_in_limits: SignInLimits,
    pub password_checks: PasswordChecks,
    /// The private folder report downloads are made in (`exports::folder`).
    pub exports: PathBuf,
    /// Served over HTTPS: session cookies are marked `Secure`.
    pub https: bool,
    /// The commune CA's certificate (PEM), for tablets pairing with its fingerprint.
    pub ca: Option<Arc<str>>,
    /// The address tablets reach this server at (`serve --address`), if given.
    pub address: Option<Arc<str>>,
    /// How the scheduled backups stand (off when `dir` is none).
    pub backups: crate::backups::SharedState,
    /// How forwarding to the province stands.
    pub upstream: crate::upstream::SharedLink,
    /// Each tablet's batches in flight, queued for the writer in their order.
    pub turns: crate::turns::Turns,
}

pub type Shared = Arc<AppState>;

/// Why work sent off the async threads gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The work panicked or its thread was stopped.
    #[error("the work was lost")]
    Lost,
}

impl From<DbError> for WorkError {
    fn from(e: DbError) -> Self {
        WorkError::Store(e.into())
    }
}

/// Runs `work` on the writing connection (SQLite) or the pool (PostgreSQL), off the async
/// threads.
pub(crate) async fn with_db<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, WorkError> {
    let state = state.clone();
    blocking(move || match &state.backend {
        Backend::Sqlite { db, .. } => work(&mut *db.lock().unwrap_or_else(|e| e.into_inner())),
        Backend::Postgres { pg, .. } => work(&mut pg.clone()),
    })
    .await
}

/// Runs `work` on the reading connection (SQLite) or the pool (PostgreSQL), off the async
/// threads.
pub(crate) async fn with_reader<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, WorkError> {
    let state = state.clone();
    blocking(move || match &state.backend {
        Backend::Sqlite { reader, .. } => work(&*reader.lock().unwrap_or_else(|e| e.into_inner())),
        Backend::Postgres { pg, .. } => work(pg),
    })
    .await
}

/// A reader of its own for work that reads long (a report, a page of a year), so that it
/// holds up nobody: a new read-only connection (SQLite) or the pool (PostgreSQL). Call it
/// off the async threads.
pub(crate) fn own_reader(state: &AppState) -> Result<Box<dyn Store>, StoreError> {
    Ok(match &state.backend {
        Backend::Sqlite { path, .. } => Box::new(Db::open_reader(path)?),
        Backend::Postgres { pg, .. } => Box::new(pg.clone()),
    })
}

/// Stores a tablet's batch through the backend's writer; `None` if the server is stopping.
pub(crate) async fn store_batch(
    state: &AppState,
    batch: Incoming,
) -> Option<Result<Stored, StoreError>> {
    // Checked and ready: it goes in the writer's queue in its turn.
    let turn = match batch.order {
        Some(order) => match state.turns.wait(&batch.device_id, order).await {
            Ok(turn) => Some(turn),
            Err(e) => return Some(Err(e.into())),
        },
        None => None,
    };
    let answered = match &state.backend {
        Backend::Sqlite { writer, .. } => writer.queue(batch),
        Backend::Postgres { writer, .. } => writer.queue(batch),
    };
    if let Some(turn) = turn {
        turn.queued();
    }
    answered?.await.ok()
}

/// Runs `work` off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, WorkError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| WorkError::Lost)?
        .map_err(WorkError::Store)
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
    let folder = state.exports.clone();
    let state = state.clone();
    let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
        let store = own_reader(&state).map_err(|e| e.to_string())?;
        let heading = crate::store::report_heading(&*store, period).map_err(|e| e.to_string())?;
        let temp = folder.join(format!("{}.{}", uuid::Uuid::now_v7(), format.extension()));
        let source: &dyn hailong_report::Source = &*store;
        let written = hailong_report::export(source, heading, format, lang, &temp, &mut |_, _| {})
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
