//! PIN hashing with argon2: only hashes are stored, and checks run in constant time.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use hailong_core::pin::Pin;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the PIN: {0}")]
pub struct HashError(String);

impl HashError {
    pub fn from_display(e: impl std::fmt::Display) -> HashError {
        HashError(e.to_string())
    }
}

/// An argon2id hash in PHC form, with a random salt.
pub fn hash_pin(pin: &Pin) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `pin` matches `hash`; a malformed hash never matches.
pub fn verify_pin(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_pin_only_and_holds_no_pin() {
        let pin = Pin::parse("246810", 6).unwrap();
        let hash = hash_pin(&pin).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("246810"));
        assert!(verify_pin(&hash, "246810"));
        assert!(!verify_pin(&hash, "246811"));
        assert!(!verify_pin("not a hash", "246810"));
    }
}
