//! Pairing codes, devices and their tokens, admin tokens: who is calling.

use super::{Db, DbError};
use crate::pairing::{self, Code, MadeDevice, NewDevice, PairError, Paired};
use crate::secrets;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::time::Duration;

/// Who a bearer token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Device { id: String, counter: String },
    Admin,
}

/// A paired device, for `hailong-server devices`.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub counter: String,
    pub paired_at: String,
    pub last_seen: Option<String>,
    pub ratings_received: i64,
    pub clock_skew_secs: Option<i64>,
    pub revoked: bool,
    /// Ratings waiting on the tablet after its last batch, as it said.
    pub queued: Option<i64>,
    /// Later versions of its ratings that differed from the stored ones.
    pub conflicts: i64,
    /// A commune's server (on a province's): its unit code.
    pub unit_code: Option<String>,
    /// The version of its program, from its last batch that said.
    pub app_version: Option<String>,
}

impl Db {
    /// Makes a pairing code for `counter` (see `pairing`); returns the code, shown once.
    pub fn new_pairing_code(
        &mut self,
        counter: &str,
        unit_code: Option<&str>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, DbError> {
        let (code, kept) = pairing::new_code(counter, unit_code, ttl, now);
        self.conn.execute(
            "INSERT INTO pairing_codes
                 (code_hash, counter, created_at, expires_at, used_at, unit_code)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            params![
                kept.hash,
                kept.counter,
                kept.created_at.to_rfc3339(),
                kept.expires_at.to_rfc3339(),
                kept.unit_code
            ],
        )?;
        Ok(code)
    }

    /// Uses a pairing code (see `pairing`). Returns (device id, token).
    pub fn pair(
        &mut self,
        code: &str,
        device_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(String, String), PairError>, DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hash = pairing::hash_of(code);
        let (paired, token) = match pairing::decide(find_code(&tx, &hash)?, device_name, now) {
            Ok(paired) => paired,
            Err(refused) => return Ok(Err(refused)),
        };
        let id = paired.device_id().to_owned();
        match paired {
            Paired::New(device) => {
                tx.execute(
                    "UPDATE pairing_codes SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
                    params![hash, now.to_rfc3339(), device.id],
                )?;
                add_device(&tx, &device)?;
            }
            Paired::Again {
                device_id,
                token_hash,
            } => {
                tx.execute(
                    "UPDATE devices SET token_hash = ?2 WHERE id = ?1",
                    params![device_id, token_hash],
                )?;
            }
        }
        tx.commit()?;
        Ok(Ok((id, token)))
    }

    /// A new admin token (shown once, kept hashed).
    pub fn new_admin_token(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, DbError> {
        let token = secrets::token("ha_");
        self.conn.execute(
            "INSERT INTO admin_tokens (token_hash, name, created_at) VALUES (?1, ?2, ?3)",
            params![secrets::hash(&token), name.trim(), now.to_rfc3339()],
        )?;
        Ok(token)
    }

    /// Who holds `token`, if anyone: a device that is not revoked, or an administrator.
    pub fn caller(&self, token: &str) -> Result<Option<Caller>, DbError> {
        let hash = secrets::hash(token);
        let device = self
            .conn
            .prepare_cached(
                "SELECT id, counter FROM devices WHERE token_hash = ?1 AND revoked = 0",
            )?
            .query_row([&hash], |r| {
                Ok(Caller::Device {
                    id: r.get(0)?,
                    counter: r.get(1)?,
                })
            })
            .optional()?;
        if device.is_some() {
            return Ok(device);
        }
        let admin = self
            .conn
            .prepare_cached("SELECT 1 FROM admin_tokens WHERE token_hash = ?1")?
            .exists([&hash])?;
        Ok(admin.then_some(Caller::Admin))
    }

    pub fn devices(&self) -> Result<Vec<Device>, DbError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, counter, paired_at, last_seen, ratings_received, clock_skew_secs,
                 revoked, queued,
                 (SELECT count(*) FROM conflicts c WHERE c.device_id = devices.id), unit_code,
                 app_version
             FROM devices ORDER BY counter, paired_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Device {
                id: r.get(0)?,
                name: r.get(1)?,
                counter: r.get(2)?,
                paired_at: r.get(3)?,
                last_seen: r.get(4)?,
                ratings_received: r.get(5)?,
                clock_skew_secs: r.get(6)?,
                revoked: r.get(7)?,
                queued: r.get(8)?,
                conflicts: r.get(9)?,
                unit_code: r.get(10)?,
                app_version: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn revoke(&mut self, device_id: &str) -> Result<(), DbError> {
        match self
            .conn
            .execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [device_id])?
        {
            0 => Err(DbError::NoSuchDevice(device_id.to_owned())),
            _ => Ok(()),
        }
    }
}

/// The pairing code kept under `hash`, if one was made.
fn find_code(tx: &Transaction<'_>, hash: &str) -> Result<Option<Code>, DbError> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<MadeDevice>,
    );
    let found: Option<Row> = tx
        .query_row(
            "SELECT c.counter, c.created_at, c.expires_at, c.used_at, c.unit_code, d.id, d.name,
                 d.revoked
             FROM pairing_codes c LEFT JOIN devices d ON d.id = c.device_id
             WHERE c.code_hash = ?1",
            [hash],
            |r| {
                let made = match r.get::<_, Option<String>>(5)? {
                    Some(id) => Some(MadeDevice {
                        id,
                        name: r.get(6)?,
                        revoked: r.get(7)?,
                    }),
                    None => None,
                };
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, made))
            },
        )
        .optional()?;
    // A time that does not read is taken as long past: the code is expired, not valid.
    let time =
        |t: &str| DateTime::parse_from_rfc3339(t).map_or(DateTime::<Utc>::MIN_UTC, |t| t.to_utc());
    Ok(found.map(
        |(counter, created_at, expires_at, used_at, unit_code, made)| Code {
            hash: hash.to_owned(),
            counter,
            unit_code,
            created_at: time(&created_at),
            expires_at: time(&expires_at),
            used: used_at.is_some(),
            made,
        },
    ))
}

fn add_device(tx: &Transaction<'_>, device: &NewDevice) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            device.id,
            device.name,
            device.counter,
            device.token_hash,
            device.paired_at.to_rfc3339(),
            device.unit_code
        ],
    )?;
    Ok(())
}
