//! The web dashboard's users (argon2 password hashes) and their sessions (SHA-256 of the
//! cookie's token): who is signed in.

use super::{Db, DbError};
use crate::secrets;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// How long a session lasts after sign-in: a working day.
pub const SESSION_HOURS: i64 = 10;

impl Db {
    /// Adds a user, or gives an existing one a new password and ends their sessions. Returns
    /// whether the user is new.
    pub fn set_user(
        &mut self,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let tx = self.conn.transaction()?;
        let existed = tx
            .query_row("SELECT 1 FROM users WHERE name = ?1", [name], |_| Ok(()))
            .optional()?
            .is_some();
        tx.execute(
            "INSERT INTO users (name, password_hash, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
            params![name, password_hash, now.to_rfc3339()],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
        tx.commit()?;
        Ok(!existed)
    }

    /// The stored password hash of `name`, if there is such a user.
    pub fn password_hash(&self, name: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT password_hash FROM users WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    /// Starts a session for `name`; returns its token (for the cookie, kept only hashed).
    /// Sessions that have expired are cleared on the way.
    pub fn new_session(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, DbError> {
        let token = secrets::token("hs_");
        let expires = now + chrono::Duration::hours(SESSION_HOURS);
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            [now.to_rfc3339()],
        )?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_name, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                secrets::hash(&token),
                name,
                now.to_rfc3339(),
                expires.to_rfc3339()
            ],
        )?;
        tx.commit()?;
        Ok(token)
    }

    /// The user of an unexpired session, looked up by the token's hash.
    pub fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT user_name FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
            )?
            .query_row(params![secrets::hash(token), now.to_rfc3339()], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn end_session(&mut self, token: &str) -> Result<(), DbError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [secrets::hash(token)],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use chrono::{Duration, Utc};

    #[test]
    fn sessions_end_at_expiry_sign_out_and_a_new_password() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.db")).unwrap();
        let now = Utc::now();
        assert!(db.set_user("lan", "$argon2id$one", now).unwrap());
        assert_eq!(
            db.password_hash("lan").unwrap().as_deref(),
            Some("$argon2id$one")
        );
        assert_eq!(db.password_hash("mai").unwrap(), None);

        let token = db.new_session("lan", now).unwrap();
        assert_eq!(
            db.session_user(&token, now).unwrap().as_deref(),
            Some("lan")
        );
        assert_eq!(db.session_user("hs_forged", now).unwrap(), None);
        let later = now + Duration::hours(super::SESSION_HOURS) + Duration::seconds(1);
        assert_eq!(db.session_user(&token, later).unwrap(), None, "expired");

        let other = db.new_session("lan", now).unwrap();
        db.end_session(&other).unwrap();
        assert_eq!(db.session_user(&other, now).unwrap(), None, "signed out");

        let kept = db.new_session("lan", now).unwrap();
        assert!(!db.set_user("lan", "$argon2id$two", now).unwrap());
        assert_eq!(
            db.session_user(&kept, now).unwrap(),
            None,
            "a new password ends sessions"
        );
    }
}
