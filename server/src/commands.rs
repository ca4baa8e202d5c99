//! The commands of `hailong-server`, as the binary runs them: the program's edge, where
//! errors become words for the person at the terminal (and exit codes, see [`exit_code`]). What
//! a command says goes to a [`Console`], so tests run the commands in-process.

use crate::cli::{
    Cli, Command, Database, NotifyCommand, ServeArgs, ServeLimits, TlsCommand, UpstreamCommand,
    UserCommand,
};
use crate::config::FileConfig;
use crate::db::{self, Db};
use crate::invitation;
use crate::pg::{Blocking, Pg};
use crate::serve::Config;
use crate::storage::Storage;
use crate::store::Store;
use crate::upstream::Upstream;
use crate::{backups, commune_ca, net, notify, secrets, tls};
use anyhow::Context;
use chrono::Utc;
use hailong_core::escape::Escaped;
use hailong_core::invite::Invite;
use hailong_core::period::{DateRange, ReportPeriod};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Where a command writes what it says, and reads a password from.
pub struct Console<'a> {
    pub out: &'a mut dyn Write,
    pub input: &'a mut dyn BufRead,
    /// Whether a person types the input (then they are asked for it on standard error).
    pub prompts: bool,
}

impl Console<'_> {
    fn prompt(&mut self, words: &str) {
        if self.prompts {
            eprint!("{words}");
        }
    }
}

/// Runs the command line on the process's standard output and input.
pub fn execute_on_terminal(cli: Cli) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let prompts = stdin.is_terminal();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    execute(
        cli,
        &mut Console {
            out: &mut out,
            input: &mut input,
            prompts,
        },
    )
}

/// The exit code for a command's error: 2 for input it refused (as for a bad option), 1 else.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<BadInput>().is_some() {
        2
    } else {
        1
    }
}

/// Input the command refuses (exit code 2, as for a bad option).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// The folder on this machine a command writes its data in (the database's, the certificates'),
/// whose owner it acts as when root runs it (see `owner`). Not for `backup` and `export`,
/// which only read it and write where root asks.
fn data_folder(command: &mut Command) -> Option<PathBuf> {
    let folder_of = |file: &Option<PathBuf>| {
        file.as_deref()
            .map(|f| f.parent().unwrap_or(Path::new("")).to_owned())
    };
    match command {
        Command::Serve(args) => folder_of(&args.database.db).or_else(|| args.files.clone()),
        Command::Restore { db, .. } => folder_of(db),
        Command::Tls {
            action: TlsCommand::Init { dir, .. },
        } => dir.clone(),
        Command::Backup { .. } | Command::Export { .. } => None,
        other => crate::config::database_of(other).and_then(|database| folder_of(&database.db)),
    }
}

/// Whether two paths name one file (the second need not exist).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Reads a secret someone else chose (a mail account's password) from standard input: its
/// first line, as it is.
fn read_secret(console: &mut Console, what: &str) -> anyhow::Result<String> {
    console.prompt(&format!("{what}: "));
    let mut line = String::new();
    console
        .input
        .read_line(&mut line)
        .with_context(|| format!("cannot read {what} from standard input"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() || secret.len() > secrets::PASSWORD_MAX {
        return Err(BadInput(format!(
            "{what}: between 1 and {} bytes on the first line of standard input",
            secrets::PASSWORD_MAX
        ))
        .into());
    }
    Ok(secret)
}

/// Reads a new password from standard input (its first line), checked for length.
fn read_password(console: &mut Console) -> anyhow::Result<String> {
    console.prompt(&format!(
        "password (at least {} characters): ",
        secrets::PASSWORD_MIN
    ));
    let mut line = String::new();
    console
        .input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.len() > secrets::PASSWORD_MAX {
        return Err(BadInput(format!(
            "the password must have at most {} bytes",
            secrets::PASSWORD_MAX
        ))
        .into());
    }
    if password.chars().count() < secrets::PASSWORD_MIN {
        return Err(BadInput(format!(
            "the password must have at least {} characters",
            secrets::PASSWORD_MIN
        ))
        .into());
    }
    Ok(password)
}

fn open(db: &Path) -> anyhow::Result<Db> {
    Db::open(db).with_context(|| format!("cannot open the database {}", db.display()))
}

/// A store opened for one command; a PostgreSQL one with the runtime its pool runs on
/// (dropped after the store).
struct Opened {
    store: Box<dyn Store>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl std::ops::Deref for Opened {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

impl std::ops::DerefMut for Opened {
    fn deref_mut(&mut self) -> &mut (dyn Store + 'static) {
        &mut *self.store
    }
}

/// Opens the SQLite file or connects to the PostgreSQL database a command names.
fn open_store(database: &Database) -> anyhow::Result<Opened> {
    match (&database.db, &database.database) {
        (Some(path), _) => Ok(Opened {
            store: Box::new(open(path)?),
            _runtime: None,
        }),
        (None, Some(url)) => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let pg = runtime
                .block_on(Pg::connect(url))
                .context("cannot use the PostgreSQL database")?;
            Ok(Opened {
                store: Box::new(Blocking::new(pg, runtime.handle().clone())),
                _runtime: Some(runtime),
            })
        }
        (None, None) => Err(no_database().into()),
    }
}

fn no_database() -> BadInput {
    BadInput(format!(
        "give --db FILE or --database URL, or set db or database in {}",
        crate::config::DEFAULT_PATH
    ))
}

/// The SQLite file of a command that works on one (`backup`, `restore`).
fn sqlite_file(db: Option<std::path::PathBuf>) -> Result<std::path::PathBuf, BadInput> {
    db.ok_or_else(|| {
        BadInput(format!(
            "give --db FILE, or set db in {}",
            crate::config::DEFAULT_PATH
        ))
    })
}

/// Where `serve` keeps its data, opened.
async fn serve_storage(args: &ServeArgs) -> anyhow::Result<Storage> {
    Ok(match (&args.database.db, &args.database.database) {
        (Some(path), _) => Storage::sqlite(path)?,
        (None, Some(url)) => {
            let files = args
                .files
                .clone()
                .unwrap_or_else(|| "hailong-server-files".into());
            Storage::postgres(url, &files).await?
        }
        (None, None) => return Err(no_database().into()),
    })
}

/// Runs one command line of `hailong-server`, what it leaves out taken from the configuration
/// file, writing what it says to `console`.
pub fn execute(cli: Cli, console: &mut Console) -> anyhow::Result<()> {
    let file = FileConfig::for_cli(&cli).map_err(|e| BadInput(e.to_string()))?;
    let mut command = cli.command;
    file.fill(&mut command);
    if let Some(folder) = data_folder(&mut command) {
        let became = crate::owner::act_as_owner_of(&folder)
            .with_context(|| format!("cannot act as the owner of {}", folder.display()))?;
        if let Some(became) = became {
            tracing::info!(uid = became.uid, folder = %became.of.display(), "running as the folder's owner");
        }
    }
    match command {
        Command::Serve(args) => {
            let config = serve_config(&args)?;
            let listen = args.listen.ok_or_else(|| {
                BadInput(format!(
                    "give --listen ADDRESS, or set listen in {}",
                    crate::config::DEFAULT_PATH
                ))
            })?;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async move {
                let storage = serve_storage(&args).await?;
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                crate::run(listener, storage, config, signalled()).await?;
                Ok(())
            })
        }
        Command::Pair {
            database,
            counter,
            commune,
            unit_code,
            ttl,
            address,
            ca,
        } => {
            let unit_code = match unit_code {
                Some(code) => Some(hailong_core::dossier::unit_code(&code).ok_or_else(|| {
                    BadInput(format!(
                        "{code:?} is not a unit code: the part a dossier code begins with, \
                         e.g. 000.17.22.H56 or H56.123.45"
                    ))
                })?),
                None => None,
            };
            let is_commune = commune.is_some();
            let label = commune.or(counter).unwrap_or_default();
            if label.trim().is_empty() || label.chars().count() > 100 {
                return Err(
                    BadInput(format!("{label:?} is not a name: 1 to 100 characters")).into(),
                );
            }
            // What the invitation needs is checked before a code is spent on it.
            let invited = match (&address, is_commune) {
                (Some(address), false) => {
                    let server = Invite::check_server(address).map_err(|e| {
                        BadInput(format!("{address:?} is not the server's address: {e}"))
                    })?;
                    let fingerprint = match &ca {
                        Some(path) => Some(
                            commune_ca::read_ca(path)
                                .map_err(|e| BadInput(e.to_string()))?
                                .1,
                        ),
                        None => None,
                    };
                    Some((server, fingerprint))
                }
                _ => None,
            };
            let code = open_store(&database)?.new_pairing_code(
                &label,
                unit_code.as_deref(),
                ttl,
                Utc::now(),
            )?;
            let what = match &unit_code {
                Some(unit) => format!("the commune {} ({unit})", label.trim()),
                None => label.trim().to_owned(),
            };
            writeln!(
                console.out,
                "pairing code for {what}, valid for {} h, single use:",
                ttl.as_secs() / 3600
            )?;
            // A tablet pairs in one step from an invitation; a commune's server takes the code.
            if let Some((server, fingerprint)) = invited {
                let invite = Invite::new(&server, &code, fingerprint)?;
                let text = invite.to_string();
                write!(
                    console.out,
                    "{}",
                    invitation::terminal(&text)
                        .context("the invitation is too long for a QR code")?
                )?;
                writeln!(
                    console.out,
                    "scan it at the counter (the tablet's server tab), or type it there:"
                )?;
                writeln!(console.out, "{text}")?;
                writeln!(console.out, "the code alone:")?;
            }
            writeln!(console.out, "{code}")?;
            Ok(())
        }
        Command::Tls {
            action:
                TlsCommand::Init {
                    dir,
                    names,
                    addresses,
                },
        } => {
            let dir = dir.ok_or_else(|| {
                BadInput(format!(
                    "give --dir DIR, or set [tls] cert in {}",
                    crate::config::DEFAULT_PATH
                ))
            })?;
            let names: Vec<String> = names
                .into_iter()
                .chain(addresses.iter().map(ToString::to_string))
                .collect();
            let made =
                commune_ca::init(&dir, &names, chrono::Local::now().date_naive()).map_err(|e| {
                    match e {
                        commune_ca::CaError::NoNames
                        | commune_ca::CaError::BadName(_)
                        | commune_ca::CaError::HalfThere(..) => {
                            anyhow::Error::from(BadInput(e.to_string()))
                        }
                        other => anyhow::Error::from(other),
                    }
                })?;
            let files = &made.files;
            if made.new_ca {
                writeln!(console.out, "made the commune CA: {}", files.ca.display())?;
                writeln!(
                    console.out,
                    "its key {} signs the server's certificates: keep it, and a copy of it \
                     with the backups",
                    files.ca_key.display()
                )?;
            } else {
                writeln!(
                    console.out,
                    "kept the commune CA {}: paired tablets go on trusting this server",
                    files.ca.display()
                )?;
            }
            writeln!(
                console.out,
                "server certificate for {} until {}: {} (key {})",
                names.join(", "),
                made.not_after,
                files.cert.display(),
                files.key.display()
            )?;
            writeln!(
                console.out,
                "restart the server to use it (systemctl restart hailong-server)"
            )?;
            writeln!(console.out, "CA fingerprint (SHA-256):")?;
            writeln!(console.out, "{}", made.fingerprint)?;
            Ok(())
        }
        Command::AdminToken { database, name } => {
            let token = open_store(&database)?.new_admin_token(&name, Utc::now())?;
            writeln!(console.out, "admin token for {name} (shown once):")?;
            writeln!(console.out, "{token}")?;
            Ok(())
        }
        Command::Devices { database } => {
            let devices = open_store(&database)?.devices()?;
            writeln!(
                console.out,
                "{:<36}  {:<20}  {:<20}  {:<25}  {:<25}  {:>8}  {:>10}  {:<7}  version",
                "device", "counter", "name", "paired", "last seen", "ratings", "skew (s)", "state"
            )?;
            for d in devices {
                // A device's name is what its tablet sent: escaped, it cannot forge a line.
                writeln!(
                    console.out,
                    "{:<36}  {:<20}  {:<20}  {:<25}  {:<25}  {:>8}  {:>10}  {:<7}  {}",
                    d.id,
                    Escaped(&d.counter).to_string(),
                    Escaped(&d.name).to_string(),
                    d.paired_at,
                    d.last_seen.as_deref().unwrap_or("never"),
                    d.ratings_received,
                    d.clock_skew_secs.map_or("-".into(), |s| s.to_string()),
                    if d.revoked { "revoked" } else { "active" },
                    d.app_version.as_deref().unwrap_or("-")
                )?;
            }
            Ok(())
        }
        Command::Revoke {
            database,
            device_id,
        } => {
            open_store(&database)?.revoke(&device_id)?;
            writeln!(console.out, "device {device_id} revoked")?;
            Ok(())
        }
        Command::User {
            action: UserCommand::Add { database, name },
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
                return Err(BadInput(format!(
                    "{name:?} is not a user name: 1 to 64 characters, no control characters"
                ))
                .into());
            }
            let password = read_password(console)?;
            let hash = secrets::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
            if open_store(&database)?.set_user(&name, &hash, Utc::now())? {
                writeln!(console.out, "user {name} added")?;
            } else {
                writeln!(
                    console.out,
                    "user {name} has a new password; their sessions have ended"
                )?;
            }
            Ok(())
        }
        Command::Backup { db, out } => {
            let db = sqlite_file(db)?;
            if same_file(&db, &out) {
                return Err(BadInput(format!(
                    "{} is the database itself: give the backup another name",
                    out.display()
                ))
                .into());
            }
            if !db.exists() {
                return Err(BadInput(format!("there is no database {}", db.display())).into());
            }
            let started = std::time::Instant::now();
            let made = db::Db::open_reader(&db)
                .and_then(|source| source.backup_to(&out))
                .with_context(|| format!("the backup to {} failed", out.display()))?;
            writeln!(
                console.out,
                "backed up {} ratings ({:.1} MB) to {} in {:.1} s; checked",
                made.ratings,
                made.bytes as f64 / 1e6,
                out.display(),
                started.elapsed().as_secs_f64()
            )?;
            Ok(())
        }
        Command::Restore { from, db, force } => {
            let db = sqlite_file(db)?;
            let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S").to_string();
            let done = db::restore(&from, &db, force, &stamp).map_err(|e| match e {
                db::RestoreError::BadBackup(..) | db::RestoreError::Exists(_) => {
                    anyhow::Error::from(BadInput(e.to_string()))
                }
                other => anyhow::Error::from(other),
            })?;
            writeln!(
                console.out,
                "restored {} ratings from {}",
                done.ratings,
                from.display()
            )?;
            if let Some(kept) = done.kept {
                writeln!(
                    console.out,
                    "the replaced database is kept as {}",
                    kept.display()
                )?;
            }
            writeln!(
                console.out,
                "ratings that came after the backup was made come back from the tablets at \
                 their next sync (an idle tablet checks in within 5 minutes)"
            )?;
            Ok(())
        }
        Command::Notify { action } => notify_command(action, console),
        Command::Upstream { action } => upstream_command(action, console),
        Command::Unit {
            database,
            name,
            superior,
            place,
            signers,
        } => {
            let mut store = open_store(&database)?;
            store.set_unit_name(&name)?;
            let mut letterhead = store.letterhead()?;
            let given = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            if let Some(superior) = superior {
                letterhead.superior = given(superior);
            }
            if let Some(place) = place {
                letterhead.place = given(place);
            }
            if !signers.is_empty() {
                letterhead.signers = signers.into_iter().filter_map(given).collect();
            }
            store.set_letterhead(&letterhead)?;
            writeln!(console.out, "reports are now headed {:?}", name.trim())?;
            Ok(())
        }
        Command::Export {
            database,
            format,
            out,
            period,
            from,
            to,
            lang,
        } => {
            let period = match period {
                Some(period) => period,
                None => {
                    let all = DateRange::all();
                    ReportPeriod::Range(DateRange::new(
                        from.unwrap_or(all.from),
                        to.unwrap_or(all.to),
                    )?)
                }
            };
            let store = open_store(&database)?;
            let heading = crate::store::report_heading(&*store, period)?;
            let source: &dyn hailong_report::Source = &*store;
            let report =
                hailong_report::export(source, heading, format, lang, &out, &mut |_, _| {})?;
            writeln!(
                console.out,
                "exported {} ({} ratings) to {}",
                period.code(),
                report.counts.total(),
                out.display()
            )?;
            Ok(())
        }
    }
}

/// `hailong-server upstream …`: pairing with the province, and how forwarding stands.
fn upstream_command(action: UpstreamCommand, console: &mut Console) -> anyhow::Result<()> {
    match action {
        UpstreamCommand::Pair {
            database,
            server,
            code,
            ca_file,
        } => {
            let mut store = open_store(&database)?;
            let unit = store.unit_name()?;
            if unit.trim().is_empty() {
                return Err(BadInput(
                    "name this unit first (hailong-server unit \"UBND xã …\"): the province \
                     sees it by that name"
                        .into(),
                )
                .into());
            }
            let ca_file = match ca_file {
                Some(path) => Some(
                    std::path::absolute(&path)
                        .context("cannot resolve the CA file's path")?
                        .display()
                        .to_string(),
                ),
                None => None,
            };
            let paired =
                crate::upstream::pair(&server, &code, &unit, ca_file.as_deref()).map_err(|e| {
                    match e {
                        crate::upstream::UpstreamError::Refused(..) => {
                            anyhow::Error::from(BadInput(e.to_string()))
                        }
                        other => anyhow::Error::from(other),
                    }
                })?;
            store.set_upstream(&paired)?;
            let waiting = store.outbox(0, 0)?.waiting;
            writeln!(
                console.out,
                "paired with {} as {}; {waiting} entries wait and go first, then each new one",
                paired.url, paired.device_id
            )?;
            Ok(())
        }
        UpstreamCommand::Show { database } => {
            let store = open_store(&database)?;
            let outbox = store.outbox(0, 0)?;
            let waiting = outbox.waiting;
            let last = outbox
                .last_sent
                .map_or("never".to_owned(), |t| t.to_rfc3339());
            match store.upstream()? {
                Some(Upstream {
                    url,
                    refused_at: Some(at),
                    ..
                }) => writeln!(
                    console.out,
                    "refused by {url} since {}: the province no longer takes this server's \
                     token; nothing is sent until it is paired again (hailong-server upstream \
                     pair); last sent: {last}; waiting: {waiting}",
                    at.to_rfc3339()
                )?,
                Some(upstream) => writeln!(
                    console.out,
                    "forwarding to {} as {}; last sent: {last}; waiting: {waiting}",
                    upstream.url, upstream.device_id
                )?,
                None => writeln!(
                    console.out,
                    "not paired with a province (hailong-server upstream pair); waiting: {waiting}"
                )?,
            }
            Ok(())
        }
    }
}

/// `hailong-server notify …`: checks a setting before keeping it.
fn notify_command(action: NotifyCommand, console: &mut Console) -> anyhow::Result<()> {
    use notify::settings::{Security, Settings, Smtp, Webhook};
    /// What a command changes in the settings, and what it says it did.
    type Change = Box<dyn FnOnce(&mut Settings) -> anyhow::Result<String>>;
    let (database, change): (&Database, Change) = match &action {
        NotifyCommand::Smtp {
            database,
            host,
            port,
            security,
            user,
            from,
            to,
            ca_file,
        } => {
            let password = match user {
                Some(_) => Some(read_secret(console, "the mail account's password")?),
                None => None,
            };
            let smtp = Smtp {
                host: host.trim().to_owned(),
                port: port.unwrap_or(match security {
                    Security::Tls => 465,
                    Security::Starttls => 587,
                    Security::None => 25,
                }),
                security: *security,
                username: user.clone(),
                password,
                from: from.trim().to_owned(),
                to: to.iter().map(|t| t.trim().to_owned()).collect(),
                // Kept whole: the running server reads it from wherever it runs.
                ca_file: match ca_file {
                    Some(path) => Some(
                        std::path::absolute(path)
                            .context("cannot resolve the CA file's path")?
                            .display()
                            .to_string(),
                    ),
                    None => None,
                },
            };
            smtp.check().map_err(|e| BadInput(e.to_string()))?;
            (
                database,
                Box::new(move |s: &mut Settings| {
                    let said = format!(
                        "alerts and reports go by mail through {}:{} to {}",
                        smtp.host,
                        smtp.port,
                        smtp.to.join(", ")
                    );
                    s.smtp = Some(smtp);
                    Ok(said)
                }),
            )
        }
        NotifyCommand::Webhook { database, url } => {
            let webhook = Webhook {
                url: url.trim().to_owned(),
            };
            webhook.check().map_err(|e| BadInput(e.to_string()))?;
            (
                database,
                Box::new(move |s: &mut Settings| {
                    let said = format!("alerts and reports are posted to {}", webhook.url);
                    s.webhook = Some(webhook);
                    Ok(said)
                }),
            )
        }
        NotifyCommand::Options {
            database,
            alerts,
            reports,
            lang,
        } => {
            let (alerts, reports, lang) = (*alerts, *reports, lang.clone());
            (
                database,
                Box::new(move |s: &mut Settings| {
                    s.alerts = alerts.unwrap_or(s.alerts);
                    s.reports = reports.unwrap_or(s.reports);
                    s.lang = lang.unwrap_or_else(|| s.lang.clone());
                    Ok(format!(
                        "alerts {}, reports {}, in {}",
                        if s.alerts { "on" } else { "off" },
                        if s.reports { "on" } else { "off" },
                        s.lang
                    ))
                }),
            )
        }
        NotifyCommand::Off { database, channel } => {
            let channel = channel.clone();
            (
                database,
                Box::new(move |s: &mut Settings| {
                    if channel != "webhook" {
                        s.smtp = None;
                    }
                    if channel != "smtp" {
                        s.webhook = None;
                    }
                    Ok(format!("nothing more is sent through {channel}"))
                }),
            )
        }
        NotifyCommand::Show { database } => {
            let store = open_store(database)?;
            let settings: Settings = store
                .notify_settings()?
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default();
            let mut shown = serde_json::to_value(&settings)?;
            if let Some(password) = shown.pointer_mut("/smtp/password")
                && !password.is_null()
            {
                *password = "(set)".into();
            }
            writeln!(console.out, "{}", serde_json::to_string_pretty(&shown)?)?;
            let state = store.queue_state()?;
            writeln!(
                console.out,
                "waiting: {}, sent: {}, last sent: {}",
                state.waiting,
                state.sent,
                state.last_sent_at.as_deref().unwrap_or("never")
            )?;
            if let Some((channel, attempts, error, retry)) = state.failing {
                writeln!(
                    console.out,
                    "failing ({channel}, {attempts} attempts, next at {retry}): {error}"
                )?;
            }
            return Ok(());
        }
        NotifyCommand::Test { database } => {
            let Opened { store, _runtime } = open_store(database)?;
            let mut notifier = notify::Notifier::new(store);
            let queued = notifier.queue_test(Utc::now())?;
            if queued == 0 {
                return Err(BadInput(
                    "no channel is set: hailong-server notify smtp or webhook first".into(),
                )
                .into());
            }
            writeln!(
                console.out,
                "a test message is queued on {queued} channel(s); the running server sends it within a minute"
            )?;
            return Ok(());
        }
    };
    let mut store = open_store(database)?;
    let mut settings: Settings = store
        .notify_settings()?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let said = change(&mut settings)?;
    store.set_notify_settings(&serde_json::to_string(&settings)?)?;
    writeln!(console.out, "{said}")?;
    Ok(())
}

/// How `serve` serves, from its options (the certificate read, the open-file limit raised).
pub fn serve_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    let ca = match &args.tls_ca {
        Some(path) => Some(
            commune_ca::read_ca(path)
                .map_err(|e| BadInput(e.to_string()))?
                .0
                .into(),
        ),
        None => None,
    };
    let every = match &args.backups.backup_every {
        Some(text) => crate::cli::parse_duration(text).map_err(BadInput)?,
        None => std::time::Duration::from_secs(24 * 3600),
    };
    let address = match &args.address {
        Some(address) => Some(
            Invite::check_server(address)
                .map_err(|e| BadInput(format!("{address:?} is not the server's address: {e}")))?
                .into(),
        ),
        None => None,
    };
    Ok(Config {
        tls,
        ca,
        address,
        limits: connection_limits(&args.limits),
        sign_in_window: args.limits.sign_in_window,
        backups: args
            .backups
            .backup_dir
            .clone()
            .map(|dir| backups::Schedule {
                dir,
                every,
                keep: usize::from(args.backups.backup_keep.unwrap_or(14)),
            }),
        ..Config::default()
    })
}

/// The connection limits from the options, with the open-file limit raised as far as the
/// system allows (and both logged).
fn connection_limits(options: &ServeLimits) -> net::Limits {
    let open_files = match net::raise_open_files() {
        Ok((before, now, hard)) => {
            tracing::info!(soft_before = before, soft = now, hard, "open-file limit");
            now
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit; assuming 1024");
            1024
        }
    };
    let mut limits = net::Limits::for_open_files(open_files);
    limits.header_read = options.header_timeout;
    limits.body_read = options.body_timeout;
    limits.tls_handshake = options.tls_handshake_timeout;
    if let Some(max) = options.max_connections {
        limits.max_connections = max.clamp(1, limits.max_connections);
    }
    limits
}

/// Ctrl-C or SIGTERM: stop taking connections, finish the answered requests.
async fn signalled() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
