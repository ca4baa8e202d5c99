//! `hailong-server`: the commune server. Pairs tablets, takes their ratings in batches exactly
//! once, and answers the commune's summary. No GUI library anywhere in it.

mod api;
mod cli;
mod db;
mod limits;
mod secrets;
mod tls;
mod web;
mod writer;

use anyhow::Context;
use api::AppState;
use axum_server::tls_rustls::RustlsConfig;
use chrono::Utc;
use clap::Parser;
use cli::{Cli, Command, UserCommand};
use db::Db;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::report::Heading;
use rustls::ServerConfig;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(tls::server_config(&cert, &key)?),
                _ => None,
            };
            let mut store = open(&db)?;
            store
                .checkpoint_in_background(&db)
                .context("cannot start the checkpoint thread")?;
            serve(store, open(&db)?, &db, listen, tls)
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
                println!(
                    "{:<36}  {:<20}  {:<20}  {:<25}  {:<25}  {:>8}  {:>10}  {}",
                    d.id,
                    d.counter,
                    d.name,
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
        Command::Unit { db, name } => {
            open(&db)?.set_unit_name(&name)?;
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

/// The heading of a report made now on this server.
pub fn report_heading(db: &Db, period: ReportPeriod) -> Result<Heading, db::DbError> {
    Ok(Heading {
        unit: db.unit_name()?,
        period,
        made_at: chrono::Local::now().fixed_offset().to_rfc3339(),
    })
}

/// How long a graceful stop waits for requests under way over HTTPS.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves the API with `db` as the writing connection and `reader` for reads.
fn serve(
    db: Db,
    reader: Db,
    db_path: &Path,
    listen: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let db = Arc::new(Mutex::new(db));
        let state = Arc::new(AppState {
            writer: Writer::start(db.clone()).context("cannot start the writer thread")?,
            db,
            reader: Mutex::new(reader),
            pair_limiter: limits::FailureLimiter::pairing(),
            sign_in_limiter: limits::FailureLimiter::sign_in(),
            db_path: db_path.to_owned(),
            https: tls.is_some(),
        });
        let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        match tls {
            None => {
                tracing::info!(%address, scheme = "http", "listening");
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown())
                    .await
            }
            Some(config) => {
                tracing::info!(%address, scheme = "https", "listening");
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown().await;
                    stopper.graceful_shutdown(Some(DRAIN));
                });
                axum_server::from_tcp_rustls(
                    listener.into_std()?,
                    RustlsConfig::from_config(config),
                )?
                .handle(handle)
                .serve(app)
                .await
            }
        }
        .context("the server stopped")?;
        tracing::info!("stopped; the database is closed");
        Ok(())
    })
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
