//! Secrets: one-time pairing codes and bearer tokens the server hands out (only their SHA-256
//! hashes are stored; a lookup by hash never compares secrets byte by byte), and the dashboard
//! users' passwords (argon2id hashes, checked in constant time).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The shortest password `user add` takes.
pub const PASSWORD_MIN: usize = 10;

/// The longest password (in bytes) `user add` takes and sign-in checks; a longer one is wrong
/// without an argon2 check.
pub const PASSWORD_MAX: usize = 1024;

/// An argon2id hash of `password`, in the PHC string form.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches `stored`. With no stored hash (no such user), a hash of a random
/// password is checked instead, so the answer takes as long as for a real user.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash_password(&token("decoy_")).unwrap_or_default());
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(decoy)) else {
        return false;
    };
    let matched = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matched && stored.is_some()
}

/// Pairing-code letters: no 0/O, 1/I/L, so a code read aloud or from paper is typed right.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const CODE_LEN: usize = 10;

/// A new pairing code, e.g. `7KQ4-MXP2WD` without the dash.
pub fn pairing_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// What a typed code is compared as: upper case, spaces and dashes dropped.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A new bearer token: a kind prefix and 256 random bits in hex.
pub fn token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let mut token = String::with_capacity(prefix.len() + 64);
    token.push_str(prefix);
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    token
}

/// SHA-256 in hex: what the database keeps of a secret, or of a rating's content.
pub fn hash(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn passwords_are_salted_argon2id_and_an_unknown_user_never_matches() {
        let one = hash_password("mật khẩu dài").unwrap();
        let two = hash_password("mật khẩu dài").unwrap();
        assert!(one.starts_with("$argon2id$"), "{one}");
        assert_ne!(one, two, "salted");
        assert!(verify_password("mật khẩu dài", Some(&one)));
        assert!(!verify_password("mật khẩu dai", Some(&one)));
        assert!(!verify_password("mật khẩu dài", None));
        assert!(!verify_password("x", Some("not a hash")));
    }

    #[test]
    fn codes_avoid_look_alikes_and_tokens_are_long() {
        for _ in 0..200 {
            let code = pairing_code();
            assert_eq!(code.len(), CODE_LEN);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
        assert_eq!(normalise_code(" 7kq4-mxp2 "), "7KQ4MXP2");
        let t = token("hd_");
        assert_eq!(t.len(), 67);
        assert_ne!(hash(&t), t);
        assert_eq!(hash(&t).len(), 64);
    }
}
