//! The tablet's settings (`settings.json` in the data dir): unit, counter, language, scale,
//! delays, the administrator PIN hash. Written atomically; a damaged file is moved aside.

use crate::paths::DataDir;
use chrono::{DateTime, FixedOffset};
use hailong_core::level::Scale;
use hailong_core::report::Letterhead;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// UI language; Vietnamese first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// This tablet's identity (UUIDv7), made at setup.
    pub device_id: String,
    pub unit_name: String,
    /// The unit's electronic identifier, e.g. `000.00.14.H56`.
    pub unit_code: String,
    /// Further unit codes whose dossiers this office handles (no foreign-prefix warning).
    pub extra_unit_codes: Vec<String>,
    pub counter_name: String,
    pub lang: Lang,
    pub scale: Scale,
    pub admin_pin_hash: String,
    pub thank_you_secs: u32,
    pub reasons_timeout_secs: u32,
    pub armed_expiry_secs: u32,
    pub min_interval_secs: u32,
    /// How long after a tap the citizen may choose again ("Chọn lại"); 0 turns it off.
    pub change_of_mind_secs: u32,
    pub walk_up_allowed: bool,
    /// The citizen screens' prompts read aloud, and how loud (0 to 100).
    pub voice_on: bool,
    pub voice_volume: u8,
    /// The citizen screens start in large text and high contrast (citizens may switch with
    /// "Aa"; each next citizen gets this again).
    pub large_text: bool,
    pub fullscreen: bool,
    /// The folder reports are saved in besides USB sticks; the data dir's `reports` if unset.
    pub export_dir: Option<PathBuf>,
    /// The body above the unit, the place and the signers printed on reports.
    pub letterhead: Letterhead,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            device_id: String::new(),
            unit_name: String::new(),
            unit_code: String::new(),
            extra_unit_codes: Vec::new(),
            counter_name: String::new(),
            lang: Lang::Vi,
            scale: Scale::Three,
            admin_pin_hash: String::new(),
            thank_you_secs: 4,
            reasons_timeout_secs: 60,
            armed_expiry_secs: 180,
            min_interval_secs: 3,
            change_of_mind_secs: 10,
            walk_up_allowed: true,
            voice_on: true,
            voice_volume: 80,
            large_text: false,
            fullscreen: false,
            export_dir: None,
            letterhead: Letterhead::default(),
        }
    }
}

impl Settings {
    /// The unit codes of this office, for flagging foreign dossier codes.
    pub fn office_unit_codes(&self) -> Vec<String> {
        std::iter::once(&self.unit_code)
            .chain(&self.extra_unit_codes)
            .filter(|c| !c.is_empty())
            .cloned()
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What loading found.
#[derive(Debug)]
pub enum Loaded {
    /// No settings yet: first run.
    Missing,
    Ready(Box<Settings>),
    /// The file was damaged and has been moved aside: first run again.
    Damaged {
        moved_to: PathBuf,
    },
}

/// Reads the settings; a damaged file is moved aside, named for `now`.
pub fn load(dir: &DataDir, now: DateTime<FixedOffset>) -> Result<Loaded, SettingsError> {
    let path = dir.settings();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(source) if source.kind() != std::io::ErrorKind::InvalidData => {
            return Err(SettingsError::Io { path, source });
        }
        Err(_) => String::new(),
    };
    match serde_json::from_str::<Settings>(&text) {
        Ok(settings) if !settings.admin_pin_hash.is_empty() => {
            Ok(Loaded::Ready(Box::new(settings)))
        }
        _ => {
            let moved_to = crate::paths::aside(&path, now);
            std::fs::rename(&path, &moved_to).map_err(|source| SettingsError::Io {
                path: path.clone(),
                source,
            })?;
            tracing::error!(moved_to = %moved_to.display(), "damaged settings moved aside");
            Ok(Loaded::Damaged { moved_to })
        }
    }
}

/// Writes the settings atomically: a temporary file, fsync, rename, fsync of the directory.
pub fn save(dir: &DataDir, settings: &Settings) -> Result<(), SettingsError> {
    let path = dir.settings();
    let io = |source| SettingsError::Io {
        path: path.clone(),
        source,
    };
    dir.create().map_err(io)?;
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(settings).map_err(|e| io(e.into()))?;
    {
        let mut file = hailong_report::file::create_private(&tmp).map_err(io)?;
        file.write_all(&json).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    sync_dir(dir.root()).map_err(io)?;
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
