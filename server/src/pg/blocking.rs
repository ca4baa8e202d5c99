//! PostgreSQL for code that runs on threads of its own and does not wait asynchronously:
//! the notifier, the report files (a `Source`), the command line. Each call waits on the
//! server's Tokio runtime, so it must not be made from one of that runtime's own threads
//! (use it on a plain thread or in `spawn_blocking`).

use super::notifications::{ENTRY_COLUMNS, entry};
use super::{Pg, PgError};
use futures_util::TryStreamExt;
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::report::{Entry, Group, sort_groups};
use hailong_report::{Source, SourceError};
use std::pin::pin;
use tokio::runtime::Handle;

/// A PostgreSQL database reached from a thread that waits.
#[derive(Clone)]
pub struct Blocking {
    pub(crate) pg: Pg,
    runtime: Handle,
}

impl Blocking {
    /// `pg`, reached through `runtime` (the one its pool's connections run on).
    pub fn new(pg: Pg, runtime: Handle) -> Blocking {
        Blocking { pg, runtime }
    }

    /// Waits for `work` on the runtime.
    pub fn wait<T>(&self, work: impl Future<Output = Result<T, PgError>>) -> Result<T, PgError> {
        self.runtime.block_on(work)
    }

    pub fn pg(&self) -> &Pg {
        &self.pg
    }
}

impl Source for Blocking {
    fn scale(&self) -> Result<Scale, SourceError> {
        Ok(if self.wait(self.pg.any_five_level())? {
            Scale::Five
        } else {
            Scale::Three
        })
    }

    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError> {
        let (from, to) = super::figures::bounds(range);
        let n: i64 = self.wait(async {
            let client = self.pg.pool.get().await?;
            let row = client
                .query_one(
                    "SELECT count(*) FROM ratings WHERE local_date BETWEEN $1 AND $2",
                    &[&from, &to],
                )
                .await?;
            Ok(row.get(0))
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Streams the entries: a year of a province is never held in memory.
    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError> {
        let (from, to) = super::figures::bounds(range);
        self.wait(async {
            let client = self.pg.pool.get().await?;
            let sql = format!(
                "SELECT {ENTRY_COLUMNS} FROM ratings r WHERE r.local_date BETWEEN $1 AND $2
                 ORDER BY r.local_date, r.created_at"
            );
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&from, &to];
            let mut rows = pin!(client.query_raw(&sql, params).await?);
            while let Some(row) = rows.try_next().await? {
                if !each(&entry(&row)) {
                    break;
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError> {
        Ok(self.wait(self.pg.misuse_by_month(range, None))?)
    }

    fn by_device(&self, range: DateRange) -> Result<Vec<Group>, SourceError> {
        let mut groups = self
            .wait(self.pg.totals(range.from, range.to, None))?
            .by_device;
        sort_groups(&mut groups);
        Ok(groups)
    }

    fn devices_are_communes(&self) -> Result<bool, SourceError> {
        Ok(self.wait(self.pg.any_commune())?)
    }
}
