//! Where a server keeps what it is sent: one SQLite file, the commune's embedded default, with
//! a writing connection (group commit through the writer thread, checkpoints on a thread of
//! their own) and a reading one. Opening it takes the file's lock, held until the server that
//! was given it has stopped: a second server, or a restore, waits for it.

use crate::db::{self, Db, DbError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// An opened, locked database, ready to be served.
pub struct Storage {
    pub(crate) path: PathBuf,
    pub(crate) writer: Db,
    pub(crate) reader: Db,
    /// Dropped last, when serving has ended.
    pub(crate) lock: File,
}

/// A backend's error, whichever backend it is.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] DbError),
    #[error(transparent)]
    Postgres(#[from] crate::pg::PgError),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot lock the database {0}: {1}")]
    Lock(PathBuf, std::io::Error),
    #[error("another server is running on {0}")]
    InUse(PathBuf),
    #[error("cannot open the database {0}: {1}")]
    Open(PathBuf, DbError),
}

impl Storage {
    /// Opens (creating or migrating) the SQLite database at `path` for serving.
    pub fn sqlite(path: &Path) -> Result<Storage, StorageError> {
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
        Ok(Storage {
            path: path.to_owned(),
            writer,
            reader,
            lock,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
