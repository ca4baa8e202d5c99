//! Writing a report file so that it is either whole or absent: through a `.partial` file beside
//! it, synced and renamed at the end, and removed after any failure (a full disk, a USB stick
//! pulled out).

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
    let file = File::create(&partial).map_err(|source| ExportError::Write {
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
    }
}
