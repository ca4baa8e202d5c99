//! USB sticks on the export and catalogue tabs: while either shows, sticks plugged in are
//! mounted by themselves (on a thread of their own: udisks may take seconds), and a stick on the
//! export tab is ejected safely on the administrator's word. What happened is put in words on
//! the tab, and its list of sticks follows.

use super::Admin;
use crate::ui::{AdminAdapter, AdminTab, AppWindow};
use crate::usb::{DriveError, Looked, Sticks};
use slint::{ComponentHandle, Model};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a thread did with sticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbEvent {
    /// A look for sticks plugged in, and the mounting of the new ones.
    Looked(Result<Looked, DriveError>),
    /// The stick named `name` ejected, or why not.
    Ejected {
        name: String,
        outcome: Result<(), DriveError>,
    },
}

/// Where the sticks' events go, from their thread: the window's event loop when the kiosk runs.
pub type UsbReporter = Arc<dyn Fn(UsbEvent) + Send + Sync>;

/// Reports that reach the window through its event loop.
pub fn reporter_for(window: &AppWindow) -> UsbReporter {
    let window = window.as_weak();
    Arc::new(move |event| {
        // Fails only once the event loop has quit, when nobody is looking.
        let _ = window.upgrade_in_event_loop(move |w| show_usb(&w, &event));
    })
}

/// Puts what happened to the sticks on the tab (on the UI thread), then has its list redone.
/// The tab shows one message at a time, the latest: an export's outcome gives way.
pub fn show_usb(window: &AppWindow, event: &UsbEvent) {
    let a = window.global::<AdminAdapter>();
    let before = a.get_usb_outcome();
    match event {
        UsbEvent::Looked(Ok(looked)) => {
            if let Some((name, problem)) = looked.failed.first() {
                let code = match problem {
                    DriveError::Refused => "mount_refused",
                    DriveError::Missing(_) | DriveError::NoService => "no_udisks",
                    _ => "mount_failed",
                };
                a.set_usb_outcome(code.into());
                a.set_usb_name(name.as_str().into());
            } else if !looked.mounted.is_empty() {
                a.set_usb_outcome("mounted".into());
                a.set_usb_name(looked.mounted.join(", ").into());
            }
        }
        // lsblk is part of every Debian system: missing or failing, it is the technician's
        // business (`drives` logs it).
        UsbEvent::Looked(Err(_)) => {}
        UsbEvent::Ejected { name, outcome } => {
            a.set_usb_outcome(
                match outcome {
                    Ok(()) => "ejected",
                    Err(e) => e.code(),
                }
                .into(),
            );
            a.set_usb_name(name.as_str().into());
            a.set_usb_ejecting(false);
        }
    }
    if a.get_usb_outcome() != before {
        a.set_export_outcome("".into());
    }
    a.invoke_usb_changed();
}

/// Words about a stick give way to newer ones (an export's, another tab's), except while an
/// ejection is under way: "do not pull it out yet" stays until it ends.
pub(super) fn forget_usb_outcome(a: &AdminAdapter<'_>) {
    if !a.get_usb_ejecting() {
        a.set_usb_outcome("".into());
    }
}

/// The sticks, and the reporting of what threads do with them.
pub(super) struct UsbPart {
    pub sticks: Sticks,
    pub report: UsbReporter,
    /// A look under way: the next waits for it to end.
    pub looking: Arc<AtomicBool>,
}

impl Admin {
    /// Mounts sticks plugged in since the last look (with `again`, those refused or ejected
    /// too), on a thread; the tab's list is redone when it ends.
    pub(super) fn usb_look(&self, again: bool) {
        let usb = self.usb.borrow();
        if usb.looking.swap(true, Ordering::AcqRel) {
            return;
        }
        let sticks = usb.sticks.clone();
        let report = usb.report.clone();
        let looking = usb.looking.clone();
        let spawned = std::thread::Builder::new()
            .name("usb".into())
            .spawn(move || {
                let looked = sticks.look(again);
                looking.store(false, Ordering::Release);
                report(UsbEvent::Looked(looked));
            });
        if let Err(e) = spawned {
            usb.looking.store(false, Ordering::Release);
            tracing::error!(error = %e, "no thread to look for sticks");
        }
    }

    /// Ejects the stick of the export tab's destination `index`, on a thread.
    pub(super) fn usb_eject(&self, index: i32) {
        self.idle.touched();
        let stick = self.with(|a| {
            let busy = a.get_export_running() || a.get_usb_ejecting();
            let place = usize::try_from(index)
                .ok()
                .and_then(|i| a.get_export_destinations().row_data(i))
                .filter(|place| place.usb && !busy)?;
            a.set_usb_ejecting(true);
            a.set_usb_outcome("ejecting".into());
            a.set_export_outcome("".into());
            a.set_usb_name(place.name.clone());
            Some((PathBuf::from(place.path.as_str()), place.name.to_string()))
        });
        let Some((point, name)) = stick.flatten() else {
            return;
        };
        tracing::info!(point = %point.display(), "eject asked for");
        let usb = self.usb.borrow();
        let sticks = usb.sticks.clone();
        let report = usb.report.clone();
        let fallback = report.clone();
        let fallback_name = name.clone();
        let spawned = std::thread::Builder::new()
            .name("eject".into())
            .spawn(move || {
                let outcome = sticks.eject(&point);
                report(UsbEvent::Ejected { name, outcome });
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "no thread to eject the stick");
            fallback(UsbEvent::Ejected {
                name: fallback_name,
                outcome: Err(DriveError::Failed(e.to_string())),
            });
        }
    }

    /// Redoes the list of the tab showing, after sticks came, went or were ejected.
    pub(super) fn usb_changed(&self) {
        match self.with(|a| a.get_tab()) {
            Some(AdminTab::Export) => self.find_destinations(),
            Some(AdminTab::Catalogue) => self.show_catalogue(),
            _ => {}
        }
    }
}
