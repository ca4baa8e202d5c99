//! The web dashboard's users (argon2 password hashes) and their sessions (SHA-256 of the
//! cookie's token) on PostgreSQL, as `db/users.rs` keeps them on SQLite.

use super::{Pg, PgError};
use crate::db::SESSION_HOURS;
use crate::secrets;
use chrono::{DateTime, Utc};

impl Pg {
    /// Adds a user, or gives an existing one a new password and ends their sessions. Returns
    /// whether the user is new.
    pub async fn set_user(
        &self,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PgError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let new: bool = tx
            .query_one(
                "INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash
                 RETURNING xmax = 0",
                &[&name, &password_hash, &now],
            )
            .await?
            .get(0);
        tx.execute("DELETE FROM sessions WHERE user_name = $1", &[&name])
            .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// The stored password hash of `name`, if there is such a user.
    pub async fn password_hash(&self, name: &str) -> Result<Option<String>, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT password_hash FROM users WHERE name = $1", &[&name])
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Starts a session for `name`; returns its token (for the cookie, kept only hashed).
    /// Sessions that have expired are cleared on the way.
    pub async fn new_session(&self, name: &str, now: DateTime<Utc>) -> Result<String, PgError> {
        let token = secrets::token("hs_");
        let expires = now + chrono::Duration::hours(SESSION_HOURS);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])
            .await?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_name, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[&secrets::hash(&token), &name, &now, &expires],
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The user of an unexpired session, looked up by the token's hash.
    pub async fn session_user(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT user_name FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                &[&secrets::hash(token), &now],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[&secrets::hash(token)],
            )
            .await?;
        Ok(())
    }
}
