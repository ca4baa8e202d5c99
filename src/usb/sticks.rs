//! The kiosk's way with USB sticks. A stick plugged in is mounted by itself, once: one the
//! system refused, or one the administrator ejected, is not tried again until it has been pulled
//! out (or the administrator asks). Ejecting unmounts the stick, which writes out everything still
//! cached for it, then powers its drive off so it can be pulled.

use super::{DriveError, Drives, MountTable, Volume};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Where sticks are mounted, the programs that handle them, and the devices left alone; clones
/// share what they remember, so a thread can take one.
#[derive(Debug, Clone, Default)]
pub struct Sticks {
    pub mounts: MountTable,
    pub drives: Drives,
    /// Devices not to mount again while plugged in: refused, or ejected.
    left: Arc<Mutex<BTreeSet<PathBuf>>>,
}

/// What a look for sticks did: the names of those it mounted, and of those it could not.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Looked {
    pub mounted: Vec<String>,
    pub failed: Vec<(String, DriveError)>,
}

impl Sticks {
    pub fn new(mounts: MountTable, drives: Drives) -> Sticks {
        Sticks {
            mounts,
            drives,
            left: Arc::default(),
        }
    }

    /// The mount points of the sticks mounted now, sorted.
    pub fn mounted(&self) -> Vec<PathBuf> {
        self.mounts.sticks()
    }

    /// Mounts the filesystems on USB drives that are not mounted yet; with `again`, those
    /// refused or ejected before too.
    pub fn look(&self, again: bool) -> Result<Looked, DriveError> {
        let volumes = self.drives.volumes(|p| self.mounts.is_removable(p))?;
        let mut left = self.left();
        // A device pulled out (or mounted since) is forgotten: plugged in again, it is mounted.
        left.retain(|d| volumes.iter().any(|v| &v.device == d && !v.mounted));
        if again {
            left.clear();
        }
        let waiting: Vec<&Volume> = volumes
            .iter()
            .filter(|v| !v.mounted && !left.contains(&v.device))
            .collect();
        let mut looked = Looked::default();
        for volume in waiting {
            match self.drives.mount(&volume.device) {
                Ok(()) => {
                    tracing::info!(device = %volume.device.display(), "stick mounted");
                    looked.mounted.push(volume.name());
                }
                Err(e) => {
                    tracing::warn!(device = %volume.device.display(), error = %e, "stick not mounted");
                    left.insert(volume.device.clone());
                    looked.failed.push((volume.name(), e));
                }
            }
        }
        Ok(looked)
    }

    /// Unmounts the stick at `point` and powers its drive off; once this returns `Ok`, it can
    /// be pulled out. A stick no longer mounted there is already safe.
    pub fn eject(&self, point: &Path) -> Result<(), DriveError> {
        let Some(device) = self.mounts.device_at(point) else {
            tracing::info!(point = %point.display(), "nothing mounted there to eject");
            return Ok(());
        };
        // Not mounted again by the next look while it is being ejected, nor after.
        self.left().insert(device.clone());
        if let Err(e) = self.drives.unmount(&device) {
            self.left().remove(&device);
            return Err(e);
        }
        tracing::info!(device = %device.display(), "stick unmounted");
        // Unmounted is safe to pull; powering off only puts its light out.
        if let Err(e) = self.drives.power_off(&device) {
            tracing::warn!(device = %device.display(), error = %e, "stick unmounted but not powered off");
        }
        Ok(())
    }

    fn left(&self) -> MutexGuard<'_, BTreeSet<PathBuf>> {
        self.left.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
