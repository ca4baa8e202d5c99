//! `hailong-server`: the commune server. Pairs tablets, takes their ratings in batches exactly
//! once, and answers the commune's summary. No GUI library anywhere in it.

mod api;
mod backups;
mod cli;
mod db;
mod exports;
mod limits;
mod net;
mod notify;
mod password_checks;
mod secrets;
mod tls;
mod web;
mod writer;

use anyhow::Context;
use api::AppState;
use chrono::Utc;
use clap::Parser;
use cli::{Cli, Command, NotifyCommand, ServeBackups, ServeLimits, UserCommand};
use db::Db;
use hailong_core::escape::Escaped;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::report::Heading;
use rustls::ServerConfig;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use writer::Writer;

/// Batches allocate many small strings on several threads; mimalloc handles that with less
/// work than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAILONG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    // The database, its WAL, backups and reports: nothing this program writes is for others.
    hailong_report::file::private_umask();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hailong-server: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Input the command refuses (exit code 2, as for a bad option).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Whether two paths name one file (the second need not exist).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Reads a secret someone else chose (a mail account's password) from standard input: its
/// first line, as it is.
fn read_secret(what: &str) -> anyhow::Result<String> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{what}: ");
    }
    let mut line = String::new();
    stdin
        .lock()
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
fn read_password() -> anyhow::Result<String> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (at least {} characters): ", secrets::PASSWORD_MIN);
    }
    let mut line = String::new();
    stdin
        .lock()
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

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            db,
            listen,
            tls_cert,
            tls_key,
            limits,
            backups,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(tls::server_config(&cert, &key)?),
                _ => None,
            };
            // Held for the server's life: a second server, or a restore, waits for it.
            let Some(lock) = db::lock(&db)
                .with_context(|| format!("cannot lock the database {}", db.display()))?
            else {
                anyhow::bail!("another server is running on {}", db.display());
            };
            let mut store = open(&db)?;
            store
                .checkpoint_in_background(&db)
                .context("cannot start the checkpoint thread")?;
            let served = serve(store, open(&db)?, &db, listen, tls, &limits, &backups);
            drop(lock);
            served
        }
        Command::Pair { db, counter, ttl } => {
            let code = open(&db)?.new_pairing_code(&counter, ttl, Utc::now())?;
            println!(
                "pairing code for {counter}, valid for {} h, single use:",
                ttl.as_secs() / 3600
            );
            println!("{code}");
            Ok(())
        }
        Command::AdminToken { db, name } => {
            let token = open(&db)?.new_admin_token(&name, Utc::now())?;
            println!("admin token for {name} (shown once):");
            println!("{token}");
            Ok(())
        }
        Command::Devices { db } => {
            println!(
                "{:<36}  {:<20}  {:<20}  {:<25}  {:<25}  {:>8}  {:>10}  state",
                "device", "counter", "name", "paired", "last seen", "ratings", "skew (s)"
            );
            for d in open(&db)?.devices()? {
                // A device's name is what its tablet sent: escaped, it cannot forge a line.
                println!(
                    "{:<36}  {:<20}  {:<20}  {:<25}  {:<25}  {:>8}  {:>10}  {}",
                    d.id,
                    Escaped(&d.counter).to_string(),
                    Escaped(&d.name).to_string(),
                    d.paired_at,
                    d.last_seen.as_deref().unwrap_or("never"),
                    d.ratings_received,
                    d.clock_skew_secs.map_or("-".into(), |s| s.to_string()),
                    if d.revoked { "revoked" } else { "active" }
                );
            }
            Ok(())
        }
        Command::Revoke { db, device_id } => {
            open(&db)?.revoke(&device_id)?;
            println!("device {device_id} revoked");
            Ok(())
        }
        Command::User {
            action: UserCommand::Add { db, name },
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
                return Err(BadInput(format!(
                    "{name:?} is not a user name: 1 to 64 characters, no control characters"
                ))
                .into());
            }
            let password = read_password()?;
            let hash = secrets::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
            if open(&db)?.set_user(&name, &hash, Utc::now())? {
                println!("user {name} added");
            } else {
                println!("user {name} has a new password; their sessions have ended");
            }
            Ok(())
        }
        Command::Backup { db, out } => {
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
            println!(
                "backed up {} ratings ({:.1} MB) to {} in {:.1} s; checked",
                made.ratings,
                made.bytes as f64 / 1e6,
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { from, db, force } => {
            let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S").to_string();
            let done = db::restore(&from, &db, force, &stamp).map_err(|e| match e {
                db::RestoreError::BadBackup(..) | db::RestoreError::Exists(_) => {
                    anyhow::Error::from(BadInput(e.to_string()))
                }
                other => anyhow::Error::from(other),
            })?;
            println!("restored {} ratings from {}", done.ratings, from.display());
            if let Some(kept) = done.kept {
                println!("the replaced database is kept as {}", kept.display());
            }
            println!(
                "ratings that came after the backup was made come back from the tablets at \
                 their next sync (an idle tablet checks in within 5 minutes)"
            );
            Ok(())
        }
        Command::Notify { action } => notify_command(action),
        Command::Unit {
            db,
            name,
            superior,
            place,
            signers,
        } => {
            let mut store = open(&db)?;
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
            println!("reports are now headed {:?}", name.trim());
            Ok(())
        }
        Command::Export {
            db,
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
            let store = open(&db)?;
            let heading = report_heading(&store, period)?;
            let report =
                hailong_report::export(&store, heading, format, lang, &out, &mut |_, _| {})?;
            println!(
                "exported {} ({} ratings) to {}",
                period.code(),
                report.counts.total(),
                out.display()
            );
            Ok(())
        }
    }
}

/// `hailong-server notify …`: checks a setting before keeping it.
fn notify_command(action: NotifyCommand) -> anyhow::Result<()> {
    use notify::settings::{Security, Settings, Smtp, Webhook};
    /// What a command changes in the settings, and what it says it did.
    type Change = Box<dyn FnOnce(&mut Settings) -> anyhow::Result<String>>;
    let (db, change): (&Path, Change) = match &action {
        NotifyCommand::Smtp {
            db,
            host,
            port,
            security,
            user,
            from,
            to,
            ca_file,
        } => {
            let password = match user {
                Some(_) => Some(read_secret("the mail account's password")?),
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
                db,
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
        NotifyCommand::Webhook { db, url } => {
            let webhook = Webhook {
                url: url.trim().to_owned(),
            };
            webhook.check().map_err(|e| BadInput(e.to_string()))?;
            (
                db,
                Box::new(move |s: &mut Settings| {
                    let said = format!("alerts and reports are posted to {}", webhook.url);
                    s.webhook = Some(webhook);
                    Ok(said)
                }),
            )
        }
        NotifyCommand::Options {
            db,
            alerts,
            reports,
            lang,
        } => {
            let (alerts, reports, lang) = (*alerts, *reports, lang.clone());
            (
                db,
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
        NotifyCommand::Off { db, channel } => {
            let channel = channel.clone();
            (
                db,
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
        NotifyCommand::Show { db } => {
            let store = open(db)?;
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
            println!("{}", serde_json::to_string_pretty(&shown)?);
            let state = store.queue_state()?;
            println!(
                "waiting: {}, sent: {}, last sent: {}",
                state.waiting,
                state.sent,
                state.last_sent_at.as_deref().unwrap_or("never")
            );
            if let Some((channel, attempts, error, retry)) = state.failing {
                println!("failing ({channel}, {attempts} attempts, next at {retry}): {error}");
            }
            return Ok(());
        }
        NotifyCommand::Test { db } => {
            let mut notifier = notify::Notifier::open(db)?;
            let queued = notifier.queue_test(Utc::now())?;
            if queued == 0 {
                return Err(BadInput(
                    "no channel is set: hailong-server notify smtp or webhook first".into(),
                )
                .into());
            }
            println!(
                "a test message is queued on {queued} channel(s); the running server sends it within a minute"
            );
            return Ok(());
        }
    };
    let mut store = open(db)?;
    let mut settings: Settings = store
        .notify_settings()?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let said = change(&mut settings)?;
    store.set_notify_settings(&serde_json::to_string(&settings)?)?;
    println!("{said}");
    Ok(())
}

/// The heading of a report made now on this server.
pub fn report_heading(db: &Db, period: ReportPeriod) -> Result<Heading, db::DbError> {
    Ok(Heading {
        unit: db.unit_name()?,
        period,
        made_at: chrono::Local::now().fixed_offset().to_rfc3339(),
        letterhead: db.letterhead()?,
    })
}

/// Serves the API with `db` as the writing connection and `reader` for reads.
fn serve(
    db: Db,
    reader: Db,
    db_path: &Path,
    listen: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
    options: &ServeLimits,
    backup_options: &ServeBackups,
) -> anyhow::Result<()> {
    if let Err(e) = hailong_report::file::make_database_private(db_path) {
        tracing::warn!(error = %e, "cannot make the database files private");
    }
    let exports = exports::folder(db_path);
    let leftovers = exports::prepare(&exports)
        .with_context(|| format!("cannot prepare the downloads folder {}", exports.display()))?;
    if leftovers > 0 {
        tracing::info!(
            files = leftovers,
            "removed unfinished downloads left by an earlier run"
        );
    }
    let limits = connection_limits(options);
    let schedule = backup_options
        .backup_dir
        .clone()
        .map(|dir| backups::Schedule {
            dir,
            every: backup_options.backup_every,
            keep: usize::from(backup_options.backup_keep),
        });
    // Dropped when serving ends: the backup thread then stops (after a backup under way).
    let backups =
        backups::Scheduled::start(db_path, schedule).context("cannot start the backup thread")?;
    // Dropped after the writer: alerts queued by the last batches are still sent.
    let notifications =
        notify::Notifications::start(db_path).context("cannot start the notifier thread")?;
    let committed = notifications.waker();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let db = Arc::new(Mutex::new(db));
        let state = Arc::new(AppState {
            writer: Writer::start(db.clone(), Some(committed))
                .context("cannot start the writer thread")?,
            db,
            reader: Mutex::new(reader),
            pair_limiter: limits::pairing(),
            sign_in_limits: limits::SignInLimits::new(options.sign_in_window),
            password_checks: password_checks::PasswordChecks::start(threads)
                .context("cannot start the password-check threads")?,
            db_path: db_path.to_owned(),
            exports,
            https: tls.is_some(),
            backups: backups.state.clone(),
        });
        let app = api::router(state);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%address, scheme, max_connections = limits.max_connections, "listening");
        net::serve(listener, app, tls, limits, shutdown()).await;
        drop(backups);
        drop(notifications);
        tracing::info!("stopped; the database is closed");
        Ok(())
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
async fn shutdown() {
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
