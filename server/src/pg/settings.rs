//! The server's own settings on PostgreSQL: the unit's name and the letterhead printed on
//! reports, as `db/report.rs` keeps them on SQLite.

use super::{Pg, PgError};
use hailong_core::report::Letterhead;

impl Pg {
    pub(super) async fn setting(&self, key: &str) -> Result<Option<String>, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub(super) async fn set_setting(&self, key: &str, value: &str) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await?;
        Ok(())
    }

    /// The unit's name printed on reports; empty until `hailong-server unit` sets it.
    pub async fn unit_name(&self) -> Result<String, PgError> {
        Ok(self.setting("unit_name").await?.unwrap_or_default())
    }

    pub async fn set_unit_name(&self, name: &str) -> Result<(), PgError> {
        self.set_setting("unit_name", name.trim()).await
    }

    /// What reports print around the figures; unset or unreadable, the defaults.
    pub async fn letterhead(&self) -> Result<Letterhead, PgError> {
        Ok(self
            .setting("letterhead")
            .await?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    pub async fn set_letterhead(&self, letterhead: &Letterhead) -> Result<(), PgError> {
        let json = serde_json::to_string(letterhead).unwrap_or_default();
        self.set_setting("letterhead", &json).await
    }
}
