//! The officers tab: add an officer with a PIN, reset a PIN, remove from sign-in.

use super::Admin;
use crate::auth::hash_pin;
use crate::ui::OfficerRow;
use hailong_core::pin::{OFFICER_PIN_MIN, Pin};
use slint::{SharedString, VecModel};
use std::rc::Rc;

impl Admin {
    pub(super) fn show_officers(&self) {
        let officers = self.store.borrow().officers().unwrap_or_else(|e| {
            tracing::error!(error = %e, "officers could not be read");
            Vec::new()
        });
        let rows: Vec<OfficerRow> = officers
            .iter()
            .map(|o| OfficerRow {
                id: i32::try_from(o.id).unwrap_or(-1),
                name: o.name.as_str().into(),
            })
            .collect();
        self.with(|a| a.set_officers(Rc::new(VecModel::from(rows)).into()));
    }

    /// Sets the tab's message: a problem code, or what was done and to whom.
    fn officer_message(&self, problem: &str, done: &str, name: &str) {
        self.with(|a| {
            a.set_officer_problem(problem.into());
            a.set_officer_done(done.into());
            a.set_officer_done_name(SharedString::from(name));
        });
    }

    fn officer_pin_hash(&self, pin: &str) -> Option<String> {
        self.idle.touched();
        let Ok(pin) = Pin::parse(pin.trim(), OFFICER_PIN_MIN) else {
            self.officer_message("pin", "", "");
            return None;
        };
        match hash_pin(&pin) {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::error!(error = %e, "a PIN could not be hashed");
                self.officer_message("pin", "", "");
                None
            }
        }
    }

    pub(super) fn add_officer(&self, name: &str, pin: &str) {
        let name = name.trim();
        if name.is_empty() {
            self.officer_message("name", "", "");
            return;
        }
        let Some(hash) = self.officer_pin_hash(pin) else {
            return;
        };
        let added = self
            .store
            .borrow_mut()
            .add_officer(name, &hash, self.clock.now());
        match added {
            Ok(id) => {
                tracing::info!(officer = id, "officer added");
                self.officer_message("", "added", name);
            }
            Err(e) => {
                tracing::error!(error = %e, "an officer could not be added");
                self.officer_message("store", "", "");
            }
        }
        self.show_officers();
    }

    pub(super) fn reset_pin(&self, id: i64, pin: &str) {
        let Some(hash) = self.officer_pin_hash(pin) else {
            return;
        };
        let mut store = self.store.borrow_mut();
        match store.officer(id).and_then(|o| {
            store.set_officer_pin(id, &hash)?;
            Ok(o.name)
        }) {
            Ok(name) => {
                tracing::info!(officer = id, "officer PIN reset");
                self.officer_message("", "pin_reset", &name);
            }
            Err(e) => {
                tracing::error!(error = %e, "a PIN could not be reset");
                self.officer_message("store", "", "");
            }
        }
    }

    pub(super) fn remove_officer(&self, id: i64) {
        self.idle.touched();
        let removed = {
            let mut store = self.store.borrow_mut();
            store.officer(id).and_then(|o| {
                store.remove_officer(id)?;
                Ok(o.name)
            })
        };
        match removed {
            Ok(name) => {
                tracing::info!(officer = id, "officer removed");
                self.officer_message("", "removed", &name);
            }
            Err(e) => {
                tracing::error!(error = %e, "an officer could not be removed");
                self.officer_message("store", "", "");
            }
        }
        self.show_officers();
    }
}
