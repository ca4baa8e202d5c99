//! Synthetic but realistic ratings for training, demos and benchmarks (`hailong demo`).
//!
//! Office hours on weekdays, mostly satisfied citizens, reasons on negative levels, officers,
//! procedures from the sample catalogue, dossier codes of this unit, a few unrated dossiers,
//! repeats and misuse presses. Refuses a data dir that holds real ratings.

use crate::auth;
use crate::paths::DataDir;
use crate::settings::{self, Settings};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Weekday};
use hailong_core::level::{Level, Scale};
use hailong_core::pin::Pin;
use hailong_core::procedure::{Procedure, parse_catalogue};
use hailong_core::reason::Reason;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

const DEMO_OFFICERS: [&str; 4] = [
    "Nguyễn Thị Lan",
    "Trần Văn Hùng",
    "Lê Thị Mai",
    "Phạm Quốc Bảo",
];
/// PINs of the demo accounts, printed for trainers.
pub const DEMO_ADMIN_PIN: &str = "123456";
pub const DEMO_OFFICER_PIN: &str = "1234";

#[derive(Debug, Clone, Copy)]
pub struct DemoPlan {
    pub count: u64,
    pub days: u32,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "this data dir holds {0} real ratings; demo data goes only into an empty or demo data dir"
    )]
    RealData(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Hash(#[from] auth::HashError),
}

impl From<rusqlite::Error> for DemoError {
    fn from(e: rusqlite::Error) -> Self {
        DemoError::Store(e.into())
    }
}

/// What `demo` made, for the summary line it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub ratings: u64,
    pub created_settings: bool,
}

/// Fills `dir` with demo data ending at `now`.
pub fn fill(
    dir: &DataDir,
    plan: DemoPlan,
    now: DateTime<FixedOffset>,
) -> Result<DemoReport, DemoError> {
    dir.create().map_err(|source| settings::SettingsError::Io {
        path: dir.root().to_owned(),
        source,
    })?;
    let mut store = Store::open(&dir.database())?;
    let existing = store.rating_count()?;
    if existing > 0 && !store.is_demo()? {
        return Err(DemoError::RealData(existing));
    }
    let (settings, created_settings) = match settings::load(dir, now)? {
        settings::Loaded::Ready(s) => (*s, false),
        _ => {
            let s = demo_settings()?;
            settings::save(dir, &s)?;
            (s, true)
        }
    };
    store.mark_demo()?;
    let catalogue = parse_catalogue(crate::catalogue::BUNDLED).unwrap_or_default();
    if store.procedure_count()? == 0 {
        store.replace_procedures(&catalogue)?;
    }
    let officers = demo_officers(&mut store, now)?;
    insert_ratings(&mut store, &settings, &catalogue, &officers, plan, now)?;
    Ok(DemoReport {
        ratings: plan.count,
        created_settings,
    })
}

fn demo_settings() -> Result<Settings, DemoError> {
    let pin = Pin::parse(DEMO_ADMIN_PIN, 6).map_err(auth::HashError::from_display)?;
    Ok(Settings {
        device_id: uuid::Uuid::now_v7().to_string(),
        unit_name: "UBND xã Hòa Bình (dữ liệu mẫu)".into(),
        unit_code: "000.00.14.H56".into(),
        counter_name: "Quầy 1".into(),
        admin_pin_hash: auth::hash_pin(&pin)?,
        ..Settings::default()
    })
}

fn demo_officers(
    store: &mut Store,
    now: DateTime<FixedOffset>,
) -> Result<Vec<(i64, String)>, DemoError> {
    let existing = store.officers()?;
    if !existing.is_empty() {
        return Ok(existing.into_iter().map(|o| (o.id, o.name)).collect());
    }
    let pin = Pin::parse(DEMO_OFFICER_PIN, 4).map_err(auth::HashError::from_display)?;
    let hash = auth::hash_pin(&pin)?;
    DEMO_OFFICERS
        .iter()
        .map(|name| Ok((store.add_officer(name, &hash, now)?, (*name).to_owned())))
        .collect()
}

fn insert_ratings(
    store: &mut Store,
    settings: &Settings,
    catalogue: &[Procedure],
    officers: &[(i64, String)],
    plan: DemoPlan,
    now: DateTime<FixedOffset>,
) -> Result<(), DemoError> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let days: Vec<_> = (0..plan.days.max(1))
        .map(|back| now.date_naive() - Duration::days(i64::from(back)))
        .filter(|d| !matches!(d.weekday(), Weekday::Sun))
        .collect();
    let days = if days.is_empty() {
        vec![now.date_naive()]
    } else {
        days
    };
    let offset = *now.offset();
    let mut per_day_seq = vec![0u32; days.len()];
    let mut last_rated: Option<String> = None;
    // Timestamps rise with the sequence: spread the ratings over the days in order.
    store.bulk_load(|tx| -> Result<(), DemoError> {
        let mut insert = tx.prepare(
            "INSERT INTO ratings (id, recorded_at, local_date, outcome, reasons, dossier, procedure_code,
                 procedure_name, field_code, field_name, officer_id, officer_name, repeat_dossier, finished,
                 scale, counter)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14, ?15)",
        )?;
        let mut misuse = tx.prepare("INSERT INTO misuse (id, recorded_at, local_date) VALUES (?1, ?2, ?3)")?;
        for i in 0..plan.count {
            // Oldest day first, so seq and time rise together.
            let day_index = days.len() - 1 - (i * days.len() as u64 / plan.count.max(1)) as usize;
            let day = days[day_index];
            per_day_seq[day_index] += 1;
            let minute = 450 + rng.random_range(0..570u32); // 07:30..17:00
            let time = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60 + rng.random_range(0..60), 0)
                .unwrap_or_default();
            let at = day.and_time(time).and_local_timezone(offset).single().unwrap_or(now).min(now);
            let procedure = &catalogue[rng.random_range(0..catalogue.len())];
            let officer = &officers[rng.random_range(0..officers.len())];
            let armed = rng.random_bool(0.85);
            let outcome = if armed && rng.random_bool(0.04) { None } else { Some(pick_level(&mut rng, settings.scale)) };
            let reasons = outcome.filter(|l| l.is_negative()).map(|_| pick_reasons(&mut rng)).unwrap_or_default();
            // A repeat rates again a dossier already rated here, as a real one would.
            let repeat = armed && outcome.is_some() && last_rated.is_some() && rng.random_bool(0.005);
            let dossier = if repeat {
                last_rated.clone()
            } else {
                armed.then(|| {
                    format!("{}-{}-{:04}", settings.unit_code, day.format("%y%m%d"), (per_day_seq[day_index] - 1) % 99_999 + 1)
                })
            };
            if outcome.is_some() && !repeat && dossier.is_some() {
                last_rated.clone_from(&dossier);
            }
            insert.execute(params![
                uuid::Uuid::now_v7().to_string(),
                at.to_rfc3339(),
                day.to_string(),
                outcome.map_or("not_rated", Level::code),
                reasons,
                dossier,
                armed.then_some(&procedure.code),
                armed.then_some(&procedure.name),
                armed.then_some(&procedure.field_code),
                armed.then_some(&procedure.field_name),
                armed.then_some(officer.0),
                armed.then_some(&officer.1),
                repeat,
                settings.scale.number(),
                settings.counter_name,
            ])?;
            if rng.random_bool(0.01) {
                misuse.execute(params![uuid::Uuid::now_v7().to_string(), at.to_rfc3339(), day.to_string()])?;
            }
        }
        Ok(())
    })
}

fn pick_level(rng: &mut StdRng, scale: Scale) -> Level {
    let weights: &[(Level, u32)] = match scale {
        Scale::Three => &[
            (Level::VerySatisfied, 68),
            (Level::Satisfied, 24),
            (Level::Unsatisfied, 8),
        ],
        Scale::Five => &[
            (Level::VerySatisfied, 55),
            (Level::Satisfied, 25),
            (Level::Neutral, 12),
            (Level::Unsatisfied, 6),
            (Level::VeryUnsatisfied, 2),
        ],
    };
    let mut roll = rng.random_range(0..weights.iter().map(|w| w.1).sum::<u32>());
    for &(level, weight) in weights {
        if roll < weight {
            return level;
        }
        roll -= weight;
    }
    weights[0].0
}

fn pick_reasons(rng: &mut StdRng) -> String {
    let picked: Vec<Reason> = Reason::CHOICES
        .into_iter()
        .filter(|_| rng.random_bool(0.22))
        .collect();
    if picked.is_empty() {
        Reason::join(&[Reason::CHOICES[rng.random_range(0..Reason::CHOICES.len())]])
    } else {
        Reason::join(&picked)
    }
}
