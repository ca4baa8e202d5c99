//! The non-kiosk subcommands: setup, officer, catalogue, summary, export, demo. Errors carry
//! their exit code:
//! 2 for bad input (arguments, paths, an unset data dir), 1 for everything else.

/// `println!` for a command's answer: a closed pipe ends the command quietly (see `stdout`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}

use crate::auth;
use crate::catalogue;
use crate::cli::{
    CatalogueCommand, DemoArgs, ExportArgs, OfficerCommand, PairArgs, PeriodArgs, SetupArgs,
    SummaryArgs, SyncArgs,
};
use crate::clock::{Clock, SystemClock};
use crate::demo::{self, DemoPlan};
use crate::export;
use crate::paths::DataDir;
use crate::settings::{self, Settings};
use crate::setup::{SetupError, SetupForm};
use crate::store::{Store, StoreError};
use crate::sync::{self, Link, PairRequest, SyncError};
use anyhow::{Context, anyhow};
use hailong_core::invite::Invite;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::pin::{OFFICER_PIN_MIN, Pin};
use hailong_core::summary::format_tenths;
use hailong_report::ExportError;
use std::path::PathBuf;

/// A failed command: what to print and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub exit_code: u8,
}

impl Failure {
    pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            error: error.into(),
            exit_code: 2,
        }
    }

    pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            error: error.into(),
            exit_code: 1,
        }
    }
}

type Outcome = Result<(), Failure>;

pub fn data_dir(given: Option<PathBuf>) -> Result<DataDir, Failure> {
    DataDir::resolve(given)
        .ok_or_else(|| Failure::usage(anyhow!("no data directory: pass --data-dir")))
}

/// The first line of standard input: a PIN kept out of the command line. `prompt` is shown
/// only when a person types it.
fn read_secret(prompt: &str) -> Result<String, Failure> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt}");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        Failure::usage(anyhow!(e).context("cannot read the PIN from standard input"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn setup(dir: Option<PathBuf>, args: SetupArgs) -> Outcome {
    let dir = data_dir(dir)?;
    let admin_pin = match args.admin_pin {
        Some(pin) => {
            tracing::warn!(
                "--admin-pin is visible to other users of this machine (ps, shell history); \
                 leave it out to type the PIN on standard input"
            );
            pin
        }
        None => read_secret("administrator PIN (6 digits or more): ")?,
    };
    let form = SetupForm {
        admin_pin,
        unit_name: args.unit_name,
        unit_code: args.unit_code,
        counter_name: args.counter,
        lang: args.lang,
        scale: args.scale,
    };
    let settings = form.apply(&dir, SystemClock.now()).map_err(|e| match e {
        SetupError::Invalid(_) | SetupError::Save(_) => Failure::usage(e),
        other => Failure::runtime(other),
    })?;
    let loaded = crate::setup::create_store(&dir).map_err(|e| {
        Failure::usage(anyhow!(e).context(format!(
            "cannot create the database in {}",
            dir.root().display()
        )))
    })?;
    if loaded > 0 {
        say!("loaded the bundled procedure catalogue ({loaded} procedures)");
    }
    say!(
        "set up {} ({}), counter {}, in {}",
        settings.unit_name,
        settings.unit_code,
        settings.counter_name,
        dir.root().display()
    );
    Ok(())
}

pub fn officer(dir: Option<PathBuf>, command: OfficerCommand) -> Outcome {
    let (_, mut store) = open_existing(&data_dir(dir)?)?;
    let now = SystemClock.now();
    let not_found = |e: StoreError| match e {
        StoreError::NoSuchOfficer(_) => Failure::usage(e),
        other => Failure::runtime(other),
    };
    match command {
        OfficerCommand::Add { name } => {
            let name = name.trim();
            if name.is_empty() {
                return Err(Failure::usage(anyhow!("the officer's name is empty")));
            }
            let hash = pin_hash_from_stdin()?;
            let id = store
                .add_officer(name, &hash, now)
                .map_err(Failure::runtime)?;
            say!("added officer {id}: {name}");
        }
        OfficerCommand::List => {
            for officer in store.officers().map_err(Failure::runtime)? {
                say!("{:>4}  {}", officer.id, officer.name);
            }
        }
        OfficerCommand::Remove { id } => {
            store.remove_officer(id).map_err(not_found)?;
            say!("officer {id} can no longer sign in");
        }
        OfficerCommand::ResetPin { id } => {
            store.officer(id).map_err(not_found)?;
            let hash = pin_hash_from_stdin()?;
            store.set_officer_pin(id, &hash).map_err(not_found)?;
            say!("officer {id} has a new PIN");
        }
    }
    Ok(())
}

/// Reads an officer PIN from the first line of standard input (never from the arguments,
/// which other users of the machine can see) and hashes it.
fn pin_hash_from_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        Failure::usage(anyhow!(e).context("cannot read the PIN from standard input"))
    })?;
    let pin = Pin::parse(line.trim(), OFFICER_PIN_MIN)
        .map_err(|e| Failure::usage(anyhow!("the PIN on standard input is not valid: {e}")))?;
    auth::hash_pin(&pin).map_err(Failure::runtime)
}

pub fn catalogue(dir: Option<PathBuf>, command: CatalogueCommand) -> Outcome {
    let (_, mut store) = open_existing(&data_dir(dir)?)?;
    match command {
        CatalogueCommand::Import { file } => {
            let n = catalogue::import(&mut store, &file).map_err(|e| match e {
                catalogue::ImportError::Store(_) => Failure::runtime(e),
                other => Failure::usage(other),
            })?;
            say!("imported {n} procedures from {}", file.display());
        }
    }
    Ok(())
}

/// Runs `work` on the sender's runtime (the command line's network calls).
fn block_on<T>(work: impl std::future::Future<Output = T>) -> Result<T, Failure> {
    let runtime = sync::runtime().map_err(Failure::runtime)?;
    Ok(runtime.block_on(work))
}

fn sync_failure(e: SyncError) -> Failure {
    match e {
        SyncError::NotPaired
        | SyncError::BadAddress(_)
        | SyncError::BadCa { .. }
        | SyncError::BadInvite(_) => Failure::usage(e),
        other => Failure::runtime(other),
    }
}

pub fn pair(dir: Option<PathBuf>, args: PairArgs) -> Outcome {
    let dir = data_dir(dir)?;
    let (settings, _) = open_existing(&dir)?;
    let request = match args.invite {
        Some(text) => PairRequest::from_invite(
            text.parse::<Invite>()
                .map_err(|e| sync_failure(SyncError::BadInvite(e)))?,
        ),
        None => PairRequest {
            server: args.server.unwrap_or_default(),
            code: args.code.unwrap_or_default(),
            ca_file: args.ca_file,
            ca: None,
        },
    };
    let link = block_on(sync::pair(&dir, &settings, &request))?.map_err(sync_failure)?;
    if link.ca_pem.is_some() {
        say!("the commune's CA is pinned: this tablet trusts no other for its server");
    }
    say!("paired with {} as device {}", link.server, link.device_id);
    if link.is_plain_http() {
        eprintln!(
            "warning: plain HTTP: ratings and the device token cross the network unencrypted"
        );
    }
    Ok(())
}

pub fn sync(dir: Option<PathBuf>, _args: SyncArgs) -> Outcome {
    let dir = data_dir(dir)?;
    let (settings, mut store) = open_existing(&dir)?;
    let link = Link::load(&dir)
        .map_err(Failure::runtime)?
        .ok_or_else(|| sync_failure(SyncError::NotPaired))?;
    let outcome = block_on(sync::send_all(&mut store, &settings, &link, true))?;
    let counts = store.outbox_counts().map_err(Failure::runtime)?;
    match outcome {
        Ok(sent) => {
            say!(
                "sent {} ratings to {} ({} rejected by the server); {} waiting",
                sent.delivered,
                link.server,
                sent.rejected,
                counts.queued
            );
            if counts.queued > 0 {
                return Err(Failure::runtime(anyhow!(
                    "{} ratings still wait to be sent",
                    counts.queued
                )));
            }
            Ok(())
        }
        Err(e) => Err(Failure::runtime(anyhow!(
            "{e}; {} ratings still wait to be sent",
            counts.queued
        ))),
    }
}

/// Opens an existing, set-up data dir for reading.
fn open_existing(dir: &DataDir) -> Result<(Settings, Store), Failure> {
    let settings = match settings::load(dir, SystemClock.now()).map_err(Failure::runtime)? {
        settings::Loaded::Ready(s) => *s,
        settings::Loaded::Missing => {
            return Err(Failure::usage(anyhow!(
                "{} is not set up: run `hailong setup` or the kiosk first",
                dir.root().display()
            )));
        }
        settings::Loaded::Damaged { moved_to } => {
            return Err(Failure::runtime(anyhow!(
                "the settings were damaged and moved to {}; set up again",
                moved_to.display()
            )));
        }
    };
    let store = Store::open(&dir.database())
        .with_context(|| format!("cannot open {}", dir.database().display()))
        .map_err(Failure::runtime)?;
    Ok((settings, store))
}

fn range(period: &PeriodArgs) -> Result<DateRange, Failure> {
    let all = DateRange::all();
    DateRange::new(period.from.unwrap_or(all.from), period.to.unwrap_or(all.to))
        .map_err(Failure::usage)
}

pub fn summary(dir: Option<PathBuf>, args: SummaryArgs) -> Outcome {
    let range = range(&args.period)?;
    let (settings, store) = open_existing(&data_dir(dir)?)?;
    let counts = store.summary(range).map_err(Failure::runtime)?;
    let levels = settings.scale.levels();
    if args.json {
        let json = hailong_core::report::counts_json(&counts, settings.scale);
        say!("{}", serde_json::Value::Object(json));
        return Ok(());
    }
    let shares = counts.shares_tenths(settings.scale).unwrap_or_default();
    say!(
        "{} ({}), {}",
        settings.unit_name,
        settings.unit_code,
        settings.counter_name
    );
    say!("{:<18} {:>10} {:>7}", "level", "count", "%");
    for &level in levels {
        let share = shares
            .iter()
            .find(|(l, _)| *l == level)
            .map_or("-".to_owned(), |(_, t)| format_tenths(*t));
        say!(
            "{:<18} {:>10} {:>7}",
            level.code(),
            counts.count(level),
            share
        );
    }
    say!("{:<18} {:>10}", "total", counts.total());
    say!(
        "{:<18} {:>10}",
        "satisfied_pct",
        counts
            .satisfied_tenths()
            .map_or("-".to_owned(), format_tenths)
    );
    say!("{:<18} {:>10}", "unrated", counts.unrated);
    say!("{:<18} {:>10}", "repeat_dossier", counts.repeat_dossier);
    say!("{:<18} {:>10}", "misuse", counts.misuse);
    Ok(())
}

pub fn export(dir: Option<PathBuf>, args: ExportArgs) -> Outcome {
    let period = match args.period {
        Some(period) => period,
        None => ReportPeriod::Range(range(&args.range)?),
    };
    let (settings, store) = open_existing(&data_dir(dir)?)?;
    let source = export::TabletSource {
        store: &store,
        settings: &settings,
    };
    let heading = export::heading(&settings, period, SystemClock.now());
    let report = hailong_report::export(
        &source,
        heading,
        args.format,
        args.lang,
        &args.out,
        &mut |_, _| {},
    )
    .map_err(|e| match e {
        ExportError::Write { .. } | ExportError::TooManyRows(_) => Failure::usage(e),
        other => Failure::runtime(other),
    })?;
    say!(
        "exported {} ({} ratings) to {}",
        report.heading.period.code(),
        report.counts.total(),
        args.out.display()
    );
    Ok(())
}

pub fn demo(dir: Option<PathBuf>, args: DemoArgs) -> Outcome {
    let dir = data_dir(dir)?;
    let plan = DemoPlan {
        count: args.count,
        days: args.days,
        seed: args.seed,
    };
    let report = demo::fill(&dir, plan, SystemClock.now()).map_err(|e| match e {
        demo::DemoError::RealData(_) | demo::DemoError::Settings(_) => Failure::usage(e),
        other => Failure::runtime(other),
    })?;
    say!(
        "added {} demo ratings to {}",
        report.ratings,
        dir.root().display()
    );
    if report.created_settings {
        say!(
            "demo settings: administrator PIN {}, officer PIN {}",
            demo::DEMO_ADMIN_PIN,
            demo::DEMO_OFFICER_PIN
        );
    }
    Ok(())
}
