//! First-run setup, shared by the setup screen and `hailong setup`: validate, hash, save.

use crate::auth;
use crate::catalogue;
use crate::paths::DataDir;
use crate::settings::{self, Lang, Settings};
use crate::store::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use hailong_core::level::Scale;
use hailong_core::pin::{ADMIN_PIN_MIN, Pin};

/// What the administrator entered.
#[derive(Debug, Clone)]
pub struct SetupForm {
    pub admin_pin: String,
    pub unit_name: String,
    pub unit_code: String,
    pub counter_name: String,
    pub lang: Lang,
    pub scale: Scale,
}

/// One problem with the form; the UI shows words for each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SetupProblem {
    #[error("the administrator PIN must be at least 6 digits")]
    AdminPin,
    #[error("the unit name is empty")]
    UnitName,
    #[error("the unit code must be letters, digits and dots, like 000.00.14.H56")]
    UnitCode,
    #[error("the counter name is empty")]
    CounterName,
}

impl SetupProblem {
    pub fn code(self) -> &'static str {
        match self {
            SetupProblem::AdminPin => "admin_pin",
            SetupProblem::UnitName => "unit_name",
            SetupProblem::UnitCode => "unit_code",
            SetupProblem::CounterName => "counter_name",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<SetupProblem>),
    #[error(transparent)]
    Hash(#[from] auth::HashError),
    #[error(transparent)]
    Save(#[from] settings::SettingsError),
}

/// What is wrong with a unit name, unit code and counter name (setup and the settings screen).
pub fn identity_problems(
    unit_name: &str,
    unit_code: &str,
    counter_name: &str,
) -> Vec<SetupProblem> {
    let mut problems = Vec::new();
    if unit_name.trim().is_empty() {
        problems.push(SetupProblem::UnitName);
    }
    let codes = unit_codes(unit_code);
    if codes.is_empty() || !codes.iter().all(|c| is_unit_code(c)) {
        problems.push(SetupProblem::UnitCode);
    }
    if counter_name.trim().is_empty() {
        problems.push(SetupProblem::CounterName);
    }
    problems
}

/// The unit identifiers typed in one field, separated by spaces or commas, in upper case: the
/// office's own first, then others whose dossiers it also handles.
pub fn unit_codes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(str::to_uppercase)
        .collect()
}

/// Letters, digits and dots, like `000.00.14.H56`.
pub fn is_unit_code(code: &str) -> bool {
    let code = code.trim();
    !code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

impl SetupForm {
    /// Every problem at once, so the screen can mark all fields.
    pub fn problems(&self) -> Vec<SetupProblem> {
        let mut problems = Vec::new();
        if Pin::parse(&self.admin_pin, ADMIN_PIN_MIN).is_err() {
            problems.push(SetupProblem::AdminPin);
        }
        problems.extend(identity_problems(
            &self.unit_name,
            &self.unit_code,
            &self.counter_name,
        ));
        problems
    }

    /// Validates, hashes the PIN and writes the settings; returns them. `now` names a damaged
    /// settings file that is moved aside.
    pub fn apply(&self, dir: &DataDir, now: DateTime<FixedOffset>) -> Result<Settings, SetupError> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(SetupError::Invalid(problems));
        }
        let pin = Pin::parse(&self.admin_pin, ADMIN_PIN_MIN)
            .map_err(|_| SetupError::Invalid(vec![SetupProblem::AdminPin]))?;
        let previous = match settings::load(dir, now)? {
            settings::Loaded::Ready(s) => Some(*s),
            _ => None,
        };
        let mut codes = unit_codes(&self.unit_code).into_iter();
        let unit_code = codes.next().unwrap_or_default();
        let extra: Vec<String> = codes.collect();
        let settings = Settings {
            extra_unit_codes: if extra.is_empty() {
                previous
                    .as_ref()
                    .map(|p| p.extra_unit_codes.clone())
                    .unwrap_or_default()
            } else {
                extra
            },
            device_id: previous
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |p| p.device_id.clone()),
            unit_name: self.unit_name.trim().to_owned(),
            unit_code,
            counter_name: self.counter_name.trim().to_owned(),
            lang: self.lang,
            scale: self.scale,
            admin_pin_hash: auth::hash_pin(&pin)?,
            ..previous.unwrap_or_default()
        };
        settings::save(dir, &settings)?;
        Ok(settings)
    }
}

/// Creates the database of a newly set-up data dir and loads the bundled procedure catalogue
/// if it has none; returns how many procedures were loaded (0 if it had its own).
pub fn create_store(dir: &DataDir) -> Result<usize, StoreError> {
    let mut store = Store::open(&dir.database())?;
    Ok(if catalogue::seed_if_empty(&mut store)? {
        store.procedure_count()?
    } else {
        0
    })
}
