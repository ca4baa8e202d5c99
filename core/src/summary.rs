//! Summary arithmetic: counts per level, shares that add up to exactly 100.0, tỷ lệ hài lòng.

use crate::level::{Level, Scale};
use crate::rating::Outcome;
use serde::Serialize;

/// Counts for one report row (a period, an officer, a field…).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Counted ratings per level, in [`Level::ALL`] order; repeats of a dossier are not in here.
    pub levels: [u64; 5],
    /// Armed dossiers nobody rated in time.
    pub unrated: u64,
    /// Second and later ratings of a dossier: stored, flagged, left out of the levels.
    pub repeat_dossier: u64,
    /// Presses ignored because they came too soon after the last rating.
    pub misuse: u64,
}

impl Counts {
    pub fn add(&mut self, level: Level, n: u64) {
        self.levels[index(level)] += n;
    }

    /// Counts `n` of `outcome`: a level, unless it repeats a rated dossier (then
    /// `repeat_dossier`), or an armed dossier nobody rated.
    pub fn add_outcome(&mut self, outcome: Outcome, repeat_dossier: bool, n: u64) {
        match outcome {
            Outcome::Rated(_) if repeat_dossier => self.repeat_dossier += n,
            Outcome::Rated(level) => self.add(level, n),
            Outcome::NotRated => self.unrated += n,
        }
    }

    pub fn count(&self, level: Level) -> u64 {
        self.levels[index(level)]
    }

    /// Number of counted ratings (Số phiếu đánh giá).
    pub fn total(&self) -> u64 {
        self.levels.iter().sum()
    }

    pub fn satisfied(&self) -> u64 {
        Level::ALL
            .into_iter()
            .filter(|l| l.is_satisfied())
            .map(|l| self.count(l))
            .sum()
    }

    /// tỷ lệ hài lòng in tenths of a percent, rounded half up; `None` with no ratings.
    pub fn satisfied_tenths(&self) -> Option<u32> {
        ratio_tenths(self.satisfied(), self.total())
    }

    /// tỷ lệ hài lòng as a percentage with one decimal (87.5).
    pub fn satisfied_pct(&self) -> Option<f64> {
        self.satisfied_tenths().map(|t| f64::from(t) / 10.0)
    }

    /// Share of each level of `scale`, in tenths of a percent, adding up to exactly 1000.
    ///
    /// Every share but the largest is rounded; the largest takes the remainder, as the
    /// report rules ask. `None` with no ratings.
    pub fn shares_tenths(&self, scale: Scale) -> Option<Vec<(Level, u32)>> {
        let total: u64 = scale.levels().iter().map(|&l| self.count(l)).sum();
        if total == 0 {
            return None;
        }
        let largest = scale
            .levels()
            .iter()
            .copied()
            .max_by_key(|&l| (self.count(l), std::cmp::Reverse(index(l))))?;
        let mut shares: Vec<(Level, u32)> = scale
            .levels()
            .iter()
            .map(|&l| {
                (
                    l,
                    if l == largest {
                        0
                    } else {
                        ratio_tenths(self.count(l), total).unwrap_or(0)
                    },
                )
            })
            .collect();
        let others: u32 = shares.iter().map(|(_, t)| t).sum();
        if let Some(entry) = shares.iter_mut().find(|(l, _)| *l == largest) {
            entry.1 = 1000u32.saturating_sub(others);
        }
        Some(shares)
    }

    /// Share of dossiers armed by an officer that the citizen rated, in tenths of a percent.
    pub fn response_tenths(&self, rated_dossiers: u64) -> Option<u32> {
        ratio_tenths(rated_dossiers, rated_dossiers + self.unrated)
    }

    pub fn merge(&mut self, other: &Counts) {
        for (a, b) in self.levels.iter_mut().zip(other.levels) {
            *a += b;
        }
        self.unrated += other.unrated;
        self.repeat_dossier += other.repeat_dossier;
        self.misuse += other.misuse;
    }
}

fn index(level: Level) -> usize {
    Level::ALL.iter().position(|&l| l == level).unwrap_or(0)
}

/// `part / whole` in tenths of a percent, rounded half up, in integers (no float drift).
fn ratio_tenths(part: u64, whole: u64) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    let tenths = (u128::from(part) * 2000 + u128::from(whole)) / (2 * u128::from(whole));
    u32::try_from(tenths).ok()
}

/// Formats tenths of a percent as `87.5`.
pub fn format_tenths(tenths: u32) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(vs: u64, s: u64, u: u64) -> Counts {
        let mut c = Counts::default();
        c.add(Level::VerySatisfied, vs);
        c.add(Level::Satisfied, s);
        c.add(Level::Unsatisfied, u);
        c
    }

    fn sum(shares: &[(Level, u32)]) -> u32 {
        shares.iter().map(|(_, t)| t).sum()
    }

    #[test]
    fn thirds_add_up_to_exactly_one_hundred() {
        let shares = counts(1, 1, 1).shares_tenths(Scale::Three).unwrap();
        assert_eq!(sum(&shares), 1000);
        // Two rounded shares of 33.3, the largest (the first among equals) takes 33.4.
        assert_eq!(shares[0], (Level::VerySatisfied, 334));
        assert_eq!(shares[1], (Level::Satisfied, 333));
    }

    #[test]
    fn shares_add_up_to_one_hundred_for_every_small_combination() {
        for vs in 0..25 {
            for s in 0..25 {
                for u in 0..25 {
                    if let Some(shares) = counts(vs, s, u).shares_tenths(Scale::Three) {
                        assert_eq!(sum(&shares), 1000, "{vs} {s} {u}");
                    }
                }
            }
        }
        let mut five = counts(3, 7, 1);
        five.add(Level::Neutral, 2);
        five.add(Level::VeryUnsatisfied, 1);
        assert_eq!(sum(&five.shares_tenths(Scale::Five).unwrap()), 1000);
    }

    #[test]
    fn the_largest_share_takes_the_rounding_remainder() {
        // 2/7 = 28.57 -> 28.6, 1/7 = 14.29 -> 14.3, the largest (4/7 = 57.14) gets 57.1.
        let shares = counts(4, 2, 1).shares_tenths(Scale::Three).unwrap();
        assert_eq!(
            shares,
            vec![
                (Level::VerySatisfied, 571),
                (Level::Satisfied, 286),
                (Level::Unsatisfied, 143)
            ]
        );
    }

    #[test]
    fn satisfaction_ratio_counts_the_two_satisfied_levels() {
        let c = counts(5, 2, 1);
        assert_eq!(c.total(), 8);
        assert_eq!(c.satisfied_pct(), Some(87.5));
        assert_eq!(counts(0, 0, 0).satisfied_pct(), None);
        assert_eq!(counts(2, 0, 1).satisfied_tenths(), Some(667));
    }

    #[test]
    fn repeats_unrated_and_misuse_stay_out_of_the_total() {
        let mut c = counts(1, 1, 0);
        c.repeat_dossier = 4;
        c.unrated = 3;
        c.misuse = 9;
        assert_eq!(c.total(), 2);
        assert_eq!(c.satisfied_pct(), Some(100.0));
        assert_eq!(c.response_tenths(1), Some(250));
    }

    #[test]
    fn tenths_are_formatted_with_one_decimal() {
        assert_eq!(format_tenths(875), "87.5");
        assert_eq!(format_tenths(1000), "100.0");
        assert_eq!(format_tenths(3), "0.3");
    }
}
