//! The staff PIN pad: an officer (or the administrator) picks their name and types their PIN.
//! Wrong PINs lock the name tried (five free, then a growing time); many wrong PINs across
//! officer names lock every officer name but never the administrator. Locks survive a restart.

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
use std::collections::HashMap;
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

/// Whose wrong PINs a lock counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LockKey {
    /// One name: an officer's id, or the administrator's 0.
    Name(i64),
    /// Every officer name on this pad (not the administrator's).
    Pad,
}

impl LockKey {
    /// The keys a wrong PIN for the name `id` counts against: the name, and for an officer the
    /// pad too.
    fn of_name(id: i64) -> impl Iterator<Item = LockKey> {
        std::iter::once(LockKey::Name(id)).chain((id != ADMIN_ID).then_some(LockKey::Pad))
    }

    /// This key's lockout, with `failures` already counted.
    fn lockout(self, failures: u32) -> Lockout {
        match self {
            LockKey::Pad => Lockout::pad(failures),
            LockKey::Name(_) => Lockout::from_failures(failures),
        }
    }

    fn stored(self) -> String {
        match self {
            LockKey::Name(id) => id.to_string(),
            LockKey::Pad => "pad".to_owned(),
        }
    }
}

/// The wrong PINs of one key and, while it is locked, the seconds shown and the unlock.
struct Lock {
    lockout: RefCell<Lockout>,
    /// Seconds shown on the locked pad; the unlock itself is `unlock`'s.
    left: Cell<u32>,
    unlock: Timer,
}

/// What the pad opens once an officer's PIN is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    Console,
    /// The console, on a code scanned on the citizen screen that needs the officer's eye.
    ConsoleWithCode(String),
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
    locks: RefCell<HashMap<LockKey, Rc<Lock>>>,
    then: RefCell<Then>,
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
            locks: RefCell::default(),
            then: RefCell::new(Then::Console),
            tick_timer: Timer::default(),
            idle: IdleReturn::new(window, Screen::SignIn),
        });
        sign_in.restore_locks();
        sign_in.connect(window);
        sign_in
    }

    /// Takes up the locks saved before a restart: each name's count, and any lock still on.
    fn restore_locks(self: &Rc<Self>) {
        let mut keys = vec![LockKey::Pad, LockKey::Name(ADMIN_ID)];
        match self.store.borrow().officers() {
            Ok(officers) => keys.extend(officers.iter().map(|o| LockKey::Name(o.id))),
            Err(e) => tracing::error!(error = %e, "officers could not be read"),
        }
        for key in keys {
            let saved = self
                .store
                .borrow()
                .pin_lock(&key.stored())
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "a PIN lock could not be read");
                    PinLock::default()
                });
            if saved.failures == 0 {
                continue;
            }
            *self.lock_entry(key).lockout.borrow_mut() = key.lockout(saved.failures);
            if let Some(until) = saved.locked_until {
                let left = (until - self.clock.now()).num_seconds();
                if left > 0 {
                    self.lock(key, Duration::from_secs(left.unsigned_abs()));
                }
            }
        }
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

    /// The lock state of `key`, made on first use.
    fn lock_entry(&self, key: LockKey) -> Rc<Lock> {
        self.locks
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                Rc::new(Lock {
                    lockout: RefCell::new(key.lockout(0)),
                    left: Cell::new(0),
                    unlock: Timer::default(),
                })
            })
            .clone()
    }

    /// Seconds `key` stays locked; 0 when open.
    fn locked_left(&self, key: LockKey) -> u32 {
        self.locks.borrow().get(&key).map_or(0, |l| l.left.get())
    }

    /// Seconds the name `id` stays locked, by its own lock or (an officer's) the pad's.
    fn name_locked_left(&self, id: i64) -> u32 {
        LockKey::of_name(id)
            .map(|key| self.locked_left(key))
            .max()
            .unwrap_or(0)
    }

    /// Shows the pad with the administrator and the current officers, nothing typed; the
    /// officer on shift, if any, already chosen. `then` says what a right officer PIN opens.
    pub fn open(self: &Rc<Self>, then: Then) {
        *self.then.borrow_mut() = then;
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
        // The officer on shift, or a single officer: nothing to choose.
        let on_shift = self.desk.officer().map(|o| o.id);
        let only = (officers.len() == 2).then(|| officers[1].id);
        *self.officers.borrow_mut() = officers;
        self.idle.show();
        match on_shift.or(only) {
            Some(id) => self.choose(id),
            None => {
                self.chosen.set(None);
                self.pin.borrow_mut().clear();
                self.adapter(|a| {
                    a.set_chosen(-1);
                    a.set_pin_length(0);
                    a.set_pin_status("".into());
                });
            }
        }
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
            a.set_pin_status("".into());
        });
        self.show_lock_status();
    }

    /// Shows whether the chosen name is locked, and for how long.
    fn show_lock_status(&self) {
        let left = self.chosen.get().map_or(0, |id| self.name_locked_left(id));
        self.adapter(|a| {
            a.set_locked_seconds(i32::try_from(left).unwrap_or(i32::MAX));
            if left > 0 {
                a.set_pin_status("locked".into());
            } else if a.get_pin_status() == "locked" {
                a.set_pin_status("".into());
            }
        });
    }

    fn chosen_is_locked(&self) -> bool {
        self.chosen
            .get()
            .is_some_and(|id| self.name_locked_left(id) > 0)
    }

    fn digit(&self, digit: &str) {
        self.idle.touched();
        if self.chosen_is_locked() || !digit.bytes().all(|b| b.is_ascii_digit()) {
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
        if self.chosen_is_locked() || self.pin.borrow().is_empty() {
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
            LockKey::of_name(officer.id).for_each(|key| self.succeed(key));
            self.idle.leave();
            if officer.id == ADMIN_ID {
                self.admin.open();
                return;
            }
            self.desk.sign_in(OfficerRef {
                id: officer.id,
                name: officer.name,
            });
            let then = std::mem::replace(&mut *self.then.borrow_mut(), Then::Console);
            self.console.open();
            if let Then::ConsoleWithCode(code) = then {
                self.console.check_scanned(&code);
            }
            return;
        }
        tracing::warn!(officer = officer.id, "wrong PIN");
        // Counted against every key, the name's and, for an officer, the pad's.
        let mut locked = false;
        for key in LockKey::of_name(officer.id) {
            locked |= self.fail(key);
        }
        if !locked {
            let left = LockKey::of_name(officer.id)
                .map(|key| self.lock_entry(key).lockout.borrow().attempts_left())
                .min()
                .unwrap_or(0);
            self.adapter(|a| {
                a.set_attempts_left(i32::try_from(left).unwrap_or(0));
                a.set_pin_status("wrong".into());
            });
        }
    }

    /// A right PIN: the key's count starts again.
    fn succeed(&self, key: LockKey) {
        let entry = self.lock_entry(key);
        if entry.lockout.borrow().failures() == 0 {
            return;
        }
        entry.lockout.borrow_mut().succeed();
        self.save_lock(key, None);
    }

    /// A wrong PIN counted against `key`; returns whether it is now locked.
    fn fail(self: &Rc<Self>, key: LockKey) -> bool {
        let lock = self.lock_entry(key).lockout.borrow_mut().fail();
        self.save_lock(key, lock);
        match lock {
            Some(duration) => {
                self.lock(key, duration);
                true
            }
            None => false,
        }
    }

    fn save_lock(&self, key: LockKey, lock: Option<Duration>) {
        let saved = PinLock {
            failures: self.lock_entry(key).lockout.borrow().failures(),
            locked_until: lock.and_then(|d| {
                chrono::Duration::from_std(d)
                    .ok()
                    .map(|d| self.clock.now() + d)
            }),
        };
        if let Err(e) = self.store.borrow_mut().save_pin_lock(&key.stored(), &saved) {
            tracing::error!(error = %e, "a PIN lock could not be saved");
        }
    }

    /// Locks `key` for `duration`, counting down on screen while its name is chosen.
    fn lock(self: &Rc<Self>, key: LockKey, duration: Duration) {
        let secs = u32::try_from(duration.as_secs()).unwrap_or(u32::MAX).max(1);
        tracing::warn!(?key, secs, "PIN locked");
        let entry = self.lock_entry(key);
        entry.left.set(secs);
        self.pin.borrow_mut().clear();
        self.adapter(|a| a.set_pin_length(0));
        let this = Rc::downgrade(self);
        entry
            .unlock
            .start(TimerMode::SingleShot, duration, move || {
                if let Some(this) = this.upgrade() {
                    this.unlock(key);
                }
            });
        self.show_lock_status();
        if self.tick_timer.running() {
            return;
        }
        let this = Rc::downgrade(self);
        self.tick_timer
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(this) = this.upgrade() {
                    this.tick();
                }
            });
    }

    /// One second of every countdown (display only: never reaches zero before its unlock).
    fn tick(&self) {
        let mut any = false;
        for lock in self.locks.borrow().values() {
            let left = lock.left.get();
            if left > 0 {
                lock.left.set(left.saturating_sub(1).max(1));
                any = true;
            }
        }
        if !any {
            self.tick_timer.stop();
        }
        self.show_lock_status();
    }

    fn unlock(&self, key: LockKey) {
        if let Some(lock) = self.locks.borrow().get(&key) {
            lock.left.set(0);
        }
        self.show_lock_status();
    }
}

fn len_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}
