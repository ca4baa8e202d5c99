//! The officer console: enter a dossier code (keypad or scanner), check it, pick the procedure
//! from the catalogue (or skip), and arm the tablet for the citizen's rating. An officer who
//! used it a moment ago comes back without the PIN; anyone else goes through the PIN pad.

use super::SharedSettings;
use super::desk::Desk;
use super::idle::IdleReturn;
use crate::clock::Clock;
use crate::store::Store;
use crate::ui::{AppWindow, ConsoleAdapter, ConsoleStep, KioskAdapter, ProcedureItem, Screen};
use hailong_core::dossier::{DossierCode, DossierWarning};
use hailong_core::procedure::Procedure;
use hailong_core::text::{Tone, apply_tone};
use slint::{ComponentHandle, SharedString, Timer, TimerMode, VecModel, Weak};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// How long after using the console an officer may open it again without the PIN.
pub const CONSOLE_GRACE: Duration = Duration::from_secs(120);
/// How long the note for the officer (a scan with nobody signed in) shows.
const NOTE_SHOWN: Duration = Duration::from_secs(10);

/// Longest input kept in the code field: a whole tracking URL fits (the parser finds the code
/// in it), as a scanner's would.
const INPUT_MAX_CHARS: usize = hailong_core::dossier::MAX_INPUT_CHARS;
/// Procedures used lately at this counter, listed first while the search is empty.
const RECENT_SHOWN: usize = 6;
const QUERY_MAX_CHARS: usize = 60;
/// Procedures listed for a search: the officer narrows the search rather than scrolls.
const RESULTS_SHOWN: usize = 30;
/// The warning code for a dossier already rated on this tablet.
const REPEAT: &str = "repeat";

#[derive(Default)]
struct Entry {
    input: String,
    /// A code whose warnings the officer has seen: the next "continue" accepts it.
    warned: Option<DossierCode>,
    /// The accepted code, while the procedure is being picked.
    dossier: Option<DossierCode>,
    query: String,
    results: Vec<Procedure>,
}

pub struct Console {
    window: Weak<AppWindow>,
    store: Rc<RefCell<Store>>,
    desk: Rc<Desk>,
    clock: Arc<dyn Clock>,
    settings: SharedSettings,
    entry: RefCell<Entry>,
    results_model: Rc<VecModel<ProcedureItem>>,
    idle: IdleReturn,
    /// Runs while the officer may come back without the PIN.
    grace: Timer,
    note_timer: Timer,
}

impl Console {
    pub fn new(
        window: &AppWindow,
        store: Rc<RefCell<Store>>,
        desk: Rc<Desk>,
        clock: Arc<dyn Clock>,
        settings: SharedSettings,
    ) -> Rc<Console> {
        let results_model = Rc::new(VecModel::default());
        window
            .global::<ConsoleAdapter>()
            .set_results(results_model.clone().into());
        let console = Rc::new(Console {
            window: window.as_weak(),
            store,
            desk,
            clock,
            settings,
            entry: RefCell::default(),
            results_model,
            idle: IdleReturn::new(window, Screen::Console),
            grace: Timer::default(),
            note_timer: Timer::default(),
        });
        console.connect(window);
        console
    }

    fn connect(self: &Rc<Self>, window: &AppWindow) {
        let adapter = window.global::<ConsoleAdapter>();
        let c = self.clone();
        adapter.on_pad(move |key| c.edit_input(|input| push_limited(input, &key, INPUT_MAX_CHARS)));
        let c = self.clone();
        adapter.on_input_edited(move |text| {
            c.edit_input(|input| *input = text.chars().take(INPUT_MAX_CHARS).collect())
        });
        let c = self.clone();
        adapter.on_start_with_unit(move |i| {
            let unit = c
                .settings
                .borrow()
                .office_unit_codes()
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .cloned();
            if let Some(unit) = unit {
                c.edit_input(|input| *input = format!("{unit}-"));
            }
        });
        let c = self.clone();
        adapter.on_add_today(move || {
            let today = c.today();
            c.edit_input(|input| {
                if !input.is_empty() && !input.ends_with('-') {
                    input.push('-');
                }
                push_limited(input, &format!("{today}-"), INPUT_MAX_CHARS);
            })
        });
        let c = self.clone();
        adapter.on_erase(move || {
            c.edit_input(|input| {
                input.pop();
            })
        });
        let c = self.clone();
        adapter.on_clear(move || c.edit_input(String::clear));
        let c = self.clone();
        adapter.on_next(move || c.next());
        let c = self.clone();
        adapter.on_search_type(move |text| {
            c.edit_query(|query| push_limited(query, &text, QUERY_MAX_CHARS))
        });
        let c = self.clone();
        adapter.on_search_tone(move |tone| {
            c.edit_query(|query| *query = apply_tone(query, Tone::from_index(tone)))
        });
        let c = self.clone();
        adapter.on_search_erase(move || {
            c.edit_query(|query| {
                query.pop();
            })
        });
        let c = self.clone();
        adapter.on_choose(move |i| c.choose(usize::try_from(i).unwrap_or(usize::MAX)));
        let c = self.clone();
        adapter.on_skip(move || c.arm(None));
        let c = self.clone();
        adapter.on_back(move || c.show_step(ConsoleStep::Dossier));
        let c = self.clone();
        adapter.on_sign_out(move || {
            c.grace.stop();
            c.desk.sign_out();
            c.idle.leave();
        });
        let c = self.clone();
        adapter.on_close(move || c.idle.leave());
    }

    fn adapter(&self, f: impl FnOnce(ConsoleAdapter<'_>)) {
        if let Some(window) = self.window.upgrade() {
            f(window.global::<ConsoleAdapter>());
        }
    }

    /// The officer did something on the console: it stays open, and may be opened again
    /// without the PIN for a while.
    fn touched(&self) {
        self.idle.touched();
        self.grace
            .start(TimerMode::SingleShot, CONSOLE_GRACE, || {});
    }

    /// Today's date as a dossier code writes it (yymmdd).
    fn today(&self) -> String {
        self.clock.now().format("%y%m%d").to_string()
    }

    /// Whether the officer on shift used the console within the grace time.
    pub fn recently_used(&self) -> bool {
        self.grace.running() && self.desk.officer().is_some()
    }

    /// Opens the console on an empty dossier entry for the officer on shift.
    pub fn open(self: &Rc<Self>) {
        let Some(officer) = self.desk.officer() else {
            return;
        };
        self.note_timer.stop();
        set_note(&self.window, "");
        *self.entry.borrow_mut() = Entry::default();
        let units: Vec<SharedString> = self
            .settings
            .borrow()
            .office_unit_codes()
            .into_iter()
            .map(Into::into)
            .collect();
        let today = self.today();
        self.adapter(|a| {
            a.set_officer_name(officer.name.into());
            a.set_input(SharedString::default());
            a.set_units(Rc::new(VecModel::from(units)).into());
            a.set_today(today.into());
        });
        self.clear_messages();
        self.show_step(ConsoleStep::Dossier);
        self.idle.show();
    }

    /// A code a scanner typed on the citizen screens. With nobody on shift it is not armed and
    /// a note says why. A clean code is armed at once; otherwise it needs the officer's eye:
    /// `Err` with the code for the console, which the caller opens (through the PIN pad unless
    /// the officer used it a moment ago).
    pub fn scan(self: &Rc<Self>, text: &str) -> Result<(), String> {
        if self.desk.officer().is_none() {
            tracing::info!("scanned code not armed: no officer signed in");
            self.show_note("no_shift");
            return Ok(());
        }
        match self.check(text) {
            Ok((code, warnings)) if warnings.is_empty() => {
                self.desk.arm(code, None);
                Ok(())
            }
            _ => Err(text.trim().to_owned()),
        }
    }

    /// Shows `code` and what is wrong with it, on the open console.
    pub fn check_scanned(self: &Rc<Self>, code: &str) {
        self.entry.borrow_mut().input = code.to_owned();
        self.adapter(|a| a.set_input(code.into()));
        self.next();
    }

    /// A short note for the officer over the citizen screen.
    fn show_note(&self, note: &str) {
        set_note(&self.window, note);
        let window = self.window.clone();
        self.note_timer
            .start(TimerMode::SingleShot, NOTE_SHOWN, move || {
                set_note(&window, "")
            });
    }

    /// A key typed while the console shows: into the code or the search; Enter goes on.
    pub fn key(self: &Rc<Self>, text: &str) -> bool {
        let on_dossier = self.entry.borrow().dossier.is_none();
        if text == "\n" || text == "\r" {
            if on_dossier {
                self.next();
            }
            return true;
        }
        if text.chars().any(char::is_control) || text.is_empty() {
            return false;
        }
        if on_dossier {
            self.edit_input(|input| push_limited(input, text, INPUT_MAX_CHARS));
        } else {
            self.edit_query(|query| push_limited(query, text, QUERY_MAX_CHARS));
        }
        true
    }

    fn edit_input(&self, edit: impl FnOnce(&mut String)) {
        self.touched();
        let input = {
            let mut entry = self.entry.borrow_mut();
            edit(&mut entry.input);
            entry.warned = None;
            entry.input.clone()
        };
        self.adapter(|a| a.set_input(input.into()));
        self.clear_messages();
    }

    fn clear_messages(&self) {
        self.adapter(|a| {
            a.set_error(SharedString::default());
            a.set_warnings(Rc::new(VecModel::<SharedString>::default()).into());
            a.set_rated_at(SharedString::default());
        });
    }

    /// Parses the code and lists what the officer should see before arming it.
    fn check(&self, text: &str) -> Result<(DossierCode, Vec<&'static str>), &'static str> {
        let today = self.clock.now().date_naive();
        let code = DossierCode::parse(text, today).map_err(|e| e.code())?;
        let mut warnings: Vec<&'static str> = code
            .warnings(&self.settings.borrow().office_unit_codes())
            .into_iter()
            .map(DossierWarning::code)
            .collect();
        match self.store.borrow().dossier_rated_at(&code) {
            Ok(Some(at)) => {
                warnings.push(REPEAT);
                let when = at.format("%H:%M %d/%m/%Y").to_string();
                self.adapter(|a| a.set_rated_at(when.into()));
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not look up earlier ratings"),
        }
        Ok((code, warnings))
    }

    /// "Continue" on the dossier step: refuse with the reason, warn once, or go on.
    fn next(self: &Rc<Self>) {
        self.touched();
        let input = self.entry.borrow().input.clone();
        let (code, warnings) = match self.check(&input) {
            Ok(checked) => checked,
            Err(error) => {
                self.adapter(|a| a.set_error(error.into()));
                return;
            }
        };
        let seen = self.entry.borrow().warned.as_ref() == Some(&code);
        if !warnings.is_empty() && !seen {
            let model: Vec<SharedString> = warnings.into_iter().map(Into::into).collect();
            self.adapter(|a| {
                a.set_input(code.to_string().into());
                a.set_warnings(Rc::new(VecModel::from(model)).into());
            });
            let mut entry = self.entry.borrow_mut();
            entry.input = code.to_string();
            entry.warned = Some(code);
            return;
        }
        let catalogue = self.store.borrow().procedure_count().unwrap_or(0);
        self.entry.borrow_mut().dossier = Some(code.clone());
        if catalogue == 0 {
            self.arm(None);
            return;
        }
        self.adapter(|a| {
            a.set_dossier(code.to_string().into());
            a.set_catalogue_size(i32::try_from(catalogue).unwrap_or(i32::MAX));
        });
        self.edit_query(String::clear);
        self.show_step(ConsoleStep::Procedure);
    }

    fn show_step(&self, step: ConsoleStep) {
        self.touched();
        if step == ConsoleStep::Dossier {
            self.entry.borrow_mut().dossier = None;
        }
        self.adapter(|a| a.set_step(step));
    }

    fn edit_query(&self, edit: impl FnOnce(&mut String)) {
        self.touched();
        let query = {
            let mut entry = self.entry.borrow_mut();
            edit(&mut entry.query);
            entry.query.clone()
        };
        let (results, recent) = self.find_procedures(&query);
        self.results_model.set_vec(
            results
                .iter()
                .enumerate()
                .map(|(i, p)| ProcedureItem {
                    code: p.code.as_str().into(),
                    name: p.name.as_str().into(),
                    field: p.field_name.as_str().into(),
                    recent: i < recent,
                })
                .collect::<Vec<_>>(),
        );
        self.entry.borrow_mut().results = results;
        self.adapter(|a| a.set_query(query.into()));
    }

    /// The procedures matching `query`; with no query, the ones used lately at this counter
    /// first (their number is the second value).
    fn find_procedures(&self, query: &str) -> (Vec<Procedure>, usize) {
        let store = self.store.borrow();
        let logged = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "procedure search failed");
            Vec::new()
        };
        let mut found = if query.trim().is_empty() {
            store.recent_procedures(RECENT_SHOWN).unwrap_or_else(logged)
        } else {
            Vec::new()
        };
        let recent = found.len();
        for p in store
            .search_procedures(query, RESULTS_SHOWN)
            .unwrap_or_else(logged)
        {
            if found.len() == RESULTS_SHOWN {
                break;
            }
            if !found[..recent].iter().any(|r| r.code == p.code) {
                found.push(p);
            }
        }
        (found, recent)
    }

    fn choose(self: &Rc<Self>, index: usize) {
        let procedure = self.entry.borrow().results.get(index).cloned();
        if procedure.is_some() {
            self.arm(procedure);
        }
    }

    /// Arms the accepted code and hands the tablet to the citizen.
    fn arm(self: &Rc<Self>, procedure: Option<Procedure>) {
        let Some(dossier) = self.entry.borrow_mut().dossier.take() else {
            return;
        };
        self.desk.arm(dossier, procedure);
        *self.entry.borrow_mut() = Entry::default();
        self.idle.leave();
    }
}

/// Sets the note for the officer over the citizen screen ("" for none).
fn set_note(window: &Weak<AppWindow>, note: &str) {
    if let Some(window) = window.upgrade() {
        window.global::<KioskAdapter>().set_staff_note(note.into());
    }
}

/// Appends `text` unless that would pass `max` characters.
fn push_limited(s: &mut String, text: &str, max: usize) {
    if s.chars().count() + text.chars().count() <= max {
        s.push_str(text);
    }
}
