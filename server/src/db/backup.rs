//! Backups of the live database. The copy is made with SQLite's online backup API in one step,
//! so from one read snapshot: tablets go on sending while it is made, and every rating
//! committed before it began is in it. It is written beside its target as `.NAME.partial`,
//! checked (`PRAGMA integrity_check`), synced and only then renamed, so a file under a
//! backup's name is always a whole, checked copy. Its owner's only (0600), like the database.
//!
//! A restore puts a checked backup in place of the database while no server holds it (`serve`
//! keeps a lock on `server.db.lock` for its life), and keeps the database it replaces beside
//! it, never deleting it.

use super::{Db, DbError};
use hailong_report::file::{create_private, partial_path, with_suffix};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupMade {
    pub ratings: i64,
    pub bytes: u64,
}

impl Db {
    /// Copies this database to `out` (see the module's doc); nothing is left at `out` or
    /// beside it if the copy fails.
    pub fn backup_to(&self, out: &Path) -> Result<BackupMade, DbError> {
        let partial = partial_path(out);
        let made = copy_and_check(&self.conn, &partial).and_then(|made| {
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, out)?;
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(made)
        });
        if made.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        made
    }
}

fn copy_and_check(source: &Connection, partial: &Path) -> Result<BackupMade, DbError> {
    // Made empty and private first: SQLite then writes into a 0600 file.
    create_private(partial)?;
    let mut copy = Connection::open(partial)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut copy)?;
        // All pages in one step: one snapshot, never restarted by a write meanwhile.
        backup.step(-1)?;
    }
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(DbError::Damaged(format!(
            "the copy failed its check: {check}"
        )));
    }
    let ratings = copy.query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))?;
    copy.close().map_err(|(_, e)| e)?;
    Ok(BackupMade {
        ratings,
        bytes: std::fs::metadata(partial)?.len(),
    })
}

/// The lock a running server holds on its database (an advisory `flock` on `DB.lock`), or
/// `None` if another process holds it.
pub fn lock(db: &Path) -> std::io::Result<Option<File>> {
    let path = with_suffix(db, ".lock");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    hailong_report::file::make_private(&path)?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock only acts on the open descriptor it is given.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            return match e.kind() {
                std::io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(e),
            };
        }
    }
    Ok(Some(file))
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0} is not a backup that can be restored: {1}")]
    BadBackup(PathBuf, String),
    #[error("{0} exists; add --force to replace it (it is kept beside it, never deleted)")]
    Exists(PathBuf),
    #[error("a server is running on {0}; stop it first")]
    InUse(PathBuf),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub ratings: i64,
    /// Where the replaced database now is, if there was one.
    pub kept: Option<PathBuf>,
}

/// Puts backup `from` in place of `db` (see the module's doc). `stamp` names the replaced
/// file: `DB.replaced-STAMP`.
pub fn restore(from: &Path, db: &Path, force: bool, stamp: &str) -> Result<Restored, RestoreError> {
    let Some(_held) = lock(db)? else {
        return Err(RestoreError::InUse(db.to_owned()));
    };
    let bad = |reason: String| RestoreError::BadBackup(from.to_owned(), reason);
    let ratings = checked(from).map_err(|e| bad(e.to_string()))?;
    let kept = if db.exists() {
        if !force {
            return Err(RestoreError::Exists(db.to_owned()));
        }
        // Its log folded in first, so the file kept aside is whole by itself.
        if let Ok(conn) = Connection::open(db) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        let aside = with_suffix(db, &format!(".replaced-{stamp}"));
        for suffix in ["-wal", "-shm"] {
            let companion = with_suffix(db, suffix);
            if companion.exists() {
                std::fs::rename(&companion, with_suffix(&aside, suffix))?;
            }
        }
        std::fs::rename(db, &aside)?;
        Some(aside)
    } else {
        None
    };
    let partial = partial_path(db);
    let copied = (|| {
        let mut out = create_private(&partial)?;
        std::io::copy(&mut File::open(from)?, &mut out)?;
        out.sync_all()?;
        std::fs::rename(&partial, db)?;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok::<_, std::io::Error>(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    Ok(Restored { ratings, kept })
}

/// The backup's ratings, if it is a whole database of this server's.
fn checked(backup: &Path) -> Result<i64, DbError> {
    let conn = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(DbError::Damaged(check));
    }
    Ok(conn.query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_whole_checked_and_private_and_a_failed_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("server.db")).unwrap();
        let out = dir.path().join("backup.db");
        let made = db.backup_to(&out).unwrap();
        assert_eq!(made.ratings, 0);
        assert!(made.bytes > 0);
        let copy = Connection::open(&out).unwrap();
        let version: i64 = copy
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert!(version > 0, "the schema came along");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let nowhere = dir.path().join("no such folder").join("backup.db");
        assert!(db.backup_to(&nowhere).is_err());
        assert!(!partial_path(&nowhere).exists());
    }

    #[test]
    fn a_restore_checks_the_backup_keeps_the_replaced_file_and_waits_for_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let db = Db::open(&path).unwrap();
        let backup = dir.path().join("backup.db");
        db.backup_to(&backup).unwrap();
        drop(db);

        let not_a_backup = dir.path().join("notes.txt");
        std::fs::write(&not_a_backup, "không phải bản sao lưu").unwrap();
        assert!(matches!(
            restore(&not_a_backup, &path, true, "1"),
            Err(RestoreError::BadBackup(..))
        ));
        assert!(matches!(
            restore(&backup, &path, false, "1"),
            Err(RestoreError::Exists(_))
        ));
        let held = lock(&path).unwrap().expect("no one holds it");
        assert!(matches!(
            restore(&backup, &path, true, "1"),
            Err(RestoreError::InUse(_))
        ));
        drop(held);

        let done = restore(&backup, &path, true, "20261129T101500").unwrap();
        let kept = dir.path().join("server.db.replaced-20261129T101500");
        assert_eq!(done.kept.as_deref(), Some(kept.as_path()));
        assert!(kept.exists(), "the replaced database is kept");
        assert!(Db::open(&path).is_ok());
    }
}
