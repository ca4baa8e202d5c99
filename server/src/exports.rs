//! Where report downloads are made: a folder of the server's own beside the database
//! (`server.db.exports`, 0700). Each report is written there as a 0600 file, opened, then
//! unlinked while it streams, so a report (with citizens' comments, officers and dossiers) is
//! never readable by another user of the machine. A server killed mid-way may leave an
//! unfinished file there: the next start removes it.

use std::path::{Path, PathBuf};

/// The downloads folder of database `db`.
pub fn folder(db: &Path) -> PathBuf {
    hailong_report::file::with_suffix(db, ".exports")
}

/// Makes the folder (private), and removes what a killed server left in it; returns how many
/// files it removed.
pub fn prepare(folder: &Path) -> std::io::Result<usize> {
    hailong_report::file::create_private_dir(folder)?;
    let mut removed = 0;
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}
