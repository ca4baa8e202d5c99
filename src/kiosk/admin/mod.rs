//! The administrator's screens behind the admin PIN: summaries, negative ratings, report
//! exports, officers, the procedure catalogue, the commune server, settings, About, and the way out of kiosk mode.

pub use export::{ExportReporter, show_export};
pub use server::show_sync;
pub use usb::{UsbEvent, UsbReporter, show_usb};

mod catalogue;
mod export;
mod officers;
mod server;
mod settings;
mod summary;
mod usb;

use super::idle::IdleReturn;
use super::speech::Speech;
use super::{Flow, SharedSettings, SyncSlot};
use crate::clock::Clock;
use crate::paths::DataDir;
use crate::store::Store;
use crate::ui::{AdminAdapter, AdminTab, AppWindow, KioskAdapter, Screen};
use crate::usb::{MountTable, Sticks};
use slint::{ComponentHandle, SharedString, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// What the administrator's screens read and change.
pub struct AdminParts {
    pub store: Rc<RefCell<Store>>,
    pub settings: SharedSettings,
    pub flow: Rc<Flow>,
    pub dir: DataDir,
    /// The background sender, once started.
    pub sync: SyncSlot,
    pub speech: Rc<Speech>,
}

pub struct Admin {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    settings: SharedSettings,
    flow: Rc<Flow>,
    clock: Arc<dyn Clock>,
    dir: DataDir,
    /// The background sender, once started.
    sync: SyncSlot,
    speech: Rc<Speech>,
    /// The USB sticks for exports and catalogue files.
    usb: RefCell<usb::UsbPart>,
    /// Where exports report their progress and outcome.
    export_reporter: RefCell<ExportReporter>,
    idle: IdleReturn,
}

impl Admin {
    pub fn new(window: &AppWindow, parts: AdminParts, clock: Arc<dyn Clock>) -> Rc<Admin> {
        let AdminParts {
            store,
            settings,
            flow,
            dir,
            sync,
            speech,
        } = parts;
        let admin = Rc::new(Admin {
            window: window.as_weak(),
            store,
            settings,
            flow,
            clock,
            dir,
            sync,
            speech,
            usb: RefCell::new(usb::UsbPart {
                sticks: Sticks::default(),
                report: usb::reporter_for(window),
                looking: Arc::default(),
            }),
            export_reporter: RefCell::new(export::reporter_for(window)),
            idle: IdleReturn::new(window, Screen::Admin),
        });
        admin.connect(window);
        admin
    }

    fn connect(self: &Rc<Self>, window: &AppWindow) {
        let adapter = window.global::<AdminAdapter>();
        let a = self.clone();
        adapter.on_show_tab(move |tab| a.show_tab(tab));
        let a = self.clone();
        adapter.on_show_period(move |period| {
            a.with(|ad| ad.set_period(period));
            a.show_tab(AdminTab::Summary);
        });
        let a = self.clone();
        adapter.on_show_breakdown(move |by| {
            a.with(|ad| ad.set_breakdown(by));
            a.show_tab(AdminTab::Summary);
        });
        let a = self.clone();
        adapter.on_export_choose_kind(move |kind| a.export_choose_kind(kind));
        let a = self.clone();
        adapter.on_export_step(move |by| a.export_step(by));
        let a = self.clone();
        adapter.on_export_choose_format(move |code| a.export_choose_format(&code));
        let a = self.clone();
        adapter.on_export_choose_destination(move |i| a.export_choose_destination(i));
        let a = self.clone();
        adapter.on_export_rescan(move || {
            a.idle.touched();
            a.find_destinations();
            a.usb_look(true);
        });
        let a = self.clone();
        adapter.on_export_start(move || a.export_start());
        let a = self.clone();
        adapter.on_usb_look(move || a.usb_look(false));
        let a = self.clone();
        adapter.on_usb_eject(move |i| a.usb_eject(i));
        let a = self.clone();
        adapter.on_usb_changed(move || a.usb_changed());
        let a = self.clone();
        adapter.on_add_officer(move |name, pin| a.add_officer(&name, &pin));
        let a = self.clone();
        adapter.on_remove_officer(move |id| a.remove_officer(i64::from(id)));
        let a = self.clone();
        adapter.on_reset_pin(move |id, pin| a.reset_pin(i64::from(id), &pin));
        let a = self.clone();
        adapter.on_rescan_catalogue(move || {
            a.idle.touched();
            a.show_catalogue();
            a.usb_look(true);
        });
        let a = self.clone();
        adapter.on_import_catalogue(move |path| a.import_catalogue(&path));
        let a = self.clone();
        adapter.on_pair(move || a.pair());
        let a = self.clone();
        adapter.on_send_now(move || a.send_now());
        let a = self.clone();
        adapter.on_save_settings(move || a.save_settings());
        let a = self.clone();
        adapter.on_close(move || a.idle.leave());
        adapter.on_exit_app(|| {
            tracing::info!("the administrator closed the app");
            if let Err(e) = slint::quit_event_loop() {
                tracing::error!(error = %e, "could not quit");
            }
        });
    }

    fn with<R>(&self, f: impl FnOnce(AdminAdapter<'_>) -> R) -> Option<R> {
        self.window.upgrade().map(|w| f(w.global::<AdminAdapter>()))
    }

    /// Opens the screens on today's summary.
    pub fn open(self: &Rc<Self>) {
        tracing::info!("administrator signed in");
        self.with(|a| {
            a.set_version(env!("CARGO_PKG_VERSION").into());
            a.set_data_dir(self.dir.root().display().to_string().into());
            a.set_period(crate::ui::AdminPeriod::Today);
        });
        self.show_tab(AdminTab::Summary);
        self.idle.show();
    }

    fn show_tab(self: &Rc<Self>, tab: AdminTab) {
        self.idle.touched();
        self.with(|a| {
            a.set_tab(tab);
            usb::forget_usb_outcome(&a);
        });
        match tab {
            AdminTab::Summary => self.show_summary(),
            AdminTab::Negatives => self.show_negatives(),
            // Opening the tab is asking: sticks refused or ejected before are tried again.
            AdminTab::Export => {
                self.show_export_tab();
                self.usb_look(true);
            }
            AdminTab::Officers => self.show_officers(),
            AdminTab::Catalogue => {
                self.show_catalogue();
                self.usb_look(true);
            }
            // A pairing's outcome shows until the tab is opened again (unless still under way).
            AdminTab::Server => {
                self.with(|a| {
                    if a.get_pairing() != "working" {
                        a.set_pairing(SharedString::default());
                    }
                });
            }
            AdminTab::Settings => {
                self.with(|a| a.set_settings_page(0));
                self.show_settings();
            }
            AdminTab::About => {
                let device = self.settings.borrow().device_id.clone();
                self.with(|a| a.set_device_id(device.into()));
            }
        }
    }

    /// Sends exports' events to `report` (on the export's thread) instead of the event loop:
    /// for tests, which pass them to [`show_export`] themselves.
    pub fn report_exports_to(&self, report: ExportReporter) {
        *self.export_reporter.borrow_mut() = report;
    }

    /// Looks for USB sticks in `mounts` instead of the system's mount table: for tests.
    pub fn use_mount_table(&self, mounts: MountTable) {
        self.usb.borrow_mut().sticks.mounts = mounts;
    }

    /// Handles USB sticks with `sticks` instead of the system's (for tests), and sends what
    /// their threads do to `report` instead of the event loop, if given.
    pub fn use_sticks(&self, sticks: Sticks, report: Option<UsbReporter>) {
        let mut usb = self.usb.borrow_mut();
        usb.sticks = sticks;
        if let Some(report) = report {
            usb.report = report;
        }
    }

    /// The StoreError code of the last tap that could not be saved, if the last one failed.
    fn storage_problem(&self) -> slint::SharedString {
        self.window
            .upgrade()
            .map(|w| w.global::<KioskAdapter>().get_save_failure())
            .unwrap_or_default()
    }
}
