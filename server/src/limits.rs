//! Per-address limits on failed attempts: wrong pairing codes and wrong dashboard passwords,
//! so neither can be guessed.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per address within a window; then the address waits.
pub struct FailureLimiter {
    allowed: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl FailureLimiter {
    pub fn new(allowed: usize, window: Duration) -> FailureLimiter {
        FailureLimiter {
            allowed,
            window,
            failures: Mutex::default(),
        }
    }

    /// Wrong pairing codes: 5 per address in 10 minutes.
    pub fn pairing() -> FailureLimiter {
        FailureLimiter::new(5, Duration::from_secs(10 * 60))
    }

    /// Wrong dashboard passwords: 5 per address in 15 minutes.
    pub fn sign_in() -> FailureLimiter {
        FailureLimiter::new(5, Duration::from_secs(15 * 60))
    }

    /// Whether `ip` may try now.
    pub fn allowed(&self, ip: IpAddr, now: Instant) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(&ip) else {
            return true;
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            times.pop_front();
        }
        if times.is_empty() {
            failures.remove(&ip);
            return true;
        }
        times.len() < self.allowed
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.entry(ip).or_default().push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_its_failures_until_the_window_passes() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        assert!(limiter.allowed(one, start));
        limiter.failed(one, start);
        limiter.failed(one, start);
        assert!(!limiter.allowed(one, start + Duration::from_secs(59)));
        assert!(
            limiter.allowed(two, start),
            "another address is not held up"
        );
        assert!(limiter.allowed(one, start + Duration::from_secs(61)));
    }
}
