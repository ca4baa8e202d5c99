//! Officers (cán bộ) who link dossiers: names and argon2 PIN hashes, never PINs.

use super::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub id: i64,
    pub name: String,
    pub pin_hash: String,
}

impl Store {
    pub fn add_officer(
        &mut self,
        name: &str,
        pin_hash: &str,
        at: DateTime<FixedOffset>,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO officers (name, pin_hash, created_at) VALUES (?1, ?2, ?3)",
            params![name.trim(), pin_hash, at.to_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Active officers, by name.
    pub fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, pin_hash FROM officers WHERE active = 1 ORDER BY name, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Officer {
                id: r.get(0)?,
                name: r.get(1)?,
                pin_hash: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn officer(&self, id: i64) -> Result<Officer, StoreError> {
        self.conn
            .query_row(
                "SELECT id, name, pin_hash FROM officers WHERE id = ?1 AND active = 1",
                [id],
                |r| {
                    Ok(Officer {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        pin_hash: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NoSuchOfficer(id))
    }

    /// Removes an officer from sign-in; their past ratings keep their name.
    pub fn remove_officer(&mut self, id: i64) -> Result<(), StoreError> {
        match self.conn.execute(
            "UPDATE officers SET active = 0 WHERE id = ?1 AND active = 1",
            [id],
        )? {
            0 => Err(StoreError::NoSuchOfficer(id)),
            _ => Ok(()),
        }
    }

    pub fn set_officer_pin(&mut self, id: i64, pin_hash: &str) -> Result<(), StoreError> {
        match self.conn.execute(
            "UPDATE officers SET pin_hash = ?2 WHERE id = ?1 AND active = 1",
            params![id, pin_hash],
        )? {
            0 => Err(StoreError::NoSuchOfficer(id)),
            _ => Ok(()),
        }
    }
}
