//! Where the tablet keeps its files: `--data-dir`, `HAILONG_DATA_DIR`, or the platform's data
//! directory from `directories`.

use chrono::{DateTime, FixedOffset};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The given directory, or the platform default (e.g. `~/.local/share/hailong` on Linux).
    pub fn resolve(given: Option<PathBuf>) -> Option<DataDir> {
        given
            .or_else(|| {
                directories::ProjectDirs::from("vn", "HaiLong", "hailong")
                    .map(|d| d.data_dir().to_owned())
            })
            .map(|root| DataDir { root })
    }

    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.root)
    }

    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("hailong.db")
    }

    /// Where reports are saved unless the settings name another folder.
    pub fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }

    /// Where the administrator drops a procedure catalogue to import.
    pub fn default_catalogue(&self) -> PathBuf {
        self.root.join("procedures.csv")
    }
}

/// Where a damaged file is moved: `NAME.damaged-YYYYmmddTHHMMSS`, with `-2`, `-3`, … added if
/// that name is taken, so an earlier damaged file is never overwritten.
pub fn aside(path: &Path, now: DateTime<FixedOffset>) -> PathBuf {
    let base = format!(".damaged-{}", now.format("%Y%m%dT%H%M%S"));
    (1u32..)
        .map(|n| {
            let mut name = path.as_os_str().to_owned();
            name.push(&base);
            if n > 1 {
                name.push(format!("-{n}"));
            }
            PathBuf::from(name)
        })
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| path.with_extension("damaged"))
}
