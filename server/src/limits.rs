//! A per-address limit on wrong pairing codes, so codes cannot be guessed.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong codes allowed per address within [`WINDOW`].
pub const WRONG_CODES_ALLOWED: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

#[derive(Default)]
pub struct PairLimiter {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl PairLimiter {
    /// Whether `ip` may try a code now.
    pub fn allowed(&self, ip: IpAddr, now: Instant) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(&ip) else {
            return true;
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            times.pop_front();
        }
        times.len() < WRONG_CODES_ALLOWED
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.entry(ip).or_default().push_back(now);
    }
}
