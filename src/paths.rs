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

    /// Creates the folder, its owner's only (0700).
    pub fn create(&self) -> std::io::Result<()> {
        hailong_report::file::create_private_dir(&self.root)
    }

    /// Takes group and other permissions away from the folder and every file in it that holds
    /// ratings, PIN hashes or the server token (an older version left some readable by all).
    pub fn make_private(&self) -> std::io::Result<()> {
        use hailong_report::file::{make_database_private, make_private};
        make_private(&self.root)?;
        make_private(&self.settings())?;
        make_private(&self.server_link())?;
        make_database_private(&self.database())
    }

    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// The link to the commune server, once paired (`sync::link`).
    pub fn server_link(&self) -> PathBuf {
        self.root.join("server.json")
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
