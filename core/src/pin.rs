//! PIN rules and the lockout policy after wrong PINs (hashing is the app's job).

use std::time::Duration;

/// Administrators need at least 6 digits; officers at least 4.
pub const ADMIN_PIN_MIN: usize = 6;
pub const OFFICER_PIN_MIN: usize = 4;
const PIN_MAX: usize = 12;

/// A syntactically valid PIN: digits only, of an allowed length.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("a PIN has only digits")]
    NotDigits,
    #[error("a PIN needs at least {0} digits")]
    TooShort(usize),
    #[error("a PIN has at most 12 digits")]
    TooLong,
}

impl Pin {
    pub fn parse(s: &str, min_len: usize) -> Result<Pin, PinError> {
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        if s.len() < min_len {
            return Err(PinError::TooShort(min_len));
        }
        if s.len() > PIN_MAX {
            return Err(PinError::TooLong);
        }
        Ok(Pin(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// Counts wrong PINs; past the free attempts in a row (five for one name), each one locks
/// for a growing time.
#[derive(Debug, Clone)]
pub struct Lockout {
    failures: u32,
    free: u32,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            failures: 0,
            free: Self::FREE_ATTEMPTS,
        }
    }
}

impl Lockout {
    /// Wrong PINs for one name before it locks.
    pub const FREE_ATTEMPTS: u32 = 5;
    /// Wrong PINs on one pad, across names, before every officer name locks (not the
    /// administrator's): someone trying names one after another.
    pub const PAD_FREE_ATTEMPTS: u32 = 12;
    const FIRST_LOCK: Duration = Duration::from_secs(30);
    const LONGEST_LOCK: Duration = Duration::from_secs(30 * 60);

    /// Records a wrong PIN; returns how long the pad now stays locked, if it does.
    pub fn fail(&mut self) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        let over = self.failures.checked_sub(self.free)?;
        let lock = Self::FIRST_LOCK.saturating_mul(2u32.saturating_pow(over.min(16)));
        Some(lock.min(Self::LONGEST_LOCK))
    }

    /// A lockout for one name that already counted `failures` wrong PINs in a row (kept
    /// across restarts).
    pub fn from_failures(failures: u32) -> Lockout {
        Lockout {
            failures,
            ..Lockout::default()
        }
    }

    /// The pad-wide lockout, with `failures` already counted.
    pub fn pad(failures: u32) -> Lockout {
        Lockout {
            failures,
            free: Self::PAD_FREE_ATTEMPTS,
        }
    }

    /// Wrong PINs left before the next one locks.
    pub fn attempts_left(&self) -> u32 {
        self.free.saturating_sub(self.failures)
    }

    pub fn succeed(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_digits_of_a_minimum_length() {
        assert!(Pin::parse("123456", ADMIN_PIN_MIN).is_ok());
        assert_eq!(
            Pin::parse("12345", ADMIN_PIN_MIN),
            Err(PinError::TooShort(6))
        );
        assert_eq!(
            Pin::parse("12a456", ADMIN_PIN_MIN),
            Err(PinError::NotDigits)
        );
        assert_eq!(Pin::parse("1234567890123", 4), Err(PinError::TooLong));
        assert_eq!(
            format!("{:?}", Pin::parse("123456", 6).unwrap()),
            "Pin(***)"
        );
    }

    #[test]
    fn four_wrong_pins_are_free_and_the_fifth_locks_with_a_growing_delay() {
        let mut lockout = Lockout::default();
        for _ in 0..4 {
            assert_eq!(lockout.fail(), None);
        }
        assert_eq!(lockout.fail(), Some(Duration::from_secs(30)));
        assert_eq!(lockout.fail(), Some(Duration::from_secs(60)));
        assert_eq!(lockout.fail(), Some(Duration::from_secs(120)));
        for _ in 0..40 {
            lockout.fail();
        }
        assert_eq!(lockout.fail(), Some(Duration::from_secs(1800)));
        lockout.succeed();
        assert_eq!(lockout.fail(), None);
        assert_eq!(
            Lockout::from_failures(5).fail(),
            Some(Duration::from_secs(60))
        );
        let mut pad = Lockout::pad(0);
        for _ in 0..11 {
            assert_eq!(pad.fail(), None);
        }
        assert_eq!(pad.attempts_left(), 1);
        assert_eq!(pad.fail(), Some(Duration::from_secs(30)));
    }
}
