//! The rules of pairing a tablet, in one place: a one-time code made for a counter, kept only
//! as a hash, valid until it expires and used once; pairing with it makes a device and a
//! token (also kept only as a hash). They run over [`Codes`], one transaction's view of the
//! codes and devices a server holds, and are tested here without a database.

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
    pub counter: String,
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
    pub token_hash: String,
    pub paired_at: DateTime<Utc>,
}

/// One transaction's view of pairing codes and devices. Nothing in it decides anything.
pub trait Codes {
    type Error;
    fn add_code(&mut self, code: &Code) -> Result<(), Self::Error>;
    /// The code with this hash, if one was made.
    fn code(&mut self, hash: &str) -> Result<Option<Code>, Self::Error>;
    fn mark_used(&mut self, hash: &str, at: DateTime<Utc>) -> Result<(), Self::Error>;
    fn add_device(&mut self, device: &NewDevice) -> Result<(), Self::Error>;
}

/// Makes a code for `counter`, valid for `ttl` from `now`; returns the code, the only time it
/// is seen in clear.
pub fn new_code<C: Codes>(
    codes: &mut C,
    counter: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String, C::Error> {
    let code = secrets::pairing_code();
    codes.add_code(&Code {
        hash: secrets::hash(&code),
        counter: counter.trim().to_owned(),
        created_at: now,
        expires_at: now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1)),
        used: false,
    })?;
    Ok(code)
}

/// Uses `code` (as typed: spaces and case do not matter) to pair a device called
/// `device_name`; returns its id and its token, or why the code was refused.
pub fn pair<C: Codes>(
    codes: &mut C,
    code: &str,
    device_name: &str,
    now: DateTime<Utc>,
) -> Result<Result<(String, String), PairError>, C::Error> {
    let hash = secrets::hash(&secrets::normalise_code(code));
    let Some(found) = codes.code(&hash)? else {
        return Ok(Err(PairError::Unknown));
    };
    if found.used {
        return Ok(Err(PairError::Used));
    }
    if found.expires_at <= now {
        return Ok(Err(PairError::Expired));
    }
    let token = secrets::token("hd_");
    let device = NewDevice {
        id: uuid::Uuid::now_v7().to_string(),
        name: device_name.trim().to_owned(),
        counter: found.counter,
        token_hash: secrets::hash(&token),
        paired_at: now,
    };
    codes.mark_used(&hash, now)?;
    codes.add_device(&device)?;
    Ok(Ok((device.id, token)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Memory {
        codes: BTreeMap<String, Code>,
        devices: Vec<NewDevice>,
    }

    impl Codes for Memory {
        type Error = std::convert::Infallible;
        fn add_code(&mut self, code: &Code) -> Result<(), Self::Error> {
            self.codes.insert(code.hash.clone(), code.clone());
            Ok(())
        }
        fn code(&mut self, hash: &str) -> Result<Option<Code>, Self::Error> {
            Ok(self.codes.get(hash).cloned())
        }
        fn mark_used(&mut self, hash: &str, _: DateTime<Utc>) -> Result<(), Self::Error> {
            self.codes.get_mut(hash).unwrap().used = true;
            Ok(())
        }
        fn add_device(&mut self, device: &NewDevice) -> Result<(), Self::Error> {
            self.devices.push(device.clone());
            Ok(())
        }
    }

    fn at(time: &str) -> DateTime<Utc> {
        time.parse().unwrap()
    }

    #[test]
    fn a_code_pairs_one_device_for_its_counter_once_and_only_hashes_are_kept() {
        let mut memory = Memory::default();
        let now = at("2026-11-23T02:00:00Z");
        let Ok(code) = new_code(&mut memory, "  Quầy 1 ", Duration::from_secs(3600), now);
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
        let Ok(paired) = pair(&mut memory, &typed, " Máy quầy 1\n", now);
        let (id, token) = paired.expect("the code pairs");
        let device = &memory.devices[0];
        assert_eq!(device.id, id);
        assert_eq!(device.counter, "Quầy 1", "the code's counter, trimmed");
        assert_eq!(device.name, "Máy quầy 1");
        assert_eq!(device.token_hash, secrets::hash(&token));
        assert!(token.starts_with("hd_"));
        let Ok(again) = pair(&mut memory, &code, "another", now);
        assert_eq!(again, Err(PairError::Used));
        assert_eq!(memory.devices.len(), 1);
    }

    #[test]
    fn an_unknown_or_expired_code_pairs_nothing() {
        let mut memory = Memory::default();
        let made = at("2026-11-23T02:00:00Z");
        let Ok(code) = new_code(&mut memory, "Quầy 2", Duration::from_secs(1800), made);
        let Ok(unknown) = pair(&mut memory, "ABCD-EFGH", "x", made);
        assert_eq!(unknown, Err(PairError::Unknown));
        let Ok(expired) = pair(&mut memory, &code, "x", at("2026-11-23T02:30:00Z"));
        assert_eq!(
            expired,
            Err(PairError::Expired),
            "at its expiry, it has expired"
        );
        let Ok(before) = pair(&mut memory, &code, "x", at("2026-11-23T02:29:59Z"));
        assert!(before.is_ok(), "a second before, it pairs");
        assert_eq!(memory.devices.len(), 1);
    }
}
