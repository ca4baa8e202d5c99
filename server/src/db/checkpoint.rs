//! Copying the write-ahead log back into the database file on a thread of its own, so that no
//! batch waits for a checkpoint inside its commit.

use super::{Db, DbError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Commits between two background checkpoints. At batch 500 that is a few thousand WAL pages,
/// the size SQLite's own automatic checkpoint would let the log reach anyway (1,000 pages).
const COMMITS_PER_CHECKPOINT: u32 = 4;
/// The writer checkpoints by itself only past this many pages: a safety net for when the
/// background thread is gone, not the normal path.
const BACKSTOP_PAGES: u32 = 20_000;

/// The writer's side: counts commits and wakes the checkpointer now and then.
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    commits: u32,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Called after each commit of the writer.
    pub(super) fn committed(&mut self) {
        self.commits += 1;
        if self.commits < COMMITS_PER_CHECKPOINT {
            return;
        }
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                // One wake-up already waiting covers these commits too.
                Ok(()) | Err(TrySendError::Full(())) => self.commits = 0,
                Err(TrySendError::Disconnected(())) => self.wake = None,
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Db {
    /// Moves checkpoints to a background thread with its own connection to `path` (the file
    /// this `Db` was opened on). For the long-running server; short commands don't need it.
    pub fn checkpoint_in_background(&mut self, path: &Path) -> Result<(), DbError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
        let (wake, woken) = mpsc::sync_channel(1);
        let thread =
            crate::threads::spawn("checkpoint".into(), move || checkpoint_loop(&conn, &woken))
                .map_err(DbError::Thread)?;
        self.checkpointer = Some(Checkpointer {
            wake: Some(wake),
            commits: 0,
            thread: Some(thread),
        });
        Ok(())
    }
}

fn checkpoint_loop(conn: &Connection, woken: &Receiver<()>) {
    while woken.recv().is_ok() {
        // PASSIVE: copies what it can without waiting for the writer or readers.
        let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match result {
            Ok((log, done)) => tracing::trace!(log, done, "checkpoint"),
            Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating};
    use chrono::Utc;

    #[test]
    fn the_background_thread_copies_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut db = Db::open(&path).unwrap();
        let device = paired(&mut db, "Quầy 1");
        // Held open, so that no connection closing is the last one and checkpoints on its way.
        let reader = Connection::open(&path).unwrap();
        let _: i64 = reader
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
            .unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        db.checkpoint_in_background(&path).unwrap();
        for commit in 0..COMMITS_PER_CHECKPOINT {
            let items = (0..100)
                .map(|n| rating(commit * 100 + n, "000.17.22.H56-210531-0001"))
                .collect();
            db.ingest(&[&batch(&device, items)], Utc::now()).unwrap();
        }
        // Far below the 1,000 pages at which the writer would checkpoint by itself.
        drop(db); // waits for the checkpoint thread to finish its last wake-up
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(
            after > before + 64 * 1024,
            "the database file grew from {before} to {after} bytes only"
        );
    }
}
