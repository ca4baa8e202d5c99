//! Writing a report file so that it is either whole or absent: through a `.partial` file beside
//! it, synced and renamed at the end, and removed after any failure (a full disk, a USB stick
//! pulled out); and files for their owner's eyes only (0600, folders 0700), as every file
//! holding ratings, PIN hashes or tokens is.

use crate::ExportError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The unfinished file beside `out`: `.NAME.partial`, hidden, in the same directory so that
/// the final rename stays on one file system.
pub fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.partial"))
}

/// Runs `write` on a buffered `.partial` file, then syncs it and renames it to `out`. A write
/// error, from `write` or after it, names `out` and says whether the partial file is gone.
pub fn write_whole<T>(
    out: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    let partial = partial_path(out);
    let file = create_private(&partial).map_err(|source| ExportError::Write {
        path: out.to_owned(),
        source,
        removed: true,
    })?;
    let mut buffered = BufWriter::with_capacity(256 * 1024, file);
    let result = write(&mut buffered).and_then(|value| {
        buffered.flush()?;
        buffered.get_ref().sync_all()?;
        std::fs::rename(&partial, out)?;
        Ok(value)
    });
    if let Err(mut error) = result {
        drop(buffered);
        let removed = match std::fs::remove_file(&partial) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        };
        if let ExportError::Write {
            path, removed: r, ..
        } = &mut error
        {
            out.clone_into(path);
            *r = removed;
        }
        return Err(error);
    }
    result
}

/// Creates (or empties) `path`, readable and writable by its owner only (0600 on Unix).
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Creates folder `path` (and its parents) if needed, and makes it its owner's only (0700).
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    make_private(path)
}

/// Takes every permission of the group and of others away from `path`, a file or a folder,
/// if it exists: what an older version left readable is tightened at start.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `path` with `suffix` added to its whole name: `server.db` and `-wal` give `server.db-wal`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A SQLite database and the files beside it (`-wal`, `-shm`, `-journal`), made private.
pub fn make_database_private(db: &Path) -> std::io::Result<()> {
    make_private(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        make_private(&with_suffix(db, suffix))?;
    }
    Ok(())
}

/// Sets the process's file-creation mask to 077, so that whatever it creates (databases and
/// their WAL, settings, reports, backups) is its owner's only, whoever else uses the machine.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's mask and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_and_a_finished_one_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("báo cáo.csv");
        let failed: Result<(), _> = write_whole(&out, |w| {
            w.write_all(b"half").unwrap();
            Err(std::io::Error::other("the stick was pulled out").into())
        });
        match failed {
            Err(ExportError::Write { path, removed, .. }) => {
                assert_eq!(path, out, "the error names the file asked for");
                assert!(removed);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_whole(&out, |w| w.write_all(b"whole").map_err(|_| unreachable!())).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"whole");
        assert!(!partial_path(&out).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a report is its owner's only");
        }
    }

    #[cfg(unix)]
    #[test]
    fn make_private_takes_group_and_other_permissions_away() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let wal = dir.path().join("a.db-wal");
        for file in [&db, &wal] {
            std::fs::write(file, b"x").unwrap();
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o664)).unwrap();
        }
        make_database_private(&db).unwrap();
        for file in [&db, &wal] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
        let folder = dir.path().join("exports");
        create_private_dir(&folder).unwrap();
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
