//! When to try the server again after a failure: exponential backoff with jitter, capped at
//! five minutes, so a commune's tablets do not all knock at once when its network returns.

use rand::Rng;
use std::time::Duration;

/// The first wait after a failure.
pub const FIRST: Duration = Duration::from_secs(5);
/// The longest wait between two tries.
pub const CAP: Duration = Duration::from_secs(5 * 60);

/// Failures in a row since the last success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether the last try failed (the next waits for the backoff, not for new ratings).
    pub fn is_waiting(&self) -> bool {
        self.failures > 0
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Counts a failure and returns how long to wait before the next try: half of the
    /// doubled delay for sure, the other half drawn at random ("equal jitter").
    pub fn failed(&mut self, rng: &mut impl Rng) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.ceiling();
        let half = ceiling / 2;
        half + rng.random_range(Duration::ZERO..=ceiling - half)
    }

    /// The longest wait after the failures so far: 5 s, 10 s, 20 s, … up to 5 min.
    pub fn ceiling(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(16);
        FIRST.saturating_mul(1 << doublings).min(CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn waits_double_from_five_seconds_up_to_five_minutes() {
        let mut backoff = Backoff::default();
        let ceilings: Vec<u64> = (0..10)
            .map(|_| {
                backoff.failed(&mut StdRng::seed_from_u64(1));
                backoff.ceiling().as_secs()
            })
            .collect();
        assert_eq!(ceilings, [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]);
    }

    #[test]
    fn every_wait_lies_between_half_the_ceiling_and_the_ceiling() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut backoff = Backoff::default();
        for _ in 0..200 {
            let wait = backoff.failed(&mut rng);
            let ceiling = backoff.ceiling();
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "{wait:?} vs {ceiling:?}"
            );
        }
        assert_eq!(backoff.ceiling(), CAP);
    }

    #[test]
    fn jitter_spreads_tablets_that_failed_together() {
        let waits: std::collections::HashSet<Duration> = (0..20)
            .map(|seed| {
                let mut backoff = Backoff::default();
                for _ in 0..5 {
                    backoff.failed(&mut StdRng::seed_from_u64(seed));
                }
                backoff.failed(&mut StdRng::seed_from_u64(seed))
            })
            .collect();
        assert!(waits.len() > 15, "{waits:?}");
    }

    #[test]
    fn a_success_starts_again_from_the_first_wait() {
        let mut backoff = Backoff::default();
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..30 {
            backoff.failed(&mut rng);
        }
        assert!(backoff.is_waiting());
        backoff.succeeded();
        assert!(!backoff.is_waiting());
        assert!(backoff.failed(&mut rng) <= FIRST);
    }
}
