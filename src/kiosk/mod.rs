//! The kiosk: opens the data dir, builds the window and wires its controllers: the citizen
//! flow, the officer's sign-in and console, the administrator's screens.

mod admin;
mod appliance;
mod console;
mod desk;
mod first_run;
mod flow;
mod idle;
mod keys;
mod launch;
mod signin;
mod speech;

pub use console::CONSOLE_GRACE;
pub use desk::Armed;
pub use first_run::FirstRun;
pub use flow::Flow;
pub use idle::STAFF_IDLE;
pub use keys::KEY_SETTLE;
pub use launch::{fatal_window, run};

use crate::clock::Clock;
use crate::export::ExportEvent;
use crate::paths::DataDir;
use crate::settings::{self, Settings};
use crate::store::{Store, StoreError};
use crate::sync::{SyncError, SyncHandle, SyncStatus};
use crate::ui::{AppWindow, FaultAdapter, FieldKeys, KioskAdapter, Screen, Theme};
use crate::usb::{MountTable, Sticks};
pub use admin::UsbEvent;
use admin::{Admin, AdminParts};
use console::Console;
use desk::Desk;
use flow::CommentEdit;
use hailong_core::text::Tone;
use keys::{KeyInput, KeyReader};
use signin::{SignIn, SignInParts, Then};
use slint::ComponentHandle;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// Why the kiosk could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0} is not set up: run `hailong setup` first")]
    NotSetUp(PathBuf),
    #[error("the settings were damaged and moved to {0}; run `hailong setup` again")]
    SettingsDamaged(PathBuf),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the window could not be created: {0}")]
    Ui(#[from] slint::PlatformError),
}

/// The settings every controller reads, changed in place by the administrator.
pub type SharedSettings = Rc<RefCell<Settings>>;

/// The background sender, once started; the administrator's screen talks to it.
pub type SyncSlot = Rc<RefCell<Option<SyncHandle>>>;

/// A running kiosk: the window and the controllers behind it.
pub struct Kiosk {
    pub window: AppWindow,
    pub flow: Rc<Flow>,
    pub settings: SharedSettings,
    desk: Rc<Desk>,
    dir: DataDir,
    clock: Arc<dyn Clock>,
    sync: SyncSlot,
    admin: Rc<Admin>,
    speech: Rc<speech::Speech>,
}

impl Kiosk {
    /// Opens `dir` (finishing ratings left unfinished) and builds the window.
    pub fn start(dir: &DataDir, clock: Arc<dyn Clock>) -> Result<Kiosk, StartError> {
        let now = clock.now();
        let settings = match settings::load(dir, now)? {
            settings::Loaded::Ready(s) => *s,
            settings::Loaded::Missing => return Err(StartError::NotSetUp(dir.root().to_owned())),
            settings::Loaded::Damaged { moved_to } => {
                return Err(StartError::SettingsDamaged(moved_to));
            }
        };
        let (mut store, quarantined) = Store::open_or_quarantine(&dir.database(), now)?;
        let finished = store.finish_unfinished()?;
        if finished > 0 {
            tracing::info!(finished, "finished ratings left open by the last run");
        }
        let window = new_window()?;
        let adapter = window.global::<KioskAdapter>();
        let lang = settings.lang;
        let settings = Rc::new(RefCell::new(settings));
        let store = Rc::new(RefCell::new(store));
        let speech = speech::Speech::new(&window, settings.clone());
        let desk = Desk::new(
            &window,
            store.clone(),
            clock.clone(),
            settings.clone(),
            speech.clone(),
        );
        let console = Console::new(
            &window,
            store.clone(),
            desk.clone(),
            clock.clone(),
            settings.clone(),
        );
        let flow = Flow::new(
            &window,
            flow::FlowParts {
                store: store.clone(),
                desk: desk.clone(),
                settings: settings.clone(),
                speech: speech.clone(),
            },
            clock.clone(),
        );
        let sync = SyncSlot::default();
        let admin = Admin::new(
            &window,
            AdminParts {
                store: store.clone(),
                settings: settings.clone(),
                flow: flow.clone(),
                dir: dir.clone(),
                sync: sync.clone(),
                speech: speech.clone(),
            },
            clock.clone(),
        );
        let sign_in = SignIn::new(
            &window,
            SignInParts {
                store,
                settings: settings.clone(),
                desk: desk.clone(),
                console: console.clone(),
                admin: admin.clone(),
            },
            clock.clone(),
        );
        flow.switch_language(lang.code());
        connect(&adapter, &flow);
        connect_staff(&window, &flow, &console, &sign_in);
        if let Some(q) = quarantined {
            tracing::error!(moved_to = %q.moved_to.display(), "started on a new database");
            show_damaged(&window, &q.moved_to);
        }
        Ok(Kiosk {
            window,
            flow,
            settings,
            desk,
            dir: dir.clone(),
            clock,
            sync,
            admin,
            speech,
        })
    }

    /// Starts the background sender; its reports reach the window through the event loop.
    pub fn start_sync(&self) -> Result<(), SyncError> {
        let window = self.window.as_weak();
        self.start_sync_reporting(move |status| {
            // Fails only once the event loop has quit, when nobody is looking.
            let _ = window.upgrade_in_event_loop(move |w| admin::show_sync(&w, &status));
        })
    }

    /// Starts the background sender with its reports going to `report`, on the worker's
    /// thread: for tests, which pass them to [`Kiosk::show_sync`] themselves.
    pub fn start_sync_reporting(
        &self,
        report: impl Fn(SyncStatus) + Send + 'static,
    ) -> Result<(), SyncError> {
        let settings = self.settings.borrow().clone();
        let handle = SyncHandle::spawn(self.dir.clone(), settings, self.clock.clone(), report)?;
        *self.sync.borrow_mut() = Some(handle);
        Ok(())
    }

    /// Shows a report from the background sender on the administrator's screen.
    pub fn show_sync(&self, status: &SyncStatus) {
        admin::show_sync(&self.window, status);
    }

    /// Sends report exports' events to `report`, on the export's thread, instead of the event
    /// loop: for tests, which pass them to [`Kiosk::show_export`] themselves.
    pub fn report_exports_to(&self, report: impl Fn(ExportEvent) + Send + Sync + 'static) {
        self.admin.report_exports_to(Arc::new(report));
    }

    /// Shows an export's progress or outcome on the administrator's screen.
    pub fn show_export(&self, event: &ExportEvent) {
        admin::show_export(&self.window, event);
    }

    /// Starts the voice on the system's audio device (a missing device is logged and shown on
    /// the administrator's screen; the kiosk goes on without it).
    pub fn start_voice(&self) {
        let volume = self.settings.borrow().voice_volume;
        self.speech
            .use_voice(Rc::new(crate::voice::Speaker::start(volume)));
    }

    /// Speaks through `voice` instead of the speaker: for tests, which record the prompts.
    pub fn use_voice(&self, voice: Rc<dyn crate::voice::Voice>) {
        self.speech.use_voice(voice);
    }

    /// Looks for USB sticks in `mounts` instead of the system's mount table: for tests.
    pub fn use_mount_table(&self, mounts: MountTable) {
        self.admin.use_mount_table(mounts);
    }

    /// Handles USB sticks with `sticks` (its own mount table and programs) and sends what
    /// their threads do to `report`, instead of the event loop: for tests, which pass the
    /// events to [`Kiosk::show_usb`] themselves.
    pub fn use_sticks(&self, sticks: Sticks, report: impl Fn(UsbEvent) + Send + Sync + 'static) {
        self.admin.use_sticks(sticks, Some(Arc::new(report)));
    }

    /// Shows what a thread did with USB sticks on the administrator's screen.
    pub fn show_usb(&self, event: &UsbEvent) {
        admin::show_usb(&self.window, event);
    }

    /// The dossier waiting for the citizen's rating, if any.
    pub fn armed(&self) -> Option<Armed> {
        self.desk.armed()
    }

    /// Full screen, no cursor, and the window cannot be closed from the citizen screens.
    pub fn enter_kiosk_mode(&self) {
        set_kiosk_mode(&self.window, true);
    }
}

/// Tells the officer that the database was damaged and moved aside, until acknowledged; the
/// administrator's summary keeps saying so.
fn show_damaged(window: &AppWindow, moved_to: &std::path::Path) {
    let faults = window.global::<FaultAdapter>();
    faults.set_damaged_database(moved_to.display().to_string().into());
    let weak = window.as_weak();
    faults.on_acknowledge(move || {
        if let Some(window) = weak.upgrade() {
            let adapter = window.global::<KioskAdapter>();
            if adapter.get_screen() == Screen::Damaged {
                adapter.set_screen(Screen::Citizen);
            }
        }
    });
    window.global::<KioskAdapter>().set_screen(Screen::Damaged);
}

/// A window that shows only `screen`, for when there is no kiosk behind it (setup, a fatal
/// fault): the app's name in the header, working language buttons, Vietnamese first.
fn lone_window(screen: Screen) -> Result<AppWindow, slint::PlatformError> {
    let window = new_window()?;
    let kiosk = window.global::<KioskAdapter>();
    kiosk.set_unit_name("Hài Lòng".into());
    kiosk.set_screen(screen);
    let weak = window.as_weak();
    kiosk.on_switch_language(move |code| {
        if let Some(window) = weak.upgrade() {
            show_language(&window, &code);
        }
    });
    show_language(&window, "vi");
    Ok(window)
}

/// A new window, its staff keyboard typing into the focused field.
fn new_window() -> Result<AppWindow, slint::PlatformError> {
    let window = AppWindow::new()?;
    window
        .global::<FieldKeys>()
        .on_edit(|text, key| edit_field(&text, &key).into());
    Ok(window)
}

/// Longest text the staff keyboard types into a field.
const FIELD_MAX_CHARS: usize = 200;

/// One key of the staff keyboard applied to a field's text: "⌫" erases a character, "tone-N"
/// puts tone N on the last word's vowel, anything else is appended.
pub fn edit_field(text: &str, key: &str) -> String {
    if key == "⌫" {
        let mut text = text.to_owned();
        text.pop();
        return text;
    }
    if let Some(n) = key.strip_prefix("tone-").and_then(|n| n.parse().ok()) {
        return hailong_core::text::apply_tone(text, Tone::from_index(n));
    }
    if text.chars().count() >= FIELD_MAX_CHARS {
        return text.to_owned();
    }
    format!("{text}{key}")
}

/// Switches the bundled translation and tells the window which language shows.
pub fn show_language(window: &AppWindow, code: &str) {
    if let Err(e) = slint::select_bundled_translation(code) {
        tracing::warn!(code, error = %e, "no bundled translation");
        return;
    }
    window.global::<KioskAdapter>().set_language(code.into());
}

/// Kiosk mode on: full screen, no cursor, close requests refused (the admin screen's exit is
/// the way out). Off: a normal window.
pub(crate) fn set_kiosk_mode(window: &AppWindow, on: bool) {
    window.window().set_fullscreen(on);
    window.global::<Theme>().set_hide_cursor(on);
    window.window().on_close_requested(move || {
        if on {
            slint::CloseRequestResponse::KeepWindowShown
        } else {
            slint::CloseRequestResponse::HideWindow
        }
    });
}

fn connect(adapter: &KioskAdapter<'_>, flow: &Rc<Flow>) {
    let f = flow.clone();
    adapter.on_choose_level(move |i| f.choose_level(usize::try_from(i).unwrap_or(usize::MAX)));
    let f = flow.clone();
    adapter.on_toggle_reason(move |i| f.toggle_reason(usize::try_from(i).unwrap_or(usize::MAX)));
    let f = flow.clone();
    adapter.on_type_text(move |t| f.edit_comment(CommentEdit::Type(t.into())));
    let f = flow.clone();
    adapter.on_tone(move |t| f.edit_comment(CommentEdit::Tone(Tone::from_index(t))));
    let f = flow.clone();
    adapter.on_erase(move || f.edit_comment(CommentEdit::Erase));
    let f = flow.clone();
    adapter.on_interacted(move || f.interacted());
    let f = flow.clone();
    adapter.on_send(move || f.send());
    let f = flow.clone();
    adapter.on_choose_again(move || f.choose_again());
    let f = flow.clone();
    adapter.on_speak(move || f.speak());
    let f = flow.clone();
    adapter.on_toggle_text_size(move || f.toggle_text_size());
    let f = flow.clone();
    adapter.on_switch_language(move |code| f.switch_language(&code));
}

/// The staff's long press and the keyboard: digits rate, scans arm (a code that needs the
/// officer's eye opens the console, through the PIN pad unless it was used a moment ago), the
/// console takes typing.
fn connect_staff(window: &AppWindow, flow: &Rc<Flow>, console: &Rc<Console>, sign_in: &Rc<SignIn>) {
    let adapter = window.global::<KioskAdapter>();
    let (c, s) = (console.clone(), sign_in.clone());
    adapter.on_staff(move || {
        if c.recently_used() {
            c.open();
        } else {
            s.open(Then::Console);
        }
    });
    let (f, c, s) = (flow.clone(), console.clone(), sign_in.clone());
    let reader = KeyReader::new(move |input| match input {
        KeyInput::Digit(n) => f.choose_level(n - 1),
        KeyInput::Scan(code) => {
            if let Err(code) = c.scan(&code) {
                if c.recently_used() {
                    c.open();
                    c.check_scanned(&code);
                } else {
                    s.open(Then::ConsoleWithCode(code));
                }
            }
        }
    });
    let (f, c, window) = (flow.clone(), console.clone(), window.as_weak());
    adapter.on_key(move |text| {
        match window
            .upgrade()
            .map(|w| w.global::<KioskAdapter>().get_screen())
        {
            Some(Screen::Console) => c.key(&text),
            _ if f.on_citizen_screens() => reader.key(&text),
            _ => false,
        }
    });
}
