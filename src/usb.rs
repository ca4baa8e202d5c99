//! Where USB sticks are: the mount points in the system's mount table (`/proc/mounts`) that lie
//! under the folders desktops mount removable drives in (`/media`, `/run/media`).

use std::path::{Path, PathBuf};

/// The system's mount table and the folders removable drives are mounted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTable {
    pub table: PathBuf,
    pub roots: Vec<PathBuf>,
}

impl Default for MountTable {
    fn default() -> Self {
        MountTable {
            table: PathBuf::from("/proc/mounts"),
            roots: vec![PathBuf::from("/media"), PathBuf::from("/run/media")],
        }
    }
}

impl MountTable {
    /// The mounted sticks, sorted by path; none if the table cannot be read.
    pub fn sticks(&self) -> Vec<PathBuf> {
        match std::fs::read_to_string(&self.table) {
            Ok(text) => mounted_under(&text, &self.roots),
            Err(e) => {
                tracing::warn!(table = %self.table.display(), error = %e, "no mount table");
                Vec::new()
            }
        }
    }
}

/// The mount points in `table` (the `/proc/mounts` format) strictly under one of `roots`.
pub fn mounted_under(table: &str, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = table
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .map(|point| PathBuf::from(unescape(point)))
        .filter(|point| {
            roots
                .iter()
                .any(|root| point.starts_with(root) && point != root)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The mount table writes a space as `\040`, a tab as `\011`, a backslash as `\134`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal.and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A folder's name as a person knows it: a stick's label is the last part of its mount point.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticks_are_the_mounts_under_the_removable_roots_with_spaces_decoded() {
        let table = "\
sysfs /sys sysfs rw,nosuid 0 0
/dev/vda1 / ext4 rw,relatime 0 0
/dev/sdb1 /media/canbo/KINGSTON vfat rw,nosuid,nodev 0 0
/dev/sdc1 /run/media/admin/B\\303\\201O\\040C\\303\\201O exfat rw 0 0
tmpfs /media tmpfs rw 0 0
/dev/sdd1 /mnt/backup ext4 rw 0 0
/dev/sdb1 /media/canbo/KINGSTON vfat rw,nosuid,nodev 0 0
";
        let roots = MountTable::default().roots;
        assert_eq!(
            mounted_under(table, &roots),
            vec![
                PathBuf::from("/media/canbo/KINGSTON"),
                PathBuf::from("/run/media/admin/BÁO CÁO"),
            ]
        );
        assert_eq!(
            display_name(Path::new("/run/media/admin/BÁO CÁO")),
            "BÁO CÁO"
        );
    }

    #[test]
    fn an_unreadable_table_means_no_sticks() {
        let table = MountTable {
            table: PathBuf::from("/nonexistent/mounts"),
            roots: MountTable::default().roots,
        };
        assert!(table.sticks().is_empty());
    }
}
