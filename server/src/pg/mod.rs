//! The server's PostgreSQL backend, for a province (hundreds of communes, tens of millions
//! of ratings) or a commune whose IT staff already run PostgreSQL: a pool of connections
//! with timeouts, migrations applied in order and recorded in a version table, and the same
//! ingest rules as SQLite ([`crate::ingest`]), asked and written set-wide.

mod blocking;
mod devices;
mod figures;
mod notifications;
mod ratings;
mod schema;
mod settings;
#[cfg(test)]
mod tests;
mod tls;
mod upstream;
mod users;
mod writer;

pub use blocking::Blocking;
pub use writer::PgWriter;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::sync::Arc;
use std::time::Duration;

/// Connections in the pool: the writer's, and the dashboard's and exports' readers.
const POOL_SIZE: usize = 16;
/// How long connecting, or waiting for a free connection, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("the database address is not valid: {0}")]
    Url(String),
    #[error("cannot reach the database: {0}")]
    Pool(String),
    /// Said with its causes (the driver's own text leaves them out).
    #[error("database error: {}", described(.0))]
    Postgres(tokio_postgres::Error),
    #[error("no device {0}")]
    NoSuchDevice(String),
    #[error("the database was made by a newer version of this server (schema {0}, known {1})")]
    Newer(i32, usize),
}

/// An error and its causes, in one line.
fn described(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = c.source();
    }
    text
}

impl PgError {
    /// Whether a unique index refused a row.
    fn is_unique_violation(&self) -> bool {
        matches!(self, PgError::Postgres(e)
            if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION))
    }
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Postgres(e)
    }
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => PgError::Postgres(e),
            other => PgError::Pool(other.to_string()),
        }
    }
}

/// A PostgreSQL database, migrated and ready.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
    held_ids: Arc<crate::ingest::HeldIds>,
}

impl Pg {
    /// Connects to `url` (`postgres://user:password@host:port/database`, with
    /// `?sslmode=verify-full[&sslrootcert=CA.pem]` for TLS to a database on another machine),
    /// then creates or migrates the schema.
    pub async fn connect(url: &str) -> Result<Pg, PgError> {
        Pg::connect_upto(url, schema::migrations().len()).await
    }

    /// Connects to `url` and migrates the schema up to `version` (tests of a migration start
    /// from the schema before it).
    pub(crate) async fn connect_upto(url: &str, version: usize) -> Result<Pg, PgError> {
        let (mut config, tls) = tls::config_of(url)?;
        config
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives_idle(Duration::from_secs(60))
            .application_name("hailong-server");
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| PgError::Pool(e.to_string()))?;
        let pg = Pg {
            pool,
            held_ids: Arc::default(),
        };
        pg.migrate(version).await?;
        Ok(pg)
    }

    async fn migrate(&self, upto: usize) -> Result<(), PgError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // One migrator at a time, even with two servers starting together.
        tx.execute("SELECT pg_advisory_xact_lock(7243002)", &[])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
        let version: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        let migrations = schema::migrations();
        let known = migrations.len();
        if usize::try_from(version).unwrap_or(usize::MAX) > known {
            return Err(PgError::Newer(version, known));
        }
        let pending = migrations.iter().enumerate().take(upto);
        for (i, sql) in pending.skip(version as usize) {
            tx.batch_execute(sql).await?;
            let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&number],
            )
            .await?;
            tracing::info!(version = number, "database migrated");
        }
        tx.commit().await?;
        Ok(())
    }
}
