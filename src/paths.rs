//! Where the tablet keeps its files: `--data-dir`, `HAILONG_DATA_DIR`, or the platform's data
//! directory from `directories`.

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

    /// Where the administrator drops a procedure catalogue to import.
    pub fn default_catalogue(&self) -> PathBuf {
        self.root.join("procedures.csv")
    }
}
