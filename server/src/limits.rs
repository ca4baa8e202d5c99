//! Limits on attempts that may fail, so that neither a pairing code nor a dashboard password
//! can be guessed. An attempt takes its place *before* it is checked and keeps it if it fails;
//! so three hundred attempts sent at once are not all let through before the first failure is
//! counted. A success, or an attempt its client gave up on, gives its place back.
//!
//! The policy (docs/api.md, README.md):
//! - pairing codes: 5 wrong ones per address in 10 minutes;
//! - dashboard sign-in: 5 wrong passwords per user name in the window (15 minutes unless
//!   `serve --sign-in-window` says otherwise), from whatever address, and 20 per address
//!   whatever the names. A name (or an address) waits only until its oldest failure leaves
//!   the window: someone behind the commune's shared address cannot shut the administrator
//!   out for longer than that, and can keep doing so only by failing again and again, which
//!   the log shows.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Failures allowed per key (an address, a user name) within a window.
pub struct AttemptLimiter<K> {
    allowed: usize,
    window: Duration,
    records: Mutex<HashMap<K, Record>>,
}

#[derive(Default)]
struct Record {
    failures: VecDeque<Instant>,
    /// Attempts being checked now.
    pending: usize,
}

/// Past this many keys, records with nothing left in them are swept out.
const SWEEP_ABOVE: usize = 4096;

impl<K: Hash + Eq + Clone> AttemptLimiter<K> {
    pub fn new(allowed: usize, window: Duration) -> AttemptLimiter<K> {
        AttemptLimiter {
            allowed,
            window,
            records: Mutex::default(),
        }
    }

    fn records(&self) -> MutexGuard<'_, HashMap<K, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one attempt by `key`, or `None` if its failures and the attempts being
    /// checked already fill its allowance.
    pub fn try_begin(&self, key: K, now: Instant) -> Option<Attempt<'_, K>> {
        let mut records = self.records();
        if records.len() > SWEEP_ABOVE {
            records.retain(|_, r| {
                r.forget_before(now, self.window);
                r.pending > 0 || !r.failures.is_empty()
            });
        }
        let record = records.entry(key.clone()).or_default();
        record.forget_before(now, self.window);
        if record.failures.len() + record.pending >= self.allowed {
            return None;
        }
        record.pending += 1;
        Some(Attempt {
            limiter: self,
            key: Some(key),
        })
    }

    /// Gives back an attempt's place; a failure stays counted for the window.
    fn settle(&self, key: &K, failed_at: Option<Instant>) {
        let mut records = self.records();
        let Some(record) = records.get_mut(key) else {
            return;
        };
        record.pending = record.pending.saturating_sub(1);
        if let Some(at) = failed_at {
            record.failures.push_back(at);
        }
        if record.pending == 0 && record.failures.is_empty() {
            records.remove(key);
        }
    }
}

impl Record {
    fn forget_before(&mut self, now: Instant, window: Duration) {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.failures.pop_front();
        }
    }
}

/// One attempt's place: [`Attempt::failed`] keeps it counted; dropping it otherwise (a
/// success, a client that went away) gives it back.
pub struct Attempt<'a, K: Hash + Eq + Clone> {
    limiter: &'a AttemptLimiter<K>,
    key: Option<K>,
}

impl<K: Hash + Eq + Clone> Attempt<'_, K> {
    pub fn failed(mut self, now: Instant) {
        if let Some(key) = self.key.take() {
            self.limiter.settle(&key, Some(now));
        }
    }
}

impl<K: Hash + Eq + Clone> Drop for Attempt<'_, K> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.limiter.settle(&key, None);
        }
    }
}

/// Wrong pairing codes: 5 per address in 10 minutes.
pub fn pairing() -> AttemptLimiter<IpAddr> {
    AttemptLimiter::new(5, Duration::from_secs(10 * 60))
}

/// The dashboard's sign-in limits: per user name and per address.
pub struct SignInLimits {
    pub by_name: AttemptLimiter<String>,
    pub by_address: AttemptLimiter<IpAddr>,
}

impl SignInLimits {
    pub fn new(window: Duration) -> SignInLimits {
        SignInLimits {
            by_name: AttemptLimiter::new(5, window),
            by_address: AttemptLimiter::new(20, window),
        }
    }

    /// Places for one attempt by `name` from `ip`, or `None` if either must wait. Names are
    /// compared as the user list compares them (trimmed, lower case), so `Lan` and `lan `
    /// share one allowance.
    pub fn try_begin(&self, name: &str, ip: IpAddr, now: Instant) -> Option<SignInAttempt<'_>> {
        let address = self.by_address.try_begin(ip, now)?;
        let name = self.by_name.try_begin(name.trim().to_lowercase(), now)?;
        Some(SignInAttempt { address, name })
    }
}

/// A sign-in attempt's places, per address and per name.
pub struct SignInAttempt<'a> {
    address: Attempt<'a, IpAddr>,
    name: Attempt<'a, String>,
}

impl SignInAttempt<'_> {
    pub fn failed(self, now: Instant) {
        self.address.failed(now);
        self.name.failed(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn attempts_under_way_take_their_places_before_any_fails() {
        let limiter = AttemptLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        let one = limiter.try_begin(ip("10.0.0.1"), now).unwrap();
        let two = limiter.try_begin(ip("10.0.0.1"), now).unwrap();
        assert!(
            limiter.try_begin(ip("10.0.0.1"), now).is_none(),
            "a third at once waits, though none has failed yet"
        );
        assert!(limiter.try_begin(ip("10.0.0.2"), now).is_some());
        drop(one); // succeeded: its place comes back
        let three = limiter.try_begin(ip("10.0.0.1"), now).unwrap();
        two.failed(now);
        three.failed(now);
        assert!(limiter.try_begin(ip("10.0.0.1"), now).is_none());
    }

    #[test]
    fn an_address_waits_after_its_failures_until_the_window_passes() {
        let limiter = AttemptLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..2 {
            limiter
                .try_begin(ip("10.0.0.1"), start)
                .unwrap()
                .failed(start);
        }
        assert!(
            limiter
                .try_begin(ip("10.0.0.1"), start + Duration::from_secs(59))
                .is_none()
        );
        assert!(
            limiter
                .try_begin(ip("10.0.0.1"), start + Duration::from_secs(60))
                .is_some()
        );
        assert!(limiter.records().len() <= 1, "nothing kept past its use");
    }

    #[test]
    fn a_name_is_limited_across_addresses_and_an_address_across_names() {
        let limits = SignInLimits::new(Duration::from_secs(900));
        let now = Instant::now();
        // Five wrong passwords for "lan" from five addresses: "lan" waits, from anywhere.
        for n in 1..=5 {
            let attempt = limits.try_begin("lan", ip(&format!("10.0.0.{n}")), now);
            attempt.unwrap().failed(now);
        }
        for _ in 0..30 {
            assert!(limits.try_begin(" LAN", ip("10.0.0.9"), now).is_none());
        }
        // Those refusals by name gave back the places they took at the address.
        let held: Vec<_> = (0..20)
            .map(|n| limits.try_begin(&format!("y{n}"), ip("10.0.0.9"), now))
            .collect();
        assert!(held.iter().all(Option::is_some));
        drop(held);
        // Twenty wrong names from one address: the address waits, whatever the name.
        for n in 0..20 {
            let attempt = limits.try_begin(&format!("x{n}"), ip("10.0.1.1"), now);
            attempt.unwrap().failed(now);
        }
        assert!(limits.try_begin("mai", ip("10.0.1.1"), now).is_none());
        let window_later = now + Duration::from_secs(900);
        assert!(
            limits
                .try_begin("mai", ip("10.0.1.1"), window_later)
                .is_some()
        );
        assert!(
            limits
                .try_begin("lan", ip("10.0.0.1"), window_later)
                .is_some()
        );
    }

    #[test]
    fn many_keys_are_swept_when_they_hold_nothing() {
        let limiter = AttemptLimiter::new(1, Duration::from_secs(1));
        let start = Instant::now();
        for n in 0..=SWEEP_ABOVE as u32 {
            limiter.try_begin(n, start).unwrap().failed(start);
        }
        let later = start + Duration::from_secs(2);
        assert!(limiter.try_begin(u32::MAX, later).is_some());
        assert!(limiter.records().len() <= 1);
    }
}
