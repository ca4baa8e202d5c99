//! USB sticks on the administrator's tabs through Slint's testing backend, with stand-ins for
//! `lsblk` and `udisksctl` (shell scripts that keep a fake mount table, as udisks keeps the real
//! one): a stick plugged in is mounted by itself once, a report is exported to it and it is
//! ejected safely; a stick in use is not ejected; a stick the system refuses is said so and not
//! tried again until asked; a device without udisks says so.

use crate::export_screen::{capture, destination, follow};
use crate::support::{Harness, Tablet, wait};
use hailong::export::ExportEvent;
use hailong::kiosk::UsbEvent;
use hailong::settings::Lang;
use hailong::usb::{Drives, MountTable, Sticks};
use hailong_core::level::Scale;
use slint::Model;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// A counter device's USB port: one stick (`/dev/sdz`, a vfat partition labelled KINGSTON)
/// plugged in or not, and what udisks was asked.
struct Port {
    dir: PathBuf,
}

impl Port {
    /// Writes the stand-ins into `dir`; the stick is plugged in.
    fn new(dir: &Path) -> Port {
        let dir = dir.join("usb");
        std::fs::create_dir_all(dir.join("media")).unwrap();
        std::fs::write(dir.join("mounts"), "/dev/vda1 / ext4 rw 0 0\n").unwrap();
        let d = dir.display();
        script(
            &dir.join("lsblk"),
            &format!(
                r#"[ -e {d}/plugged ] || {{ echo '{{"blockdevices": []}}'; exit 0; }}
point=$(awk '$1 == "/dev/sdz1" {{ print $2 }}' {d}/mounts)
if [ -n "$point" ]; then point="\"$point\""; else point=null; fi
cat <<JSON
{{"blockdevices": [
  {{"path":"/dev/vda", "pkname":null, "type":"disk", "tran":null, "hotplug":false, "fstype":null, "label":null, "mountpoint":null}},
  {{"path":"/dev/vda1", "pkname":"/dev/vda", "type":"part", "tran":null, "hotplug":false, "fstype":"ext4", "label":null, "mountpoint":"/"}},
  {{"path":"/dev/sdz", "pkname":null, "type":"disk", "tran":"usb", "hotplug":true, "fstype":null, "label":null, "mountpoint":null}},
  {{"path":"/dev/sdz1", "pkname":"/dev/sdz", "type":"part", "tran":null, "hotplug":true, "fstype":"vfat", "label":"KINGSTON", "mountpoint":$point}}
]}}
JSON
"#
            ),
        );
        script(
            &dir.join("udisksctl"),
            &format!(
                r#"echo "$*" >> {d}/asked
[ "$2" = --no-user-interaction ] && [ "$3" = --block-device ] || exit 64
case "$1" in
mount)
    if [ -e {d}/refuse ]; then
        echo "Error mounting $4: GDBus.Error:org.freedesktop.UDisks2.Error.NotAuthorized: Not authorized to perform operation" >&2
        exit 1
    fi
    mkdir -p {d}/media/hailong-kiosk/KINGSTON
    echo "$4 {d}/media/hailong-kiosk/KINGSTON vfat rw,nosuid,nodev 0 0" >> {d}/mounts
    echo "Mounted $4 at {d}/media/hailong-kiosk/KINGSTON" ;;
unmount)
    if [ -e {d}/busy ]; then
        echo "Error unmounting $4: GDBus.Error:org.freedesktop.UDisks2.Error.DeviceBusy: Error unmounting $4: target is busy" >&2
        exit 1
    fi
    grep -v "^$4 " {d}/mounts > {d}/mounts.new; mv {d}/mounts.new {d}/mounts ;;
power-off)
    rm {d}/plugged ;;
*) exit 64 ;;
esac
"#
            ),
        );
        let port = Port { dir };
        port.set("plugged", true);
        port
    }

    fn sticks(&self) -> Sticks {
        Sticks::new(
            MountTable {
                table: self.dir.join("mounts"),
                roots: vec![self.dir.join("media")],
            },
            Drives {
                lsblk: self.dir.join("lsblk"),
                udisksctl: self.dir.join("udisksctl"),
            },
        )
    }

    /// Where udisks mounts the stick.
    fn point(&self) -> PathBuf {
        self.dir.join("media/hailong-kiosk/KINGSTON")
    }

    /// Turns one of the stand-ins' states on or off: `plugged`, `refuse`, `busy`.
    fn set(&self, state: &str, on: bool) {
        let flag = self.dir.join(state);
        if on {
            std::fs::write(flag, "").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// What udisks was asked, one line each.
    fn asked(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("asked"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace(" --no-user-interaction --block-device", ""))
            .collect()
    }
}

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A tablet with demo ratings whose sticks are `port`'s; what their threads do comes back on
/// the receiver.
fn tablet_with_port(lang: Lang) -> (Harness, Port, Receiver<UsbEvent>) {
    let tablet = Tablet::new(Scale::Three, lang);
    tablet.fill_demo(300, 60, 5);
    let port = Port::new(tablet.dir.path());
    let h = tablet.start(1280., 800.);
    let (send, events) = channel();
    h.kiosk.use_sticks(port.sticks(), move |event| {
        let _ = send.send(event);
    });
    (h, port, events)
}

/// Shows the next thing a sticks' thread did, and returns it.
fn next(h: &Harness, events: &Receiver<UsbEvent>) -> UsbEvent {
    // The deadline only stops a broken test from hanging.
    let event = events.recv_timeout(Duration::from_secs(60)).unwrap();
    h.kiosk.show_usb(&event);
    event
}

/// Lets the tab's 2-second timer look for sticks once more, and shows what it found.
fn tick(h: &Harness, events: &Receiver<UsbEvent>) -> UsbEvent {
    wait(Duration::from_secs(2));
    next(h, events)
}

#[test]
fn a_stick_plugged_in_is_mounted_by_itself_written_to_and_ejected_safely() {
    let (h, port, usb) = tablet_with_port(Lang::Vi);
    let exports = capture(&h);
    h.sign_in_as_admin();
    h.tap("admin-tab-export");

    // Opening the tab mounted the stick and listed it first, as the place to save to.
    assert!(matches!(next(&h, &usb), UsbEvent::Looked(Ok(ref l)) if l.mounted == ["KINGSTON"]));
    assert_eq!(port.asked(), ["mount /dev/sdz1"]);
    assert_eq!(destination(&h, 0), port.point().display().to_string());
    assert_eq!(h.admin().get_export_destination(), 0);
    assert_eq!(h.label("usb-outcome"), "Đã mở USB KINGSTON.");

    // Later looks find it mounted and leave it be.
    for _ in 0..3 {
        assert!(matches!(tick(&h, &usb), UsbEvent::Looked(Ok(ref l)) if l == &Default::default()));
    }
    assert_eq!(port.asked().len(), 1, "mounted once");
    assert_eq!(h.label("usb-outcome"), "Đã mở USB KINGSTON.");

    h.tap("export-format-csv");
    h.tap("export-start");
    // While the file is being written, the stick cannot be ejected.
    h.tap("export-eject-0");
    assert_eq!(h.admin().get_usb_outcome(), "");
    assert!(!h.admin().get_usb_ejecting());
    let ExportEvent::Written { path, .. } = follow(&h, &exports) else {
        panic!("not written");
    };
    assert!(path.starts_with(port.point()));

    // In use: not ejected, and said so; the stick stays listed. One message at a time.
    assert_eq!(h.admin().get_export_outcome(), "written");
    port.set("busy", true);
    h.tap("export-eject-0");
    assert_eq!(h.admin().get_export_outcome(), "");
    assert!(h.find("export-outcome").is_none());
    assert_eq!(h.admin().get_usb_outcome(), "ejecting");
    assert!(h.admin().get_usb_ejecting());
    assert!(h.label("usb-outcome").contains("Chưa rút USB ra"));
    assert!(matches!(
        next(&h, &usb),
        UsbEvent::Ejected {
            outcome: Err(_),
            ..
        }
    ));
    assert_eq!(h.admin().get_usb_outcome(), "busy");
    assert!(
        h.label("usb-outcome")
            .starts_with("Chưa tháo được USB KINGSTON")
    );
    assert_eq!(destination(&h, 0), port.point().display().to_string());

    // Asked again once nothing uses it: unmounted, powered off, gone from the list.
    port.set("busy", false);
    h.tap("export-eject-0");
    assert_eq!(
        next(&h, &usb),
        UsbEvent::Ejected {
            name: "KINGSTON".into(),
            outcome: Ok(())
        }
    );
    assert_eq!(
        h.label("usb-outcome"),
        "Đã tháo an toàn USB KINGSTON. Bây giờ có thể rút USB ra."
    );
    assert!(!h.admin().get_usb_ejecting());
    assert_eq!(
        port.asked(),
        [
            "mount /dev/sdz1",
            "unmount /dev/sdz1",
            "unmount /dev/sdz1",
            "power-off /dev/sdz1"
        ]
    );
    assert_eq!(
        destination(&h, 0),
        h.tablet.data.reports().display().to_string(),
        "only the report folder is left"
    );
    assert_eq!(h.admin().get_export_destinations().row_count(), 1);
    assert!(h.find("export-eject-0").is_none());

    // Pulled out (the next look sees it gone), plugged in again: mounted again by the next.
    tick(&h, &usb);
    port.set("plugged", true);
    tick(&h, &usb);
    assert_eq!(port.asked().last().unwrap(), "mount /dev/sdz1");
    assert_eq!(destination(&h, 0), port.point().display().to_string());
}

#[test]
fn a_stick_ejected_but_still_plugged_in_is_not_mounted_again_until_asked() {
    let (h, port, usb) = tablet_with_port(Lang::En);
    h.sign_in_as_admin();
    h.tap("admin-tab-export");
    next(&h, &usb);
    // A drive that cannot be powered off stays plugged in, unmounted.
    std::fs::write(
        port.dir.join("udisksctl"),
        std::fs::read_to_string(port.dir.join("udisksctl"))
            .unwrap()
            .replace("rm ", "exit 1; rm "),
    )
    .unwrap();
    h.tap("export-eject-0");
    assert!(matches!(
        next(&h, &usb),
        UsbEvent::Ejected {
            outcome: Ok(()),
            ..
        }
    ));
    assert_eq!(
        h.label("usb-outcome"),
        "KINGSTON has been ejected safely. You can pull it out now."
    );
    tick(&h, &usb);
    tick(&h, &usb);
    assert_eq!(
        port.asked()
            .iter()
            .filter(|a| a.starts_with("mount"))
            .count(),
        1
    );
    assert_eq!(h.admin().get_export_destinations().row_count(), 1);

    // "Find USB again" mounts it.
    h.tap("export-rescan");
    assert!(matches!(next(&h, &usb), UsbEvent::Looked(Ok(ref l)) if l.mounted == ["KINGSTON"]));
    assert_eq!(destination(&h, 0), port.point().display().to_string());

    // As does opening the tab again.
    h.tap("export-eject-0");
    next(&h, &usb);
    tick(&h, &usb);
    assert_eq!(h.admin().get_export_destinations().row_count(), 1);
    h.tap("admin-tab-summary");
    h.tap("admin-tab-export");
    assert!(matches!(next(&h, &usb), UsbEvent::Looked(Ok(ref l)) if l.mounted == ["KINGSTON"]));
    assert_eq!(
        port.asked()
            .iter()
            .filter(|a| a.starts_with("mount"))
            .count(),
        3
    );
}

#[test]
fn a_stick_the_system_refuses_is_said_so_once_and_tried_again_when_asked() {
    let (h, port, usb) = tablet_with_port(Lang::Vi);
    port.set("refuse", true);
    h.sign_in_as_admin();
    h.tap("admin-tab-catalogue");
    next(&h, &usb);
    assert_eq!(h.admin().get_usb_outcome(), "mount_refused");
    assert_eq!(
        h.label("usb-outcome"),
        "Có USB KINGSTON nhưng máy không cho mở. Báo người quản lý kỹ thuật."
    );
    // Not asked again every two seconds.
    tick(&h, &usb);
    tick(&h, &usb);
    assert_eq!(port.asked(), ["mount /dev/sdz1"]);

    // Allowed now, and asked: mounted, and its catalogue files listed.
    port.set("refuse", false);
    std::fs::create_dir_all(port.point()).unwrap();
    h.tap("admin-catalogue-rescan");
    std::fs::write(
        port.point().join("thu-tuc.csv"),
        "code,name_vi,field_vi,field_code\n",
    )
    .unwrap();
    assert!(matches!(next(&h, &usb), UsbEvent::Looked(Ok(ref l)) if l.mounted == ["KINGSTON"]));
    assert_eq!(h.label("usb-outcome"), "Đã mở USB KINGSTON.");
    let files = h.admin().get_catalogue_files();
    assert!(
        files.iter().any(|f| f.name == "thu-tuc.csv"),
        "the stick's files are listed once it is mounted"
    );
}

#[test]
fn a_device_without_udisks_says_so_on_the_tab() {
    let (h, port, usb) = tablet_with_port(Lang::En);
    let mut sticks = port.sticks();
    sticks.drives.udisksctl = port.dir.join("no-such-program");
    let (send, usb2) = channel();
    h.kiosk.use_sticks(sticks, move |event| {
        let _ = send.send(event);
    });
    drop(usb);
    h.sign_in_as_admin();
    h.tap("admin-tab-export");
    next(&h, &usb2);
    assert_eq!(h.admin().get_usb_outcome(), "no_udisks");
    assert!(h.label("usb-outcome").contains("udisks2"));
    assert_eq!(h.admin().get_export_destinations().row_count(), 1);
}
