//! The citizen flow: a tap is stored before the screen moves on, with the armed dossier if
//! there is one; negative levels ask for reasons; presses too soon after a rating are misuse.

use super::SharedSettings;
use super::desk::Desk;
use crate::clock::Clock;
use crate::store::{NewRating, Store};
use crate::ui::{AppWindow, KioskAdapter, ReasonItem, Screen};
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::text::{Tone, apply_tone};
use slint::{ComponentHandle, Model, SharedString, Timer, TimerMode, VecModel, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const COMMENT_MAX_CHARS: usize = 500;

/// The rating the citizen is giving reasons for.
struct Pending {
    id: String,
    reasons: Vec<Reason>,
    comment: String,
}

#[derive(Default)]
struct State {
    pending: Option<Pending>,
    cooling_down: bool,
}

pub struct Flow {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    desk: Rc<Desk>,
    settings: SharedSettings,
    clock: Arc<dyn Clock>,
    state: RefCell<State>,
    reasons_model: Rc<VecModel<ReasonItem>>,
    thanks_timer: Timer,
    reasons_timer: Timer,
    cooldown_timer: Timer,
}

impl Flow {
    pub fn new(
        window: &AppWindow,
        store: Rc<RefCell<Store>>,
        desk: Rc<Desk>,
        settings: SharedSettings,
        clock: Arc<dyn Clock>,
    ) -> Rc<Flow> {
        let reasons_model = Rc::new(VecModel::from(
            Reason::ALL
                .iter()
                .map(|r| ReasonItem {
                    code: r.code().into(),
                    selected: false,
                })
                .collect::<Vec<_>>(),
        ));
        window
            .global::<KioskAdapter>()
            .set_reasons(reasons_model.clone().into());
        let flow = Rc::new(Flow {
            window: window.as_weak(),
            store,
            desk,
            settings,
            clock,
            state: RefCell::default(),
            reasons_model,
            thanks_timer: Timer::default(),
            reasons_timer: Timer::default(),
            cooldown_timer: Timer::default(),
        });
        flow.settings_changed();
        flow
    }

    /// Shows what the settings say: unit, counter, levels, walk-up ratings.
    pub fn settings_changed(&self) {
        let settings = self.settings.borrow();
        self.adapter(|a| {
            a.set_unit_name(settings.unit_name.as_str().into());
            a.set_counter_name(settings.counter_name.as_str().into());
            a.set_walk_up_allowed(settings.walk_up_allowed);
            a.set_levels(
                Rc::new(VecModel::from(
                    settings
                        .scale
                        .levels()
                        .iter()
                        .map(|l| SharedString::from(l.code()))
                        .collect::<Vec<_>>(),
                ))
                .into(),
            );
        });
    }

    fn adapter<R>(&self, f: impl FnOnce(KioskAdapter<'_>) -> R) -> Option<R> {
        self.window.upgrade().map(|w| f(w.global::<KioskAdapter>()))
    }

    fn screen(&self) -> Screen {
        self.adapter(|a| a.get_screen()).unwrap_or(Screen::Citizen)
    }

    /// The citizen pressed the face at `index` (left to right).
    pub fn choose_level(self: &Rc<Self>, index: usize) {
        let Some(level) = self.settings.borrow().scale.levels().get(index).copied() else {
            return;
        };
        if !self.on_citizen_screens() {
            return;
        }
        if self.state.borrow().cooling_down {
            if let Err(e) = self.store.borrow_mut().record_misuse(self.clock.now()) {
                tracing::error!(error = %e, "could not record a misuse press");
            }
            return;
        }
        let armed = self.desk.armed();
        if armed.is_none() && !self.settings.borrow().walk_up_allowed {
            return;
        }
        // A walk-up rating belongs to the officer on shift at this counter, if any.
        let officer = armed
            .as_ref()
            .map(|a| a.officer.clone())
            .or_else(|| self.desk.officer());
        let tap = NewRating {
            at: self.clock.now(),
            scale: self.settings.borrow().scale,
            outcome: Outcome::Rated(level),
            dossier: armed.as_ref().map(|a| &a.dossier),
            procedure: armed.as_ref().and_then(|a| a.procedure.as_ref()),
            officer: officer.as_ref(),
            finished: !level.is_negative(),
        };
        let recorded = match self.store.borrow_mut().record(&tap) {
            Ok(recorded) => recorded,
            Err(e) => {
                tracing::error!(error = %e, "a tap could not be saved");
                self.adapter(|a| {
                    a.set_save_failure(e.code().into());
                    a.set_screen(Screen::Citizen);
                });
                return;
            }
        };
        tracing::info!(
            seq = recorded.seq,
            level = level.code(),
            repeat = recorded.repeat_dossier,
            "tap saved"
        );
        if armed.is_some() {
            self.desk.rated();
        }
        self.start_cooldown();
        self.adapter(|a| a.set_save_failure(SharedString::default()));
        if level.is_negative() {
            self.ask_reasons(recorded.id);
        } else {
            self.show_thanks();
        }
    }

    /// Runs `action` once after `delay` on `timer` (restarting it), if the flow still exists.
    fn after(self: &Rc<Self>, timer: &Timer, delay: Duration, action: fn(&Rc<Flow>)) {
        let flow = Rc::downgrade(self);
        timer.start(TimerMode::SingleShot, delay, move || {
            if let Some(flow) = flow.upgrade() {
                action(&flow);
            }
        });
    }

    fn start_cooldown(self: &Rc<Self>) {
        self.state.borrow_mut().cooling_down = true;
        self.after(
            &self.cooldown_timer,
            secs(self.settings.borrow().min_interval_secs),
            |flow| flow.state.borrow_mut().cooling_down = false,
        );
    }

    fn ask_reasons(self: &Rc<Self>, id: String) {
        self.state.borrow_mut().pending = Some(Pending {
            id,
            reasons: Vec::new(),
            comment: String::new(),
        });
        for i in 0..self.reasons_model.row_count() {
            if let Some(mut item) = self.reasons_model.row_data(i) {
                item.selected = false;
                self.reasons_model.set_row_data(i, item);
            }
        }
        self.adapter(|a| {
            a.set_comment(SharedString::default());
            a.set_can_send(false);
            a.set_screen(Screen::Reasons);
        });
        self.restart_reasons_timer();
    }

    fn restart_reasons_timer(self: &Rc<Self>) {
        self.after(
            &self.reasons_timer,
            secs(self.settings.borrow().reasons_timeout_secs),
            Flow::reasons_timed_out,
        );
    }

    /// Any touch on the reasons screen keeps it open a while longer.
    pub fn interacted(self: &Rc<Self>) {
        if self.state.borrow().pending.is_some() {
            self.restart_reasons_timer();
        }
    }

    pub fn toggle_reason(self: &Rc<Self>, index: usize) {
        let (Some(reason), Some(mut item)) = (
            Reason::ALL.get(index).copied(),
            self.reasons_model.row_data(index),
        ) else {
            return;
        };
        let can_send = {
            let mut state = self.state.borrow_mut();
            let Some(pending) = state.pending.as_mut() else {
                return;
            };
            item.selected = !pending.reasons.contains(&reason);
            if item.selected {
                pending.reasons.push(reason);
            } else {
                pending.reasons.retain(|r| *r != reason);
            }
            !pending.reasons.is_empty()
        };
        self.reasons_model.set_row_data(index, item);
        self.adapter(|a| a.set_can_send(can_send));
        self.interacted();
    }

    /// Edits the comment: typed text, a tone on the last word, or erase.
    pub fn edit_comment(self: &Rc<Self>, edit: CommentEdit) {
        let comment = {
            let mut state = self.state.borrow_mut();
            let Some(pending) = state.pending.as_mut() else {
                return;
            };
            match edit {
                CommentEdit::Type(text) if pending.comment.chars().count() < COMMENT_MAX_CHARS => {
                    pending.comment.push_str(&text)
                }
                CommentEdit::Type(_) => {}
                CommentEdit::Tone(tone) => pending.comment = apply_tone(&pending.comment, tone),
                CommentEdit::Erase => {
                    pending.comment.pop();
                }
            }
            pending.comment.clone()
        };
        self.adapter(|a| a.set_comment(comment.into()));
        self.interacted();
    }

    /// Send on the reasons screen: amend the tapped rating and thank the citizen.
    pub fn send(self: &Rc<Self>) {
        if self
            .state
            .borrow()
            .pending
            .as_ref()
            .is_none_or(|p| p.reasons.is_empty())
        {
            return;
        }
        self.save_reasons();
        self.show_thanks();
    }

    fn reasons_timed_out(self: &Rc<Self>) {
        tracing::info!("reasons timed out");
        self.save_reasons();
        self.back_to_citizen();
    }

    /// Stores whatever reasons and comment were given and finishes the rating.
    fn save_reasons(self: &Rc<Self>) {
        self.reasons_timer.stop();
        let Some(pending) = self.state.borrow_mut().pending.take() else {
            return;
        };
        let comment = Some(pending.comment.as_str());
        if let Err(e) =
            self.store
                .borrow_mut()
                .amend_reasons(&pending.id, &pending.reasons, comment)
        {
            // The level itself is already on disk; the start-up pass will finish it.
            tracing::error!(error = %e, "reasons could not be saved");
            self.adapter(|a| a.set_save_failure(e.code().into()));
        }
    }

    fn show_thanks(self: &Rc<Self>) {
        self.adapter(|a| a.set_screen(Screen::Thanks));
        self.after(
            &self.thanks_timer,
            secs(self.settings.borrow().thank_you_secs),
            Flow::back_to_citizen,
        );
    }

    /// Back to the idle screen, in the unit's own language for the next citizen (unless an
    /// officer opened the console meanwhile).
    fn back_to_citizen(self: &Rc<Self>) {
        self.thanks_timer.stop();
        if !matches!(self.screen(), Screen::Thanks | Screen::Reasons) {
            return;
        }
        self.adapter(|a| a.set_screen(Screen::Citizen));
        let lang = self.settings.borrow().lang;
        self.switch_language(lang.code());
    }

    pub fn switch_language(&self, code: &str) {
        if let Some(window) = self.window.upgrade() {
            super::show_language(&window, code);
        }
    }

    /// Whether the citizen screens are showing (keys and scans may act).
    pub fn on_citizen_screens(&self) -> bool {
        matches!(self.screen(), Screen::Citizen | Screen::Thanks)
    }

    /// Makes the store's next write fail as on a full disk (fault tests).
    #[doc(hidden)]
    pub fn simulate_full_disk(&self) {
        if let Err(e) = self.store.borrow().simulate_full_disk() {
            tracing::error!(error = %e, "could not simulate a full disk");
        }
    }
}

/// One edit of the comment on the on-screen keyboard.
pub enum CommentEdit {
    Type(String),
    Tone(Tone),
    Erase,
}

fn secs(n: u32) -> Duration {
    Duration::from_secs(u64::from(n.max(1)))
}
