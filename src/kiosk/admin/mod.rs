//! The administrator's screens behind the admin PIN: summaries, negative ratings, report
//! exports, officers, the procedure catalogue, the commune server, settings, About, and the way out of kiosk mode.

pub use export::{ExportReporter, show_export};
pub use server::show_sync;

mod catalogue;
mod export;
mod officers;
mod server;
mod settings;
mod summary;

use super::idle::IdleReturn;
use super::speech::Speech;
use super::{Flow, SharedSettings, SyncSlot};
use crate::clock::Clock;
use crate::paths::DataDir;
use crate::store::Store;
use crate::ui::{AdminAdapter, AdminTab, AppWindow, KioskAdapter, Screen};
use crate::usb::MountTable;
use slint::{ComponentHandle, SharedString, Weak};
use std::cell::RefCell;
use std::path::PathBuf;
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
    /// Folders searched for catalogue CSV files: the data dir and where USB sticks mount.
    catalogue_roots: Vec<PathBuf>,
    /// Where USB sticks for exports are looked for.
    mounts: RefCell<MountTable>,
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
        let catalogue_roots = vec![
            dir.root().to_owned(),
            PathBuf::from("/media"),
            PathBuf::from("/run/media"),
        ];
        let admin = Rc::new(Admin {
            window: window.as_weak(),
            store,
            settings,
            flow,
            clock,
            dir,
            sync,
            speech,
            catalogue_roots,
            mounts: RefCell::new(MountTable::default()),
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
        adapter.on_export_rescan(move || a.find_destinations());
        let a = self.clone();
        adapter.on_export_start(move || a.export_start());
        let a = self.clone();
        adapter.on_add_officer(move |name, pin| a.add_officer(&name, &pin));
        let a = self.clone();
        adapter.on_remove_officer(move |id| a.remove_officer(i64::from(id)));
        let a = self.clone();
        adapter.on_reset_pin(move |id, pin| a.reset_pin(i64::from(id), &pin));
        let a = self.clone();
        adapter.on_rescan_catalogue(move || a.show_tab(AdminTab::Catalogue));
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
        self.with(|a| a.set_tab(tab));
        match tab {
            AdminTab::Summary => self.show_summary(),
            AdminTab::Negatives => self.show_negatives(),
            AdminTab::Export => self.show_export_tab(),
            AdminTab::Officers => self.show_officers(),
            AdminTab::Catalogue => self.show_catalogue(),
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
        *self.mounts.borrow_mut() = mounts;
    }

    /// The StoreError code of the last tap that could not be saved, if the last one failed.
    fn storage_problem(&self) -> slint::SharedString {
        self.window
            .upgrade()
            .map(|w| w.global::<KioskAdapter>().get_save_failure())
            .unwrap_or_default()
    }
}
