//! The rules of pairing a tablet, in one place: a one-time code made for a counter, kept only
//! as a hash, valid until it expires and used once; pairing with it makes a device and a
//! token (also kept only as a hash). Pure functions: a backend looks the code up, asks
//! [`decide`], and keeps what it decided; they are tested here without a database.

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
    };
    (code, kept)
}

/// The hash a code is kept under, from the code as typed (spaces and case do not matter).
pub fn hash_of(typed: &str) -> String {
    secrets::hash(&secrets::normalise_code(typed))
}

/// Pairs a device called `device_name` with the code `found` under the typed code's hash (if
/// any): the device to keep, with the code then marked used, and its token in clear; or why
/// the code is refused.
pub fn decide(
    found: Option<Code>,
    device_name: &str,
    now: DateTime<Utc>,
) -> Result<(NewDevice, String), PairError> {
    let found = found.ok_or(PairError::Unknown)?;
    if found.used {
        return Err(PairError::Used);
    }
    if found.expires_at <= now {
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
    Ok((device, token))
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
            let (device, token) = decide(self.codes.get(&hash).cloned(), name, now)?;
            self.codes.get_mut(&hash).unwrap().used = true;
            let id = device.id.clone();
            self.devices.push(device);
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
