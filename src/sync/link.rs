//! The tablet's link to its commune server (`server.json` in the data dir): the server's
//! address, this device's id and bearer token, and the commune CA it trusts (a file beside the
//! system's roots, or the certificate pinned at pairing). The
//! token is a secret the tablet must send, so the file is readable by its owner only.

use crate::paths::DataDir;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub server: String,
    pub device_id: String,
    pub token: String,
    /// A PEM file with the commune's CA certificate, trusted beside the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The commune CA's certificate (PEM) pinned at pairing from an invitation's fingerprint:
    /// trusted alone, the system's roots not at all.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

fn path(dir: &DataDir) -> PathBuf {
    dir.server_link()
}

impl Link {
    /// The link, if this tablet is paired; a damaged file counts as not paired.
    pub fn load(dir: &DataDir) -> std::io::Result<Option<Link>> {
        match std::fs::read(path(dir)) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the link atomically, owner-only.
    pub fn save(&self, dir: &DataDir) -> std::io::Result<()> {
        let target = path(dir);
        let temp = target.with_extension("json.tmp");
        let mut file = hailong_report::file::create_private(&temp)?;
        file.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)
    }

    /// Plain HTTP: the token and ratings cross the network readable.
    pub fn is_plain_http(&self) -> bool {
        self.server.starts_with("http://")
    }
}
