//! The rules of pairing a tablet, in one place: a one-time code made for a counter, kept only
//! as a hash, valid until it expires; pairing with it makes one device and a token (also kept
//! only as a hash). A pairing whose answer was lost is not lost with it: the same device
//! (same name) sending the same code again before it expires gets the same device back, with
//! a new token in place of the one it never received. Pure functions: a backend looks the
//! code up, asks [`decide`], and keeps what it decided; they are tested here without a
//! database.

use crate::secrets;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Why a pairing code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("unknown pairing code")]
    Unknown,
    #[error("this pairing code was already used")]
    Used,
    #[error("this pairing code has expired")]
    Expired,
}

/// A pairing code as it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub hash: String,
    /// The counter a tablet stands at, or the commune a commune's server is.
    pub counter: String,
    /// A commune's unit code: the code pairs a commune's server with its province's.
    pub unit_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
    /// The device it made, as it stands now (codes used before this was kept have none).
    pub made: Option<MadeDevice>,
}

/// The device a code made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeDevice {
    pub id: String,
    pub name: String,
    pub revoked: bool,
}

/// What a pairing keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paired {
    /// A new device; the code is then used, and names it.
    New(NewDevice),
    /// The device the code made, paired again (its answer was lost): its token replaced.
    Again {
        device_id: String,
        token_hash: String,
    },
}

impl Paired {
    pub fn device_id(&self) -> &str {
        match self {
            Paired::New(device) => &device.id,
            Paired::Again { device_id, .. } => device_id,
        }
    }
}

/// A device made by pairing, as it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: String,
    pub name: String,
    pub counter: String,
    pub unit_code: Option<String>,
    pub token_hash: String,
    pub paired_at: DateTime<Utc>,
}

/// Makes a code for `counter` (for a commune: its name and `unit_code`), valid for `ttl`
/// from `now`: the code in clear (the only time it is seen) and as it is kept.
pub fn new_code(
    counter: &str,
    unit_code: Option<&str>,
    ttl: Duration,
    now: DateTime<Utc>,
) -> (String, Code) {
    let code = secrets::pairing_code();
    let kept = Code {
        hash: hash_of(&code),
        counter: counter.trim().to_owned(),
        unit_code: unit_code.map(str::to_owned),
        created_at: now,
        expires_at: now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1)),
        used: false,
        made: None,
    };
    (code, kept)
}

/// The hash a code is kept under, from the code as typed (spaces and case do not matter).
pub fn hash_of(typed: &str) -> String {
    secrets::hash(&secrets::normalise_code(typed))
}

/// Pairs a device called `device_name` with the code `found` under the typed code's hash (if
/// any): what to keep, and the token in clear; or why the code is refused. A used code pairs
/// again only before it expires, the device it made under the same name, not revoked.
pub fn decide(
    found: Option<Code>,
    device_name: &str,
    now: DateTime<Utc>,
) -> Result<(Paired, String), PairError> {
    let found = found.ok_or(PairError::Unknown)?;
    let expired = found.expires_at <= now;
    if found.used {
        return match found.made {
            Some(made) if !expired && !made.revoked && made.name == device_name.trim() => {
                let token = secrets::token("hd_");
                let again = Paired::Again {
                    device_id: made.id,
                    token_hash: secrets::hash(&token),
                };
                Ok((again, token))
            }
            _ => Err(PairError::Used),
        };
    }
    if expired {
        return Err(PairError::Expired);
    }
    let token = secrets::token("hd_");
    let device = NewDevice {
        id: uuid::Uuid::now_v7().to_string(),
        name: device_name.trim().to_owned(),
        counter: found.counter,
        unit_code: found.unit_code,
        token_hash: secrets::hash(&token),
        paired_at: now,
    };
    Ok((Paired::New(device), token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// What a store would hold: codes by hash, and devices.
    #[derive(Default)]
    struct Memory {
        codes: BTreeMap<String, Code>,
        devices: Vec<NewDevice>,
    }

    impl Memory {
        fn new_code(&mut self, counter: &str, ttl: Duration, now: DateTime<Utc>) -> String {
            let (code, kept) = new_code(counter, None, ttl, now);
            self.codes.insert(kept.hash.clone(), kept);
            code
        }

        fn pair(
            &mut self,
            typed: &str,
            name: &str,
            now: DateTime<Utc>,
        ) -> Result<(String, String), PairError> {
            let hash = hash_of(typed);
            let (paired, token) = decide(self.codes.get(&hash).cloned(), name, now)?;
            let id = paired.device_id().to_owned();
            match paired {
                Paired::New(device) => {
                    let code = self.codes.get_mut(&hash).unwrap();
                    code.used = true;
                    code.made = Some(MadeDevice {
                        id: device.id.clone(),
                        name: device.name.clone(),
                        revoked: false,
                    });
                    self.devices.push(device);
                }
                Paired::Again { token_hash, .. } => {
                    let device = self.devices.iter_mut().find(|d| d.id == id).unwrap();
                    device.token_hash = token_hash;
                }
            }
            Ok((id, token))
        }
    }

    fn at(time: &str) -> DateTime<Utc> {
        time.parse().unwrap()
    }

    #[test]
    fn a_code_pairs_one_device_for_its_counter_once_and_only_hashes_are_kept() {
        let mut memory = Memory::default();
        let now = at("2026-11-23T02:00:00Z");
        let code = memory.new_code("  Quầy 1 ", Duration::from_secs(3600), now);
        assert!(
            memory.codes.values().all(|c| !c.hash.contains(&code)),
            "the code is kept hashed"
        );
        // Typed with spaces and in lower case, as a person reads it out.
        let typed = code
            .to_lowercase()
            .chars()
            .flat_map(|c| [c, ' '])
            .collect::<String>();
        let (id, token) = memory
            .pair(&typed, " Máy quầy 1\n", now)
            .expect("the code pairs");
        let device = &memory.devices[0];
        assert_eq!(device.id, id);
        assert_eq!(device.counter, "Quầy 1", "the code's counter, trimmed");
        assert_eq!(device.name, "Máy quầy 1");
        assert_eq!(device.token_hash, secrets::hash(&token));
        assert!(token.starts_with("hd_"));
        assert_eq!(memory.pair(&code, "another", now), Err(PairError::Used));
        assert_eq!(memory.devices.len(), 1);
    }

    #[test]
    fn the_same_device_sending_a_used_code_again_gets_itself_back_with_a_new_token() {
        let mut memory = Memory::default();
        let made = at("2026-11-23T02:00:00Z");
        let code = memory.new_code("Quầy 1", Duration::from_secs(1800), made);
        let (id, first) = memory.pair(&code, "Máy quầy 1", made).unwrap();
        // The answer was lost; the tablet sends the same code again.
        let later = at("2026-11-23T02:10:00Z");
        let (again, second) = memory.pair(&code, " Máy quầy 1 ", later).unwrap();
        assert_eq!(again, id, "the same device");
        assert_ne!(second, first);
        assert_eq!(memory.devices.len(), 1);
        assert_eq!(memory.devices[0].token_hash, secrets::hash(&second));
        // Another device, or after the code's expiry, or a revoked device: used.
        assert_eq!(memory.pair(&code, "Máy khác", later), Err(PairError::Used));
        let expired = at("2026-11-23T02:30:00Z");
        assert_eq!(
            memory.pair(&code, "Máy quầy 1", expired),
            Err(PairError::Used)
        );
        let hash = hash_of(&code);
        memory
            .codes
            .get_mut(&hash)
            .unwrap()
            .made
            .as_mut()
            .unwrap()
            .revoked = true;
        assert_eq!(
            memory.pair(&code, "Máy quầy 1", later),
            Err(PairError::Used)
        );
    }

    #[test]
    fn an_unknown_or_expired_code_pairs_nothing() {
        let mut memory = Memory::default();
        let made = at("2026-11-23T02:00:00Z");
        let code = memory.new_code("Quầy 2", Duration::from_secs(1800), made);
        assert_eq!(memory.pair("ABCD-EFGH", "x", made), Err(PairError::Unknown));
        assert_eq!(
            memory.pair(&code, "x", at("2026-11-23T02:30:00Z")),
            Err(PairError::Expired),
            "at its expiry, it has expired"
        );
        let before = memory.pair(&code, "x", at("2026-11-23T02:29:59Z"));
        assert!(before.is_ok(), "a second before, it pairs");
        assert_eq!(memory.devices.len(), 1);
    }
}
