//! The USB drives plugged into the device and what is done to them: `lsblk` lists them, and
//! udisks (`udisksctl`, as the kiosk's own user) mounts, unmounts and powers them off, so no
//! desktop and no root are needed. Every command has a time limit.

use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Filesystems a stick brought from an office computer has and udisks mounts read-write.
const FILESYSTEMS: &[&str] = &[
    "vfat", "exfat", "ntfs", "ext4", "ext3", "ext2", "btrfs", "xfs",
];

/// How long listing or mounting may take.
const QUICK: Duration = Duration::from_secs(30);
/// How long unmounting may take: it writes out what is still cached for the stick.
const FLUSH: Duration = Duration::from_secs(180);

/// Why a drive could not be listed, mounted or ejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriveError {
    #[error("{0} is not installed")]
    Missing(String),
    #[error("the udisks service is not running")]
    NoService,
    #[error("not allowed by the system's policy")]
    Refused,
    #[error("a program is using it")]
    Busy,
    #[error("no answer in time")]
    TimedOut,
    #[error("{0}")]
    Failed(String),
}

impl DriveError {
    /// The code the screens word.
    pub fn code(&self) -> &'static str {
        match self {
            DriveError::Missing(_) | DriveError::NoService => "no_udisks",
            DriveError::Refused => "refused",
            DriveError::Busy => "busy",
            DriveError::TimedOut | DriveError::Failed(_) => "failed",
        }
    }
}

/// A filesystem on a USB drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub device: PathBuf,
    pub label: Option<String>,
    pub mounted: bool,
}

impl Volume {
    /// Its name as a person knows it: the label, else the device's name.
    pub fn name(&self) -> String {
        self.label
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| super::display_name(&self.device))
    }
}

/// The programs that list and handle drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drives {
    pub lsblk: PathBuf,
    pub udisksctl: PathBuf,
}

impl Default for Drives {
    fn default() -> Self {
        Drives {
            lsblk: PathBuf::from("lsblk"),
            udisksctl: PathBuf::from("udisksctl"),
        }
    }
}

impl Drives {
    /// The filesystems on USB drives, mounted or not; `removable` tells the folders sticks are
    /// mounted under from the system's own (a drive with anything mounted elsewhere is left
    /// alone: the device may boot from it).
    pub fn volumes(&self, removable: impl Fn(&Path) -> bool) -> Result<Vec<Volume>, DriveError> {
        let listing = run(
            &self.lsblk,
            &[
                "--json",
                "--list",
                "--paths",
                "--output",
                "PATH,PKNAME,TYPE,TRAN,HOTPLUG,FSTYPE,LABEL,MOUNTPOINT",
            ],
            QUICK,
        )?;
        usb_volumes(&listing, removable)
    }

    /// Mounts `device` under `/media/USER/` as the calling user, read-write.
    pub fn mount(&self, device: &Path) -> Result<(), DriveError> {
        self.udisks("mount", device, QUICK)
    }

    /// Writes out what is cached for `device` and unmounts it; one no longer mounted is fine.
    pub fn unmount(&self, device: &Path) -> Result<(), DriveError> {
        match self.udisks("unmount", device, FLUSH) {
            Err(DriveError::Failed(why)) if why.contains("NotMounted") => Ok(()),
            other => other,
        }
    }

    /// Powers the drive holding `device` off, so its light goes out and it can be pulled.
    pub fn power_off(&self, device: &Path) -> Result<(), DriveError> {
        self.udisks("power-off", device, QUICK)
    }

    fn udisks(&self, verb: &str, device: &Path, limit: Duration) -> Result<(), DriveError> {
        let device = device.to_string_lossy();
        run(
            &self.udisksctl,
            &[verb, "--no-user-interaction", "--block-device", &device],
            limit,
        )
        .map_err(|e| match e {
            DriveError::Failed(why) if why.contains("NotAuthorized") => DriveError::Refused,
            DriveError::Failed(why) if why.contains("DeviceBusy") || why.contains("is busy") => {
                DriveError::Busy
            }
            DriveError::Failed(why) if why.contains("connecting to the udisks daemon") => {
                DriveError::NoService
            }
            other => other,
        })?;
        tracing::info!(verb, device = %device, "udisks done");
        Ok(())
    }
}

/// Runs `program` with `args`, its standard output if it succeeds within `limit`.
fn run(program: &Path, args: &[&str], limit: Duration) -> Result<String, DriveError> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            tracing::warn!(program = %name, error = %e, "cannot be started");
            match e.kind() {
                std::io::ErrorKind::NotFound => DriveError::Missing(name.clone()),
                _ => DriveError::Failed(e.to_string()),
            }
        })?;
    // Read while it runs, so a long answer cannot fill the pipe and stall it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(program = %name, "no answer in time, stopped");
                return Err(DriveError::TimedOut);
            }
            Err(e) => return Err(DriveError::Failed(e.to_string())),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        let why = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let why = hailong_core::escape::Escaped::clipped(why).to_string();
        tracing::warn!(program = %name, %status, error = %why, "failed");
        Err(DriveError::Failed(why))
    }
}

/// `lsblk --json --list` booleans: `true`, or `"1"` from versions before 2.33.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    fn set(&self) -> bool {
        match self {
            Flag::Bool(b) => *b,
            Flag::Text(t) => t == "1",
        }
    }
}

#[derive(Deserialize)]
struct Listing {
    blockdevices: Vec<Block>,
}

#[derive(Deserialize)]
struct Block {
    path: String,
    pkname: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    tran: Option<String>,
    hotplug: Option<Flag>,
    fstype: Option<String>,
    label: Option<String>,
    mountpoint: Option<String>,
}

/// The filesystems on USB (or otherwise hot-plugged) disks in an `lsblk --json --list` listing:
/// a disk's partitions, or the disk itself when it has no partition table.
fn usb_volumes(
    listing: &str,
    removable: impl Fn(&Path) -> bool,
) -> Result<Vec<Volume>, DriveError> {
    let listing: Listing = serde_json::from_str(listing)
        .map_err(|e| DriveError::Failed(format!("lsblk's listing: {e}")))?;
    let blocks = &listing.blockdevices;
    let on = |disk: &str| {
        let disk = disk.to_owned();
        blocks
            .iter()
            .filter(move |b| b.path == disk || b.pkname.as_deref() == Some(disk.as_str()))
    };
    let mut volumes = Vec::new();
    for disk in blocks.iter().filter(|b| b.kind == "disk") {
        let usb =
            disk.tran.as_deref() == Some("usb") || disk.hotplug.as_ref().is_some_and(Flag::set);
        let system = on(&disk.path).any(|b| {
            b.mountpoint
                .as_deref()
                .is_some_and(|point| !removable(Path::new(point)))
        });
        if !usb || system {
            continue;
        }
        volumes.extend(
            on(&disk.path)
                .filter(|b| {
                    b.fstype
                        .as_deref()
                        .is_some_and(|fs| FILESYSTEMS.contains(&fs))
                })
                .map(|b| Volume {
                    device: PathBuf::from(&b.path),
                    label: b.label.clone(),
                    mounted: b.mountpoint.is_some(),
                }),
        );
    }
    Ok(volumes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lsblk --json --list --paths --output PATH,PKNAME,TYPE,TRAN,HOTPLUG,FSTYPE,LABEL,MOUNTPOINT`
    /// on a counter device: its own disk, a partitioned stick (one filesystem mounted, one not,
    /// one swap), a stick with no partition table, a card reader with no card, and a USB disk the
    /// device boots from.
    const LISTING: &str = r#"{
   "blockdevices": [
      {"path":"/dev/nvme0n1", "pkname":null, "type":"disk", "tran":"nvme", "hotplug":false, "fstype":null, "label":null, "mountpoint":null},
      {"path":"/dev/nvme0n1p1", "pkname":"/dev/nvme0n1", "type":"part", "tran":"nvme", "hotplug":false, "fstype":"vfat", "label":null, "mountpoint":"/boot/efi"},
      {"path":"/dev/nvme0n1p2", "pkname":"/dev/nvme0n1", "type":"part", "tran":"nvme", "hotplug":false, "fstype":"ext4", "label":null, "mountpoint":"/"},
      {"path":"/dev/sda", "pkname":null, "type":"disk", "tran":"usb", "hotplug":true, "fstype":null, "label":null, "mountpoint":null},
      {"path":"/dev/sda1", "pkname":"/dev/sda", "type":"part", "tran":null, "hotplug":true, "fstype":"vfat", "label":"BÁO CÁO", "mountpoint":"/media/hailong-kiosk/BÁO CÁO"},
      {"path":"/dev/sda2", "pkname":"/dev/sda", "type":"part", "tran":null, "hotplug":true, "fstype":"exfat", "label":"KINGSTON", "mountpoint":null},
      {"path":"/dev/sda3", "pkname":"/dev/sda", "type":"part", "tran":null, "hotplug":true, "fstype":"swap", "label":null, "mountpoint":null},
      {"path":"/dev/sdb", "pkname":null, "type":"disk", "tran":"usb", "hotplug":true, "fstype":"vfat", "label":null, "mountpoint":null},
      {"path":"/dev/sdc", "pkname":null, "type":"disk", "tran":"usb", "hotplug":true, "fstype":null, "label":null, "mountpoint":null},
      {"path":"/dev/sdd", "pkname":null, "type":"disk", "tran":"usb", "hotplug":true, "fstype":null, "label":null, "mountpoint":null},
      {"path":"/dev/sdd1", "pkname":"/dev/sdd", "type":"part", "tran":null, "hotplug":true, "fstype":"ext4", "label":"rootfs", "mountpoint":"/"},
      {"path":"/dev/sdd2", "pkname":"/dev/sdd", "type":"part", "tran":null, "hotplug":true, "fstype":"vfat", "label":"SPARE", "mountpoint":null}
   ]
}"#;

    #[test]
    fn the_filesystems_of_usb_sticks_are_found_and_the_system_disks_left_alone() {
        let volumes = usb_volumes(LISTING, |p| p.starts_with("/media")).unwrap();
        let found: Vec<(&str, String, bool)> = volumes
            .iter()
            .map(|v| (v.device.to_str().unwrap(), v.name(), v.mounted))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/dev/sda1", "BÁO CÁO".to_owned(), true),
                ("/dev/sda2", "KINGSTON".to_owned(), false),
                ("/dev/sdb", "sdb".to_owned(), false),
            ]
        );
    }

    #[test]
    fn flags_of_older_lsblk_versions_are_read_too() {
        let listing = r#"{"blockdevices": [
            {"path":"/dev/sdb", "pkname":null, "type":"disk", "tran":null, "hotplug":"1", "fstype":null, "label":null, "mountpoint":null},
            {"path":"/dev/sdb1", "pkname":"/dev/sdb", "type":"part", "tran":null, "hotplug":"1", "fstype":"vfat", "label":" ", "mountpoint":null},
            {"path":"/dev/sdc", "pkname":null, "type":"disk", "tran":null, "hotplug":"0", "fstype":"vfat", "label":null, "mountpoint":null}
        ]}"#;
        let volumes = usb_volumes(listing, |_| true).unwrap();
        assert_eq!(volumes.len(), 1);
        assert_eq!(volumes[0].name(), "sdb1", "a blank label is no name");
    }

    #[test]
    fn a_listing_that_is_not_lsblk_s_is_an_error() {
        assert!(matches!(
            usb_volumes("lsblk: unknown column", |_| true),
            Err(DriveError::Failed(_))
        ));
    }
}
