//! The citizen flow: a tap is stored before the screen moves on, with the armed dossier if
//! there is one; negative levels ask for reasons; for a short while the citizen may choose
//! again, which amends the same (still unfinished, so unsent) rating; presses too soon after a
//! rating are misuse.

use super::SharedSettings;
use super::desk::Desk;
use super::speech::Speech;
use crate::clock::Clock;
use crate::store::{NewRating, Store};
use crate::ui::{AppWindow, KioskAdapter, ReasonItem, Screen, Theme};
use crate::voice::Prompt;
use hailong_core::level::Level;
use hailong_core::privacy::mask_personal_numbers;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::text::{Tone, apply_tone};
use slint::{ComponentHandle, Model, SharedString, Timer, TimerMode, VecModel, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const COMMENT_MAX_CHARS: usize = 500;

/// The rating just tapped and not yet finished: its reasons are being given, or the citizen
/// may still choose again.
struct Open {
    id: String,
    /// The reasons screen is waiting for Send (or its time-out).
    asking: bool,
    reasons: Vec<Reason>,
    comment: String,
}

#[derive(Default)]
struct State {
    open: Option<Open>,
    /// "Chọn lại" is still offered for the open rating.
    may_change: bool,
    /// "Chọn lại" was tapped: the next face amends the open rating.
    choosing_again: bool,
    cooling_down: bool,
}

/// What the citizen flow stores into, reads and speaks through.
pub struct FlowParts {
    pub store: Rc<RefCell<Store>>,
    pub desk: Rc<Desk>,
    pub settings: SharedSettings,
    pub speech: Rc<Speech>,
}

pub struct Flow {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    desk: Rc<Desk>,
    settings: SharedSettings,
    speech: Rc<Speech>,
    clock: Arc<dyn Clock>,
    state: RefCell<State>,
    reasons_model: Rc<VecModel<ReasonItem>>,
    thanks_timer: Timer,
    reasons_timer: Timer,
    cooldown_timer: Timer,
    change_timer: Timer,
}

impl Flow {
    pub fn new(window: &AppWindow, parts: FlowParts, clock: Arc<dyn Clock>) -> Rc<Flow> {
        let FlowParts {
            store,
            desk,
            settings,
            speech,
        } = parts;
        let reasons_model = Rc::new(VecModel::from(
            Reason::CHOICES
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
            speech,
            clock,
            state: RefCell::default(),
            reasons_model,
            thanks_timer: Timer::default(),
            reasons_timer: Timer::default(),
            cooldown_timer: Timer::default(),
            change_timer: Timer::default(),
        });
        flow.settings_changed();
        flow
    }

    /// Shows what the settings say: unit, counter, levels, walk-up ratings, text size.
    pub fn settings_changed(&self) {
        self.reset_text_size();
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
        if !matches!(self.screen(), Screen::Citizen | Screen::Thanks) {
            return;
        }
        if self.state.borrow().choosing_again {
            self.change_level(level);
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
        // A rating still open from the last citizen is theirs as it stands.
        self.finish_open();
        let change_secs = self.settings.borrow().change_of_mind_secs;
        // A walk-up rating belongs to the officer on shift at this counter, if any.
        let officer = armed
            .as_ref()
            .map(|a| a.officer.clone())
            .or_else(|| self.desk.officer());
        let counter = self.settings.borrow().counter_name.clone();
        let tap = NewRating {
            at: self.clock.now(),
            scale: self.settings.borrow().scale,
            outcome: Outcome::Rated(level),
            dossier: armed.as_ref().map(|a| &a.dossier),
            procedure: armed.as_ref().and_then(|a| a.procedure.as_ref()),
            officer: officer.as_ref(),
            counter: &counter,
            finished: !level.is_negative() && change_secs == 0,
        };
        let recorded = match self.store.borrow_mut().record(&tap) {
            Ok(recorded) => recorded,
            Err(e) => {
                tracing::error!(error = %e, "a tap could not be saved");
                self.adapter(|a| {
                    a.set_save_failure(e.code().into());
                    a.set_screen(Screen::Citizen);
                });
                self.speech.say(&[Prompt::SaveFailure]);
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
        if !tap.finished {
            self.state.borrow_mut().open = Some(Open {
                id: recorded.id,
                asking: false,
                reasons: Vec::new(),
                comment: String::new(),
            });
        }
        self.open_change_window();
        self.show_level(level);
    }

    /// A face tapped after "Chọn lại": the open rating takes the new level.
    fn change_level(self: &Rc<Self>, level: Level) {
        let Some(id) = self.state.borrow().open.as_ref().map(|o| o.id.clone()) else {
            return;
        };
        if let Err(e) = self.store.borrow_mut().amend_level(&id, level) {
            tracing::error!(error = %e, "a change of mind could not be saved");
            self.adapter(|a| a.set_save_failure(e.code().into()));
            self.back_to_citizen();
            return;
        }
        tracing::info!(level = level.code(), "the citizen chose again");
        {
            let mut state = self.state.borrow_mut();
            state.choosing_again = false;
            if let Some(open) = state.open.as_mut() {
                open.reasons.clear();
                open.comment.clear();
            }
        }
        self.adapter(|a| a.set_choosing_again(false));
        self.open_change_window();
        self.show_level(level);
    }

    /// The screen after a face: the reasons for a negative level, thanks otherwise; the face's
    /// name is said first.
    fn show_level(self: &Rc<Self>, level: Level) {
        self.adapter(|a| a.set_chosen_level(level.code().into()));
        if level.is_negative() {
            self.ask_reasons();
            self.speech.say(&[Prompt::Level(level), Prompt::Reasons]);
        } else {
            self.show_thanks();
            self.speech.say(&[Prompt::Level(level), Prompt::Thanks]);
        }
    }

    /// "Aa": large text and high contrast on or off, for this citizen.
    pub fn toggle_text_size(&self) {
        if let Some(window) = self.window.upgrade() {
            let theme = window.global::<Theme>();
            theme.set_strong(!theme.get_strong());
        }
    }

    /// The text size the administrator chose, for the next citizen.
    fn reset_text_size(&self) {
        let large = self.settings.borrow().large_text;
        if let Some(window) = self.window.upgrade() {
            window.global::<Theme>().set_strong(large);
        }
    }

    /// The speaker button: what the screen showing asks of the citizen, said again.
    pub fn speak(&self) {
        let prompt = match self.screen() {
            Screen::Reasons => Prompt::Reasons,
            Screen::Thanks => Prompt::Thanks,
            Screen::Citizen if self.state.borrow().choosing_again => Prompt::ChooseAgain,
            Screen::Citizen => Prompt::Invite,
            _ => return,
        };
        self.speech.say(&[prompt]);
    }

    /// "Chọn lại" shows for the configured time after a tap (or a change), if the rating is
    /// still open.
    fn open_change_window(self: &Rc<Self>) {
        let window = self.settings.borrow().change_of_mind_secs;
        let open = window > 0 && self.state.borrow().open.is_some();
        self.state.borrow_mut().may_change = open;
        self.adapter(|a| a.set_can_choose_again(open));
        if open {
            self.after(&self.change_timer, secs(window), Flow::change_window_closed);
        } else {
            self.change_timer.stop();
        }
    }

    /// The citizen tapped "Chọn lại": the faces again, and the next one amends the rating.
    pub fn choose_again(self: &Rc<Self>) {
        if !self.state.borrow().may_change || self.state.borrow().open.is_none() {
            return;
        }
        self.thanks_timer.stop();
        self.reasons_timer.stop();
        {
            let mut state = self.state.borrow_mut();
            state.choosing_again = true;
            if let Some(open) = state.open.as_mut() {
                open.asking = false;
            }
        }
        // The whole window again to pick; then the rating stands as it was.
        self.open_change_window();
        self.adapter(|a| {
            a.set_can_choose_again(false);
            a.set_choosing_again(true);
            a.set_screen(Screen::Citizen);
        });
        self.speech.say(&[Prompt::ChooseAgain]);
    }

    /// The time to choose again is over: a rating not waiting for its reasons is finished.
    fn change_window_closed(self: &Rc<Self>) {
        if self.state.borrow().choosing_again {
            tracing::info!("no new choice; the rating stands");
            self.back_to_citizen();
            return;
        }
        self.end_change_window();
        if !self.asking() {
            self.finish_open();
        }
    }

    /// "Chọn lại" is no longer offered, nor under way.
    fn end_change_window(&self) {
        self.change_timer.stop();
        {
            let mut state = self.state.borrow_mut();
            state.may_change = false;
            state.choosing_again = false;
        }
        self.adapter(|a| {
            a.set_can_choose_again(false);
            a.set_choosing_again(false);
        });
    }

    /// Finishes the open rating as it stands, ready to send.
    fn finish_open(&self) {
        let Some(open) = self.state.borrow_mut().open.take() else {
            return;
        };
        if let Err(e) = self.store.borrow_mut().finish(&open.id) {
            // The start-up pass finishes it.
            tracing::error!(error = %e, "a rating could not be finished");
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

    fn ask_reasons(self: &Rc<Self>) {
        if let Some(open) = self.state.borrow_mut().open.as_mut() {
            open.asking = true;
        }
        for i in 0..self.reasons_model.row_count() {
            if let Some(mut item) = self.reasons_model.row_data(i) {
                item.selected = false;
                self.reasons_model.set_row_data(i, item);
            }
        }
        self.adapter(|a| {
            a.set_comment(SharedString::default());
            a.set_can_send(false);
            a.set_send_hint(false);
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
        if self.asking() {
            self.restart_reasons_timer();
        }
    }

    pub fn toggle_reason(self: &Rc<Self>, index: usize) {
        let (Some(reason), Some(mut item)) = (
            Reason::CHOICES.get(index).copied(),
            self.reasons_model.row_data(index),
        ) else {
            return;
        };
        let can_send = {
            let mut state = self.state.borrow_mut();
            let Some(open) = state.open.as_mut().filter(|o| o.asking) else {
                return;
            };
            item.selected = !open.reasons.contains(&reason);
            if item.selected {
                open.reasons.push(reason);
            } else {
                open.reasons.retain(|r| *r != reason);
            }
            !open.reasons.is_empty()
        };
        self.reasons_model.set_row_data(index, item);
        self.adapter(|a| {
            a.set_can_send(can_send);
            if can_send {
                a.set_send_hint(false);
            }
        });
        self.interacted();
    }

    /// Edits the comment: typed text, a tone on the last word, or erase.
    pub fn edit_comment(self: &Rc<Self>, edit: CommentEdit) {
        let comment = {
            let mut state = self.state.borrow_mut();
            let Some(open) = state.open.as_mut().filter(|o| o.asking) else {
                return;
            };
            match edit {
                CommentEdit::Type(text) if open.comment.chars().count() < COMMENT_MAX_CHARS => {
                    open.comment.push_str(&text)
                }
                CommentEdit::Type(_) => {}
                CommentEdit::Tone(tone) => open.comment = apply_tone(&open.comment, tone),
                CommentEdit::Erase => {
                    open.comment.pop();
                }
            }
            open.comment.clone()
        };
        self.adapter(|a| a.set_comment(comment.into()));
        self.interacted();
    }

    /// Whether the reasons screen is waiting for the open rating's reasons.
    fn asking(&self) -> bool {
        self.state.borrow().open.as_ref().is_some_and(|o| o.asking)
    }

    /// Send on the reasons screen: amend the tapped rating and thank the citizen. With no
    /// reason chosen, the screen says what Send needs instead.
    pub fn send(self: &Rc<Self>) {
        let chosen = match self.state.borrow().open.as_ref().filter(|o| o.asking) {
            None => return,
            Some(open) => !open.reasons.is_empty(),
        };
        if !chosen {
            self.adapter(|a| a.set_send_hint(true));
            self.interacted();
            return;
        }
        let finish = !self.state.borrow().may_change;
        self.save_reasons(finish);
        self.show_thanks();
    }

    /// Nobody sent the reasons in time: what was chosen is kept, or "no reason given".
    fn reasons_timed_out(self: &Rc<Self>) {
        tracing::info!("reasons timed out");
        if let Some(open) = self.state.borrow_mut().open.as_mut()
            && open.reasons.is_empty()
        {
            open.reasons.push(Reason::NotGiven);
        }
        self.save_reasons(true);
        self.back_to_citizen();
    }

    /// Stores the reasons and comment given, finishing the rating if `finish` (otherwise the
    /// change-of-mind window finishes it).
    fn save_reasons(self: &Rc<Self>, finish: bool) {
        self.reasons_timer.stop();
        let saved = {
            let mut state = self.state.borrow_mut();
            let Some(open) = state.open.as_mut().filter(|o| o.asking) else {
                return;
            };
            open.asking = false;
            // A phone or citizen-ID number written into the comment is not kept.
            let comment = mask_personal_numbers(&open.comment);
            let comment = Some(comment.as_str());
            let saved =
                self.store
                    .borrow_mut()
                    .amend_reasons(&open.id, &open.reasons, comment, finish);
            if finish {
                state.open = None;
            }
            saved
        };
        if let Err(e) = saved {
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
    /// officer opened the console meanwhile). The rating is finished as it stands.
    fn back_to_citizen(self: &Rc<Self>) {
        self.thanks_timer.stop();
        self.end_change_window();
        if !self.asking() {
            self.finish_open();
        }
        if !matches!(
            self.screen(),
            Screen::Thanks | Screen::Reasons | Screen::Citizen
        ) {
            return;
        }
        self.adapter(|a| a.set_screen(Screen::Citizen));
        let lang = self.settings.borrow().lang;
        self.switch_language(lang.code());
        self.reset_text_size();
    }

    pub fn switch_language(&self, code: &str) {
        if let Some(window) = self.window.upgrade() {
            super::show_language(&window, code);
        }
    }

    /// Whether a citizen screen is showing: keys and scans act (a level key only where the
    /// faces or the thanks show).
    pub fn on_citizen_screens(&self) -> bool {
        matches!(
            self.screen(),
            Screen::Citizen | Screen::Reasons | Screen::Thanks
        )
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
