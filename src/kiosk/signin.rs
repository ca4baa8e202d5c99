//! The staff PIN pad: an officer (or the administrator) picks their name and types their PIN.
//! After five wrong PINs the pad locks for a growing time, and the lock survives a restart.

use super::SharedSettings;
use super::admin::Admin;
use super::console::Console;
use super::desk::Desk;
use super::idle::IdleReturn;
use crate::auth::verify_pin;
use crate::clock::Clock;
use crate::store::{Officer, PinLock, Store};
use crate::ui::{AppWindow, OfficerItem, Screen, StaffAdapter};
use hailong_core::pin::Lockout;
use hailong_core::rating::OfficerRef;
use slint::{ComponentHandle, Timer, TimerMode, VecModel, Weak};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const PIN_MAX_DIGITS: usize = 12;
/// The administrator's entry in the list of names.
const ADMIN_ID: i64 = 0;

/// What a sign-in leads to and checks against.
pub struct SignInParts {
    pub store: Rc<RefCell<Store>>,
    pub settings: SharedSettings,
    pub desk: Rc<Desk>,
    pub console: Rc<Console>,
    pub admin: Rc<Admin>,
}

pub struct SignIn {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    settings: SharedSettings,
    desk: Rc<Desk>,
    console: Rc<Console>,
    admin: Rc<Admin>,
    clock: Arc<dyn Clock>,
    officers: RefCell<Vec<Officer>>,
    officers_model: Rc<VecModel<OfficerItem>>,
    chosen: Cell<Option<i64>>,
    pin: RefCell<String>,
    lockout: RefCell<Lockout>,
    /// Seconds shown on the locked pad; the unlock itself is `unlock_timer`'s.
    locked_left: Cell<u32>,
    unlock_timer: Timer,
    tick_timer: Timer,
    idle: IdleReturn,
}

impl SignIn {
    pub fn new(window: &AppWindow, parts: SignInParts, clock: Arc<dyn Clock>) -> Rc<SignIn> {
        let SignInParts {
            store,
            settings,
            desk,
            console,
            admin,
        } = parts;
        let officers_model = Rc::new(VecModel::default());
        window
            .global::<StaffAdapter>()
            .set_officers(officers_model.clone().into());
        let saved = store.borrow().pin_lock().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the PIN lock could not be read");
            PinLock::default()
        });
        let sign_in = Rc::new(SignIn {
            window: window.as_weak(),
            store,
            settings,
            desk,
            console,
            admin,
            clock,
            officers: RefCell::default(),
            officers_model,
            chosen: Cell::new(None),
            pin: RefCell::default(),
            lockout: RefCell::new(Lockout::from_failures(saved.failures)),
            locked_left: Cell::new(0),
            unlock_timer: Timer::default(),
            tick_timer: Timer::default(),
            idle: IdleReturn::new(window, Screen::SignIn),
        });
        if let Some(until) = saved.locked_until {
            let left = (until - sign_in.clock.now()).num_seconds();
            if left > 0 {
                sign_in.lock(Duration::from_secs(left.unsigned_abs()));
            }
        }
        sign_in.connect(window);
        sign_in
    }

    fn connect(self: &Rc<Self>, window: &AppWindow) {
        let adapter = window.global::<StaffAdapter>();
        let s = self.clone();
        adapter.on_choose(move |id| s.choose(i64::from(id)));
        let s = self.clone();
        adapter.on_digit(move |d| s.digit(&d));
        let s = self.clone();
        adapter.on_erase(move || s.erase());
        let s = self.clone();
        adapter.on_submit(move || s.submit());
        let s = self.clone();
        adapter.on_cancel(move || s.idle.leave());
    }

    fn adapter(&self, f: impl FnOnce(StaffAdapter<'_>)) {
        if let Some(window) = self.window.upgrade() {
            f(window.global::<StaffAdapter>());
        }
    }

    /// Shows the pad with the administrator and the current officers, nothing typed.
    pub fn open(self: &Rc<Self>) {
        let mut officers = match self.store.borrow().officers() {
            Ok(officers) => officers,
            Err(e) => {
                tracing::error!(error = %e, "officers could not be read");
                Vec::new()
            }
        };
        officers.insert(
            0,
            Officer {
                id: ADMIN_ID,
                name: String::new(),
                pin_hash: self.settings.borrow().admin_pin_hash.clone(),
            },
        );
        self.officers_model.set_vec(
            officers
                .iter()
                .map(|o| OfficerItem {
                    id: i32::try_from(o.id).unwrap_or(-1),
                    name: o.name.as_str().into(),
                })
                .collect::<Vec<_>>(),
        );
        // With a single officer there is nothing to choose.
        let only = (officers.len() == 2).then(|| officers[1].id);
        *self.officers.borrow_mut() = officers;
        self.chosen.set(only);
        self.pin.borrow_mut().clear();
        self.adapter(|a| {
            a.set_chosen(only.and_then(|id| i32::try_from(id).ok()).unwrap_or(-1));
            a.set_pin_length(0);
            if !self.is_locked() {
                a.set_pin_status("".into());
            }
        });
        self.idle.show();
    }

    fn is_locked(&self) -> bool {
        self.locked_left.get() > 0
    }

    fn choose(&self, id: i64) {
        self.idle.touched();
        if !self.officers.borrow().iter().any(|o| o.id == id) {
            return;
        }
        self.chosen.set(Some(id));
        self.pin.borrow_mut().clear();
        self.adapter(|a| {
            a.set_chosen(i32::try_from(id).unwrap_or(-1));
            a.set_pin_length(0);
            if !self.is_locked() {
                a.set_pin_status("".into());
            }
        });
    }

    fn digit(&self, digit: &str) {
        self.idle.touched();
        if self.is_locked() || !digit.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        let len = {
            let mut pin = self.pin.borrow_mut();
            if pin.len() + digit.len() <= PIN_MAX_DIGITS {
                pin.push_str(digit);
            }
            pin.len()
        };
        self.adapter(|a| a.set_pin_length(len_i32(len)));
    }

    fn erase(&self) {
        self.idle.touched();
        let len = {
            let mut pin = self.pin.borrow_mut();
            pin.pop();
            pin.len()
        };
        self.adapter(|a| a.set_pin_length(len_i32(len)));
    }

    fn submit(self: &Rc<Self>) {
        self.idle.touched();
        if self.is_locked() || self.pin.borrow().is_empty() {
            return;
        }
        let Some(officer) = self
            .chosen
            .get()
            .and_then(|id| self.officers.borrow().iter().find(|o| o.id == id).cloned())
        else {
            self.adapter(|a| a.set_pin_status("choose".into()));
            return;
        };
        let pin = std::mem::take(&mut *self.pin.borrow_mut());
        self.adapter(|a| a.set_pin_length(0));
        if verify_pin(&officer.pin_hash, &pin) {
            self.lockout.borrow_mut().succeed();
            self.save_lock(None);
            self.idle.leave();
            if officer.id == ADMIN_ID {
                self.admin.open();
            } else {
                self.desk.sign_in(OfficerRef {
                    id: officer.id,
                    name: officer.name,
                });
                self.console.open();
            }
            return;
        }
        let lock = self.lockout.borrow_mut().fail();
        tracing::warn!(failures = self.lockout.borrow().failures(), "wrong PIN");
        match lock {
            Some(lock) => {
                self.save_lock(Some(lock));
                self.lock(lock);
            }
            None => {
                self.save_lock(None);
                let left = Lockout::FREE_ATTEMPTS.saturating_sub(self.lockout.borrow().failures());
                self.adapter(|a| {
                    a.set_attempts_left(i32::try_from(left).unwrap_or(0));
                    a.set_pin_status("wrong".into());
                });
            }
        }
    }

    fn save_lock(&self, lock: Option<Duration>) {
        let saved = PinLock {
            failures: self.lockout.borrow().failures(),
            locked_until: lock.and_then(|d| {
                chrono::Duration::from_std(d)
                    .ok()
                    .map(|d| self.clock.now() + d)
            }),
        };
        if let Err(e) = self.store.borrow_mut().save_pin_lock(&saved) {
            tracing::error!(error = %e, "the PIN lock could not be saved");
        }
    }

    /// Locks the pad for `duration`, counting down on screen.
    fn lock(self: &Rc<Self>, duration: Duration) {
        let secs = u32::try_from(duration.as_secs()).unwrap_or(u32::MAX).max(1);
        tracing::warn!(secs, "PIN pad locked");
        self.locked_left.set(secs);
        self.pin.borrow_mut().clear();
        self.adapter(|a| {
            a.set_pin_length(0);
            a.set_locked_seconds(i32::try_from(secs).unwrap_or(i32::MAX));
            a.set_pin_status("locked".into());
        });
        let this = Rc::downgrade(self);
        self.unlock_timer
            .start(TimerMode::SingleShot, duration, move || {
                if let Some(this) = this.upgrade() {
                    this.unlock();
                }
            });
        let this = Rc::downgrade(self);
        self.tick_timer
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(this) = this.upgrade() {
                    // Display only: never reaches zero before the unlock timer fires.
                    let left = this.locked_left.get().saturating_sub(1).max(1);
                    this.locked_left.set(left);
                    this.adapter(|a| a.set_locked_seconds(i32::try_from(left).unwrap_or(0)));
                }
            });
    }

    fn unlock(&self) {
        self.tick_timer.stop();
        self.locked_left.set(0);
        self.adapter(|a| {
            a.set_locked_seconds(0);
            a.set_pin_status("".into());
        });
    }
}

fn len_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}
