//! Where a server keeps what it is sent. One SQLite file, the commune's embedded default, with
//! a writing connection (group commit through the writer thread, checkpoints on a thread of
//! their own) and a reading one; opening it takes the file's lock, held until the server that
//! was given it has stopped: a second server, or a restore, waits for it. Or a PostgreSQL
//! database, a province's, through a pool (group commit through the writer task).

use crate::db::{self, Db, DbError};
use crate::pg::Pg;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where a server keeps its data, opened and ready to be served.
// One per server: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Storage {
    Sqlite(SqliteStorage),
    Postgres(PostgresStorage),
}

/// An opened, locked SQLite database.
pub struct SqliteStorage {
    pub(crate) path: PathBuf,
    pub(crate) writer: Db,
    pub(crate) reader: Db,
    /// Dropped last, when serving has ended.
    pub(crate) lock: File,
}

/// A migrated PostgreSQL database, and the folder of the server's own files (downloads being
/// made), which a database server does not hold.
pub struct PostgresStorage {
    pub(crate) pg: Pg,
    pub(crate) files: PathBuf,
}

/// A backend's error, whichever backend it is.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] DbError),
    #[error(transparent)]
    Postgres(#[from] crate::pg::PgError),
    /// A report's reading of the ratings.
    #[error("cannot read the ratings: {0}")]
    Source(String),
    /// A batch whose predecessor in its pass was not stored (`turns`).
    #[error(transparent)]
    OutOfOrder(#[from] crate::turns::OutOfOrder),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot lock the database {0}: {1}")]
    Lock(PathBuf, std::io::Error),
    #[error("another server is running on {0}")]
    InUse(PathBuf),
    #[error("cannot open the database {0}: {1}")]
    Open(PathBuf, DbError),
    #[error("cannot use the PostgreSQL database: {0}")]
    Postgres(crate::pg::PgError),
}

impl Storage {
    /// Opens (creating or migrating) the SQLite database at `path` for serving.
    pub fn sqlite(path: &Path) -> Result<Storage, StorageError> {
        Ok(Storage::Sqlite(SqliteStorage::open(path)?))
    }

    /// Connects to the PostgreSQL database at `url` (creating or migrating its schema); the
    /// server's own files go in `files`.
    pub async fn postgres(url: &str, files: &Path) -> Result<Storage, StorageError> {
        let pg = Pg::connect(url).await.map_err(StorageError::Postgres)?;
        Ok(Storage::Postgres(PostgresStorage {
            pg,
            files: files.to_owned(),
        }))
    }
}

impl SqliteStorage {
    fn open(path: &Path) -> Result<SqliteStorage, StorageError> {
        let lock = db::lock(path)
            .map_err(|e| StorageError::Lock(path.to_owned(), e))?
            .ok_or_else(|| StorageError::InUse(path.to_owned()))?;
        let open = |path: &Path| Db::open(path).map_err(|e| StorageError::Open(path.to_owned(), e));
        let mut writer = open(path)?;
        writer
            .checkpoint_in_background(path)
            .map_err(|e| StorageError::Open(path.to_owned(), e))?;
        let reader = open(path)?;
        if let Err(e) = hailong_report::file::make_database_private(path) {
            tracing::warn!(error = %e, "cannot make the database files private");
        }
        Ok(SqliteStorage {
            path: path.to_owned(),
            writer,
            reader,
            lock,
        })
    }
}
