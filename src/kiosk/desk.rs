//! The counter's desk: which officer's shift it is (kept in the database, so a restart within
//! the day keeps it) and which dossier is armed for the next rating. An armed dossier nobody
//! rates in time is stored as "not rated".

use super::SharedSettings;
use super::speech::Speech;
use crate::clock::Clock;
use crate::store::{NewRating, Store};
use crate::ui::{AppWindow, KioskAdapter};
use crate::voice::Prompt;
use chrono::NaiveDate;
use hailong_core::dossier::DossierCode;
use hailong_core::procedure::Procedure;
use hailong_core::rating::{OfficerRef, Outcome};
use slint::{ComponentHandle, SharedString, Timer, TimerMode, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// A dossier linked to the tablet, waiting for the citizen's tap.
#[derive(Debug, Clone, PartialEq)]
pub struct Armed {
    pub dossier: DossierCode,
    pub procedure: Option<Procedure>,
    pub officer: OfficerRef,
}

/// An officer's sign-in; it ends with sign-out or at the end of the day.
#[derive(Debug, Clone)]
struct Shift {
    officer: OfficerRef,
    date: NaiveDate,
}

pub struct Desk {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    clock: Arc<dyn Clock>,
    settings: SharedSettings,
    speech: Rc<Speech>,
    shift: RefCell<Option<Shift>>,
    armed: RefCell<Option<Armed>>,
    expiry_timer: Timer,
}

impl Desk {
    pub fn new(
        window: &AppWindow,
        store: Rc<RefCell<Store>>,
        clock: Arc<dyn Clock>,
        settings: SharedSettings,
        speech: Rc<Speech>,
    ) -> Rc<Desk> {
        let shift = kept_shift(&store.borrow(), clock.now().date_naive());
        let desk = Rc::new(Desk {
            window: window.as_weak(),
            store,
            clock,
            settings,
            speech,
            shift: RefCell::new(shift),
            armed: RefCell::default(),
            expiry_timer: Timer::default(),
        });
        desk.show_shift();
        desk
    }

    pub fn sign_in(&self, officer: OfficerRef) {
        tracing::info!(officer = officer.id, "officer signed in");
        let date = self.clock.now().date_naive();
        self.save_shift(Some((officer.id, date)));
        *self.shift.borrow_mut() = Some(Shift { officer, date });
        self.show_shift();
    }

    pub fn sign_out(&self) {
        if let Some(shift) = self.shift.borrow_mut().take() {
            tracing::info!(officer = shift.officer.id, "officer signed out");
            self.save_shift(None);
        }
        self.show_shift();
    }

    fn save_shift(&self, shift: Option<(i64, NaiveDate)>) {
        if let Err(e) = self.store.borrow_mut().save_shift(shift) {
            // The shift holds until the app stops; only a restart would forget it.
            tracing::error!(error = %e, "the shift could not be saved");
        }
    }

    /// The officer on shift; a shift from an earlier day has ended.
    pub fn officer(&self) -> Option<OfficerRef> {
        let today = self.clock.now().date_naive();
        let ended = self
            .shift
            .borrow()
            .as_ref()
            .is_some_and(|s| s.date != today);
        if ended {
            tracing::info!("the shift ended with the day");
            self.sign_out();
        }
        self.shift.borrow().as_ref().map(|s| s.officer.clone())
    }

    /// Shows whose shift it is on the citizen screen.
    fn show_shift(&self) {
        if let Some(window) = self.window.upgrade() {
            let name = self.shift.borrow().as_ref().map(|s| s.officer.name.clone());
            window
                .global::<KioskAdapter>()
                .set_shift_officer(name.unwrap_or_default().into());
        }
    }

    /// Links `dossier` to the next rating. A dossier still armed is stored as not rated first.
    pub fn arm(self: &Rc<Self>, dossier: DossierCode, procedure: Option<Procedure>) {
        let Some(officer) = self.officer() else {
            tracing::warn!("arming refused: no officer signed in");
            return;
        };
        self.expire();
        tracing::info!(
            procedure = procedure.as_ref().map(|p| p.code.as_str()),
            "dossier armed"
        );
        *self.armed.borrow_mut() = Some(Armed {
            dossier,
            procedure,
            officer,
        });
        let expiry =
            Duration::from_secs(u64::from(self.settings.borrow().armed_expiry_secs.max(1)));
        let desk = Rc::downgrade(self);
        self.expiry_timer
            .start(TimerMode::SingleShot, expiry, move || {
                if let Some(desk) = desk.upgrade() {
                    desk.expire();
                }
            });
        self.show();
        self.speech.say(&[Prompt::Invite]);
    }

    /// The armed dossier, if any, for the tap about to be stored.
    pub fn armed(&self) -> Option<Armed> {
        self.armed.borrow().clone()
    }

    /// The armed dossier was rated: the desk is free again.
    pub fn rated(&self) {
        self.expiry_timer.stop();
        self.armed.borrow_mut().take();
        self.show();
    }

    /// Stores the armed dossier, if any, as not rated and frees the desk.
    fn expire(&self) {
        self.expiry_timer.stop();
        let Some(armed) = self.armed.borrow_mut().take() else {
            return;
        };
        let counter = self.settings.borrow().counter_name.clone();
        let record = NewRating {
            at: self.clock.now(),
            scale: self.settings.borrow().scale,
            outcome: Outcome::NotRated,
            dossier: Some(&armed.dossier),
            procedure: armed.procedure.as_ref(),
            officer: Some(&armed.officer),
            counter: &counter,
            finished: true,
        };
        match self.store.borrow_mut().record(&record) {
            Ok(recorded) => tracing::info!(seq = recorded.seq, "armed dossier not rated"),
            Err(e) => tracing::error!(error = %e, "an unrated dossier could not be saved"),
        }
        self.show();
    }

    /// Puts the armed dossier on the citizen screen.
    fn show(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<KioskAdapter>();
        let armed = self.armed.borrow();
        let text = |s: Option<&str>| SharedString::from(s.unwrap_or_default());
        adapter.set_armed_dossier(text(
            armed.as_ref().map(|a| a.dossier.to_string()).as_deref(),
        ));
        adapter.set_armed_procedure(text(
            armed
                .as_ref()
                .and_then(|a| a.procedure.as_ref())
                .map(|p| p.name.as_str()),
        ));
        adapter.set_armed_officer(text(armed.as_ref().map(|a| a.officer.name.as_str())));
    }
}

/// The shift saved before a restart, if it began today and its officer is still active.
fn kept_shift(store: &Store, today: NaiveDate) -> Option<Shift> {
    let (id, date) = match store.shift() {
        Ok(Some(saved)) => saved,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(error = %e, "the saved shift could not be read");
            return None;
        }
    };
    if date != today {
        return None;
    }
    let officer = store.officer(id).ok()?;
    tracing::info!(officer = id, "the shift goes on after a restart");
    Some(Shift {
        officer: OfficerRef {
            id,
            name: officer.name,
        },
        date,
    })
}
