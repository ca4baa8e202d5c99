//! USB sticks on the counter device: where they are mounted ([`mounts`]), the drives plugged in
//! and what udisks does to them ([`drives`]), and the kiosk's way with them ([`sticks`]): a stick
//! plugged in is mounted by itself, and ejected safely when the administrator asks.

pub mod drives;
pub mod mounts;
pub mod sticks;

pub use drives::{DriveError, Drives, Volume};
pub use mounts::MountTable;
pub use sticks::{Looked, Sticks};

use std::path::Path;

/// A folder's name as a person knows it: a stick's label is the last part of its mount point.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stick_is_named_by_the_last_part_of_its_mount_point() {
        let path = std::path::Path::new("/run/media/admin/BÁO CÁO");
        assert_eq!(super::display_name(path), "BÁO CÁO");
    }
}
