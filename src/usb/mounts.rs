//! Where USB sticks are mounted: the mount points in the system's mount table (`/proc/mounts`)
//! that lie under the folders removable drives are mounted in (`/media`, `/run/media`).

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
        mounted_under(&self.read(), &self.roots)
    }

    /// The device mounted at `point`, if something is.
    pub fn device_at(&self, point: &Path) -> Option<PathBuf> {
        entries(&self.read())
            .find(|(_, at)| at == point)
            .map(|(device, _)| device)
    }

    /// Whether `point` is one of the folders removable drives are mounted under.
    pub fn is_removable(&self, point: &Path) -> bool {
        self.roots
            .iter()
            .any(|root| point.starts_with(root) && point != root)
    }

    fn read(&self) -> String {
        std::fs::read_to_string(&self.table).unwrap_or_else(|e| {
            tracing::warn!(table = %self.table.display(), error = %e, "no mount table");
            String::new()
        })
    }
}

/// The (device, mount point) pairs of `table`, in the `/proc/mounts` format.
fn entries(table: &str) -> impl Iterator<Item = (PathBuf, PathBuf)> + '_ {
    table.lines().filter_map(|line| {
        let mut fields = line.split_whitespace();
        let device = fields.next()?;
        let point = fields.next()?;
        Some((
            PathBuf::from(unescape(device)),
            PathBuf::from(unescape(point)),
        ))
    })
}

/// The mount points in `table` (the `/proc/mounts` format) strictly under one of `roots`.
pub fn mounted_under(table: &str, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = entries(table)
        .map(|(_, point)| point)
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
        let mounts = MountTable {
            table: PathBuf::new(),
            roots,
        };
        let at = |point: &str| {
            entries(table)
                .find(|(_, p)| p == Path::new(point))
                .map(|(device, _)| device)
        };
        assert_eq!(at("/media/canbo/KINGSTON"), Some("/dev/sdb1".into()));
        assert_eq!(at("/run/media/admin/BÁO CÁO"), Some("/dev/sdc1".into()));
        assert!(mounts.is_removable(Path::new("/media/canbo/KINGSTON")));
        assert!(!mounts.is_removable(Path::new("/media")));
        assert!(!mounts.is_removable(Path::new("/mnt/backup")));
    }

    #[test]
    fn an_unreadable_table_means_no_sticks() {
        let table = MountTable {
            table: PathBuf::from("/nonexistent/mounts"),
            roots: MountTable::default().roots,
        };
        assert!(table.sticks().is_empty());
        assert_eq!(table.device_at(Path::new("/")), None);
    }
}
