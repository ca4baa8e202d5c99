//! Scheduled backups while the server runs (`serve --backup-dir DIR`): a checked copy of the
//! database (see `db::backup`) every `--backup-every` (24 h), named by its local time
//! (`hailong-20261129T020000.db`), the oldest removed beyond `--backup-keep` (14). The next one
//! is due one period after the newest already in the folder, so a server restarted every
//! evening still backs up once a day. A failed backup is logged, kept in [`BackupState`] for
//! the dashboard's tablets page with its time, and tried again at the next period; never
//! silently skipped.

use crate::db::{BackupMade, Db};
use chrono::{DateTime, Local, NaiveDateTime, TimeZone};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Where and how often.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// How the scheduled backups stand, for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupState {
    /// The data is in a PostgreSQL database, which its own tools back up: this server makes
    /// no copies.
    pub database_server: bool,
    /// The folder, when scheduled backups are on.
    pub dir: Option<PathBuf>,
    pub last_made: Option<Made>,
    /// The last failure, if it came after the last success.
    pub last_failure: Option<Failure>,
    pub next_at: Option<DateTime<Local>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub at: DateTime<Local>,
    pub file: PathBuf,
    pub ratings: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub at: DateTime<Local>,
    pub error: String,
}

pub type SharedState = Arc<Mutex<BackupState>>;

const PREFIX: &str = "hailong-";
const SUFFIX: &str = ".db";
const STAMP: &str = "%Y%m%dT%H%M%S";

/// The time a backup's name says it was made, if it is one of ours.
fn made_at(name: &str) -> Option<DateTime<Local>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let naive = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?;
    Local.from_local_datetime(&naive).earliest()
}

/// The backups in `dir`, oldest first.
fn listed(dir: &Path) -> std::io::Result<Vec<(DateTime<Local>, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(at) = entry.file_name().to_str().and_then(made_at) {
            found.push((at, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Makes one backup of `db` into `schedule.dir` now, then removes the oldest beyond
/// `schedule.keep` (and unfinished copies a crash left). Only files named as ours are touched.
pub fn run_once(db: &Path, schedule: &Schedule, now: DateTime<Local>) -> Result<Made, String> {
    hailong_report::file::create_private_dir(&schedule.dir)
        .map_err(|e| format!("cannot make the folder {}: {e}", schedule.dir.display()))?;
    for entry in std::fs::read_dir(&schedule.dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(&format!(".{PREFIX}")) && name.ends_with(".partial") {
            let _ = std::fs::remove_file(&path);
        }
    }
    let file = schedule
        .dir
        .join(format!("{PREFIX}{}{SUFFIX}", now.format(STAMP)));
    let BackupMade { ratings, .. } = Db::open_reader(db)
        .and_then(|source| source.backup_to(&file))
        .map_err(|e| e.to_string())?;
    let backups = listed(&schedule.dir).map_err(|e| e.to_string())?;
    let extra = backups.len().saturating_sub(schedule.keep.max(1));
    for (_, old) in backups.into_iter().take(extra) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(file = %old.display(), error = %e, "cannot remove an old backup");
        }
    }
    Ok(Made {
        at: now,
        file,
        ratings: Some(ratings),
    })
}

/// The state at start: the newest backup already in the folder, and when the next is due.
pub fn initial_state(schedule: &Schedule, now: DateTime<Local>) -> BackupState {
    let newest = listed(&schedule.dir)
        .ok()
        .and_then(|found| found.into_iter().last());
    let next_at = newest
        .as_ref()
        .and_then(|(at, _)| {
            chrono::Duration::from_std(schedule.every)
                .ok()
                .map(|e| *at + e)
        })
        .filter(|due| *due > now)
        .unwrap_or(now);
    BackupState {
        database_server: false,
        dir: Some(schedule.dir.clone()),
        last_made: newest.map(|(at, file)| Made {
            at,
            file,
            ratings: None,
        }),
        last_failure: None,
        next_at: Some(next_at),
    }
}

/// Scheduled backups on a thread of their own, or none. Dropping it stops the thread, after a
/// backup under way.
pub struct Scheduled {
    pub state: SharedState,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Scheduled {
    /// Starts `schedule` on database `db` (with `None`, a state that says backups are off).
    pub fn start(db: &Path, schedule: Option<Schedule>) -> std::io::Result<Scheduled> {
        let state = SharedState::default();
        let Some(schedule) = schedule else {
            return Ok(Scheduled {
                state,
                stop: None,
                thread: None,
            });
        };
        *state.lock().unwrap_or_else(|e| e.into_inner()) = initial_state(&schedule, Local::now());
        tracing::info!(
            dir = %schedule.dir.display(),
            every_secs = schedule.every.as_secs(),
            keep = schedule.keep,
            "scheduled backups"
        );
        let (stop, stopped) = channel();
        let (db, shared) = (db.to_owned(), state.clone());
        let thread = crate::threads::spawn("backups".into(), move || {
            run(&db, &schedule, &shared, &stopped);
        })?;
        Ok(Scheduled {
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Scheduled {
    fn drop(&mut self) {
        self.stop = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Makes each backup when it is due, until `stop` is dropped or sent to.
fn run(db: &Path, schedule: &Schedule, state: &SharedState, stop: &Receiver<()>) {
    loop {
        let due = state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_at
            .unwrap_or_else(Local::now);
        let wait = (due - Local::now()).to_std().unwrap_or_default();
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Local::now();
        let outcome = run_once(db, schedule, now);
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(made) => {
                tracing::info!(file = %made.file.display(), ratings = made.ratings, "backup made and checked");
                state.last_made = Some(made);
                state.last_failure = None;
            }
            Err(error) => {
                tracing::error!(dir = %schedule.dir.display(), %error, "scheduled backup failed; trying again at the next period");
                state.last_failure = Some(Failure { at: now, error });
            }
        }
        let every = chrono::Duration::from_std(schedule.every)
            .unwrap_or_else(|_| chrono::Duration::days(1));
        state.next_at = Some(now + every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_named_by_time_kept_to_their_number_and_others_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("server.db");
        drop(Db::open(&db_path).unwrap());
        let schedule = Schedule {
            dir: dir.path().join("backups"),
            every: Duration::from_secs(3600),
            keep: 2,
        };
        let start = Local.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap();
        assert_eq!(
            initial_state(&schedule, start).next_at,
            Some(start),
            "none yet: now"
        );
        let made = run_once(&db_path, &schedule, start).unwrap();
        assert!(made.file.ends_with("hailong-20261129T020000.db"));
        std::fs::write(schedule.dir.join("notes.txt"), "của quản trị").unwrap();
        for hour in 3..=5 {
            let at = Local.with_ymd_and_hms(2026, 11, 29, hour, 0, 0).unwrap();
            run_once(&db_path, &schedule, at).unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(&schedule.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            names,
            [
                "hailong-20261129T040000.db",
                "hailong-20261129T050000.db",
                "notes.txt"
            ]
        );
        // Restarted at 05:30: the next is due at 06:00, one period after the newest.
        let later = Local.with_ymd_and_hms(2026, 11, 29, 5, 30, 0).unwrap();
        let state = initial_state(&schedule, later);
        assert_eq!(
            state.next_at,
            Some(Local.with_ymd_and_hms(2026, 11, 29, 6, 0, 0).unwrap())
        );
        assert!(
            state
                .last_made
                .unwrap()
                .file
                .ends_with("hailong-20261129T050000.db")
        );
    }

    #[test]
    fn a_backup_that_cannot_be_made_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("server.db");
        drop(Db::open(&db_path).unwrap());
        let in_the_way = dir.path().join("backups");
        std::fs::write(&in_the_way, "a file, not a folder").unwrap();
        let schedule = Schedule {
            dir: in_the_way,
            every: Duration::from_secs(3600),
            keep: 14,
        };
        let error = run_once(&db_path, &schedule, Local::now()).unwrap_err();
        assert!(error.contains("backups"), "{error}");
    }
}
