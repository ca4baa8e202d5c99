//! Pairing codes, devices and their tokens, admin tokens on PostgreSQL: who is calling. The
//! rules are `pairing`'s; this keeps what they decide.

use super::{Pg, PgError};
use crate::db::{Caller, Device};
use crate::pairing::{self, Code, MadeDevice, PairError, Paired};
use crate::secrets;
use chrono::{DateTime, Utc};
use std::time::Duration;

impl Pg {
    /// Makes a pairing code for `counter` (see `pairing`); returns the code, shown once.
    pub async fn new_pairing_code(
        &self,
        counter: &str,
        unit_code: Option<&str>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, PgError> {
        let (code, kept) = pairing::new_code(counter, unit_code, ttl, now);
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO pairing_codes (code_hash, counter, created_at, expires_at, unit_code)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &kept.hash,
                    &kept.counter,
                    &kept.created_at,
                    &kept.expires_at,
                    &kept.unit_code,
                ],
            )
            .await?;
        Ok(code)
    }

    /// Uses a pairing code (see `pairing`). Returns (device id, token).
    pub async fn pair(
        &self,
        code: &str,
        device_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(String, String), PairError>, PgError> {
        let hash = pairing::hash_of(code);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Locked: two tablets typing the same code at once, one of them pairs.
        let found = tx
            .query_opt(
                "SELECT c.counter, c.created_at, c.expires_at, c.used_at IS NOT NULL,
                     c.unit_code, d.id, d.name, d.revoked
                 FROM pairing_codes c LEFT JOIN devices d ON d.id = c.device_id
                 WHERE c.code_hash = $1 FOR UPDATE OF c",
                &[&hash],
            )
            .await?
            .map(|row| Code {
                hash: hash.clone(),
                counter: row.get(0),
                created_at: row.get(1),
                expires_at: row.get(2),
                used: row.get(3),
                unit_code: row.get(4),
                made: row.get::<_, Option<String>>(5).map(|id| MadeDevice {
                    id,
                    name: row.get(6),
                    revoked: row.get(7),
                }),
            });
        let (paired, token) = match pairing::decide(found, device_name, now) {
            Ok(paired) => paired,
            Err(refused) => return Ok(Err(refused)),
        };
        let device = match paired {
            Paired::New(device) => device,
            Paired::Again {
                device_id,
                token_hash,
            } => {
                tx.execute(
                    "UPDATE devices SET token_hash = $2 WHERE id = $1",
                    &[&device_id, &token_hash],
                )
                .await?;
                tx.commit().await?;
                return Ok(Ok((device_id, token)));
            }
        };
        tx.execute(
            "UPDATE pairing_codes SET used_at = $2, device_id = $3 WHERE code_hash = $1",
            &[&hash, &now, &device.id],
        )
        .await?;
        tx.execute(
            "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &device.id,
                &device.name,
                &device.counter,
                &device.token_hash,
                &device.paired_at,
                &device.unit_code,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok((device.id, token)))
    }

    /// A new admin token (shown once, kept hashed).
    pub async fn new_admin_token(&self, name: &str, now: DateTime<Utc>) -> Result<String, PgError> {
        let token = secrets::token("ha_");
        self.pool
            .get()
            .await?
            .execute(
                "INSERT INTO admin_tokens (token_hash, name, created_at) VALUES ($1, $2, $3)",
                &[&secrets::hash(&token), &name.trim(), &now],
            )
            .await?;
        Ok(token)
    }

    /// Who holds `token`, if anyone: a device that is not revoked, or an administrator.
    pub async fn caller(&self, token: &str) -> Result<Option<Caller>, PgError> {
        let hash = secrets::hash(token);
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT id, counter FROM devices WHERE token_hash = $1 AND NOT revoked
                 UNION ALL
                 SELECT NULL, NULL FROM admin_tokens WHERE token_hash = $1
                 LIMIT 1",
                &[&hash],
            )
            .await?;
        Ok(row.map(|row| match row.get::<_, Option<String>>(0) {
            Some(id) => Caller::Device {
                id,
                counter: row.get(1),
            },
            None => Caller::Admin,
        }))
    }

    pub async fn devices(&self) -> Result<Vec<Device>, PgError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, name, counter, paired_at, last_seen, ratings_received,
                     clock_skew_secs, revoked, queued,
                     (SELECT count(*) FROM conflicts c WHERE c.device_id = devices.id),
                     unit_code, app_version
                 FROM devices ORDER BY counter, paired_at",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Device {
                id: r.get(0),
                name: r.get(1),
                counter: r.get(2),
                paired_at: r.get::<_, DateTime<Utc>>(3).to_rfc3339(),
                last_seen: r.get::<_, Option<DateTime<Utc>>>(4).map(|t| t.to_rfc3339()),
                ratings_received: r.get(5),
                clock_skew_secs: r.get(6),
                revoked: r.get(7),
                queued: r.get(8),
                conflicts: r.get(9),
                unit_code: r.get(10),
                app_version: r.get(11),
            })
            .collect())
    }

    /// Whether a commune's server is paired here: this is a province's server.
    pub async fn any_commune(&self) -> Result<bool, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT 1 FROM devices WHERE unit_code IS NOT NULL LIMIT 1",
                &[],
            )
            .await?;
        Ok(row.is_some())
    }

    pub async fn revoke(&self, device_id: &str) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        match client
            .execute(
                "UPDATE devices SET revoked = true WHERE id = $1",
                &[&device_id],
            )
            .await?
        {
            0 => Err(PgError::NoSuchDevice(device_id.to_owned())),
            _ => Ok(()),
        }
    }
}
