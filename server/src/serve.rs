//! Serving: [`run`] puts the API, the dashboard and the background work (the writer's group
//! commits, checkpoints, scheduled backups, alerts and reports) on a listener it is given, and
//! returns once `shutdown` has resolved and all of it has stopped. It binds nothing and reads
//! no signal: the binary does that, and tests run it in-process on port 0.

use crate::limits::{self, SignInLimits};
use crate::net::{self, Limits};
use crate::password_checks::PasswordChecks;
use crate::pg::{Blocking, PgWriter};
use crate::state::{AppState, Backend};
use crate::storage::{PostgresStorage, SqliteStorage, Storage};
use crate::writer::Writer;
use crate::{app, backups, exports, notify, upstream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How a server serves: everything but where it listens and what it stores.
#[derive(Clone)]
pub struct Config {
    /// HTTPS with this certificate; plain HTTP without.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The commune CA's certificate (PEM) that signed it, if `tls init` made it: served at
    /// `/api/v1/ca.pem` to tablets that pair with its fingerprint.
    pub ca: Option<Arc<str>>,
    /// The address tablets reach this server at, for the dashboard's pairing invitations.
    pub address: Option<Arc<str>>,
    pub limits: Limits,
    /// How long a user name or an address waits after its failed sign-ins.
    pub sign_in_window: Duration,
    /// Scheduled backups; none without.
    pub backups: Option<backups::Schedule>,
    /// Threads that check passwords (argon2), each bounded by a queue.
    pub password_threads: usize,
}

impl Default for Config {
    /// Plain HTTP, a commune's limits for 1,024 open files, sign-in waits of 15 minutes, no
    /// backups.
    fn default() -> Config {
        Config {
            tls: None,
            ca: None,
            address: None,
            limits: Limits::for_open_files(1024),
            sign_in_window: Duration::from_secs(15 * 60),
            backups: None,
            password_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot prepare the downloads folder {0}: {1}")]
    Downloads(PathBuf, std::io::Error),
    #[error("cannot start the {0} thread: {1}")]
    Thread(&'static str, String),
    #[error("cannot read the listener's address: {0}")]
    Listener(std::io::Error),
    #[error(
        "scheduled backups copy a SQLite file; back a PostgreSQL database up with its own tools (pg_dump, base backups)"
    )]
    BackupsOnPostgres,
}

/// Serves `storage` on `listener` until `shutdown` resolves, then stops taking connections,
/// lets the requests under way finish, commits what the writer holds and stops every thread.
pub async fn run(
    listener: TcpListener,
    storage: Storage,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let downloads = match &storage {
        Storage::Sqlite(s) => exports::folder(&s.path),
        Storage::Postgres(p) => p.files.join("exports"),
    };
    let leftovers =
        exports::prepare(&downloads).map_err(|e| ServeError::Downloads(downloads.clone(), e))?;
    if leftovers > 0 {
        tracing::info!(
            files = leftovers,
            "removed unfinished downloads left by an earlier run"
        );
    }
    let thread =
        |name: &'static str| move |e: std::io::Error| ServeError::Thread(name, e.to_string());
    let notifier_failed = |e: crate::db::DbError| ServeError::Thread("notifier", e.to_string());
    // Dropped when serving ends: the backup thread then stops (after a backup under way).
    // Dropped after the writer: alerts queued by the last batches are still sent. The lock
    // of a SQLite database is dropped last.
    let (backend, backups, notifications, forwarder, lock) = match storage {
        Storage::Sqlite(SqliteStorage {
            path,
            writer,
            reader,
            lock,
        }) => {
            let backups =
                backups::Scheduled::start(&path, config.backups).map_err(thread("backup"))?;
            let notifier = notify::Notifier::open(&path).map_err(notifier_failed)?;
            let notifications = notify::Notifications::start(notifier).map_err(notifier_failed)?;
            // The forwarder on a connection of its own, as the notifier.
            let forwarder = upstream::Forwarder::start(Box::new(
                crate::db::Db::open(&path)
                    .map_err(|e| ServeError::Thread("upstream", e.to_string()))?,
            ))
            .map_err(thread("upstream"))?;
            let committed = vec![notifications.waker(), forwarder.waker()];
            let db = Arc::new(Mutex::new(writer));
            let backend = Backend::Sqlite {
                writer: Writer::start(db.clone(), committed).map_err(thread("writer"))?,
                db,
                reader: Mutex::new(reader),
                path,
            };
            (backend, Some(backups), notifications, forwarder, Some(lock))
        }
        Storage::Postgres(PostgresStorage { pg, .. }) => {
            if config.backups.is_some() {
                return Err(ServeError::BackupsOnPostgres);
            }
            let blocking = Blocking::new(pg.clone(), tokio::runtime::Handle::current());
            let notifier = notify::Notifier::new(Box::new(blocking.clone()));
            let notifications = notify::Notifications::start(notifier).map_err(notifier_failed)?;
            let forwarder = upstream::Forwarder::start(Box::new(blocking.clone()))
                .map_err(thread("upstream"))?;
            let committed = vec![notifications.waker(), forwarder.waker()];
            let backend = Backend::Postgres {
                pg: blocking,
                writer: PgWriter::start(pg, committed),
            };
            (backend, None, notifications, forwarder, None)
        }
    };
    let backup_state = match &backups {
        Some(b) => b.state.clone(),
        None => Arc::new(Mutex::new(backups::BackupState {
            database_server: true,
            ..Default::default()
        })),
    };
    let state = Arc::new(AppState {
        backend,
        pair_limiter: limits::pairing(),
        sign_in_limits: SignInLimits::new(config.sign_in_window),
        password_checks: PasswordChecks::start(config.password_threads)
            .map_err(thread("password-check"))?,
        exports: downloads,
        https: config.tls.is_some(),
        ca: config.ca.clone(),
        address: config.address.clone(),
        backups: backup_state,
        upstream: forwarder.link.clone(),
        turns: crate::turns::Turns::default(),
    });
    let address = listener.local_addr().map_err(ServeError::Listener)?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, scheme, max_connections = config.limits.max_connections, "listening");
    net::serve(
        listener,
        app::router(state),
        config.tls,
        config.limits,
        shutdown,
    )
    .await;
    // Joining the threads waits for a backup or a send under way: off the async threads.
    let _ = tokio::task::spawn_blocking(move || {
        drop(backups);
        drop(forwarder);
        drop(notifications);
        drop(lock);
    })
    .await;
    tracing::info!("stopped; the database is closed");
    Ok(())
}
