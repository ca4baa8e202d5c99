//! Secrets the server hands out: one-time pairing codes and bearer tokens. Only their SHA-256
//! hashes are stored; a lookup by hash never compares secrets byte by byte.

use rand::Rng;
use sha2::{Digest, Sha256};

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
