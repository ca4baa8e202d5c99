//! Satisfaction levels and the scales (3 levels nationally, 5 in some surveys).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One satisfaction level. Stored by its [`code`](Level::code); labels live in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    VerySatisfied,
    Satisfied,
    Neutral,
    Unsatisfied,
    VeryUnsatisfied,
}

impl Level {
    /// All levels, best first.
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::Neutral,
        Level::Unsatisfied,
        Level::VeryUnsatisfied,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Level::VerySatisfied => "very_satisfied",
            Level::Satisfied => "satisfied",
            Level::Neutral => "neutral",
            Level::Unsatisfied => "unsatisfied",
            Level::VeryUnsatisfied => "very_unsatisfied",
        }
    }

    /// Negative levels ask the citizen for reasons.
    pub fn is_negative(self) -> bool {
        matches!(self, Level::Unsatisfied | Level::VeryUnsatisfied)
    }

    /// Levels that count toward tỷ lệ hài lòng.
    pub fn is_satisfied(self) -> bool {
        matches!(self, Level::VerySatisfied | Level::Satisfied)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level code {0:?}")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

/// The scale a unit uses: which levels the citizen sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Scale {
    #[default]
    #[serde(rename = "3")]
    Three,
    #[serde(rename = "5")]
    Five,
}

impl Scale {
    /// The levels in on-screen order, left to right (key 1 is the first).
    pub fn levels(self) -> &'static [Level] {
        match self {
            Scale::Three => &[Level::VerySatisfied, Level::Satisfied, Level::Unsatisfied],
            Scale::Five => &Level::ALL,
        }
    }

    pub fn contains(self, level: Level) -> bool {
        self.levels().contains(&level)
    }

    /// The level picked by key `n` (1-based, left to right), if the scale has one.
    pub fn level_for_key(self, n: usize) -> Option<Level> {
        n.checked_sub(1).and_then(|i| self.levels().get(i).copied())
    }

    /// The official score of a level on the 3-level scale (2, 1, 0); the 5-level scale has none.
    pub fn score(self, level: Level) -> Option<u8> {
        match (self, level) {
            (Scale::Three, Level::VerySatisfied) => Some(2),
            (Scale::Three, Level::Satisfied) => Some(1),
            (Scale::Three, Level::Unsatisfied) => Some(0),
            _ => None,
        }
    }

    pub fn number(self) -> u8 {
        self.levels().len() as u8
    }

    /// The scale with `n` levels, if there is one.
    pub fn from_number(n: u8) -> Option<Scale> {
        match n {
            3 => Some(Scale::Three),
            5 => Some(Scale::Five),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a scale has 3 or 5 levels, not {0:?}")]
pub struct UnknownScale(pub String);

impl FromStr for Scale {
    type Err = UnknownScale;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "3" => Ok(Scale::Three),
            "5" => Ok(Scale::Five),
            other => Err(UnknownScale(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_level_scale_is_very_satisfied_satisfied_unsatisfied_left_to_right() {
        assert_eq!(
            Scale::Three.levels(),
            &[Level::VerySatisfied, Level::Satisfied, Level::Unsatisfied]
        );
        assert_eq!(Scale::Three.level_for_key(1), Some(Level::VerySatisfied));
        assert_eq!(Scale::Three.level_for_key(3), Some(Level::Unsatisfied));
        assert_eq!(Scale::Three.level_for_key(4), None);
        assert_eq!(Scale::Three.level_for_key(0), None);
    }

    #[test]
    fn five_level_scale_has_every_level_and_keys_one_to_five() {
        assert_eq!(Scale::Five.levels().len(), 5);
        assert_eq!(Scale::Five.level_for_key(3), Some(Level::Neutral));
        assert_eq!(Scale::Five.level_for_key(5), Some(Level::VeryUnsatisfied));
        assert!(!Scale::Three.contains(Level::Neutral));
    }

    #[test]
    fn only_unsatisfied_levels_are_negative_and_only_the_top_two_count_as_satisfied() {
        let negative: Vec<_> = Level::ALL.into_iter().filter(|l| l.is_negative()).collect();
        assert_eq!(negative, [Level::Unsatisfied, Level::VeryUnsatisfied]);
        let satisfied: Vec<_> = Level::ALL
            .into_iter()
            .filter(|l| l.is_satisfied())
            .collect();
        assert_eq!(satisfied, [Level::VerySatisfied, Level::Satisfied]);
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for level in Level::ALL {
            assert_eq!(level.code().parse::<Level>(), Ok(level));
        }
        assert!("happy".parse::<Level>().is_err());
        assert_eq!("5".parse::<Scale>(), Ok(Scale::Five));
        assert!("4".parse::<Scale>().is_err());
    }

    #[test]
    fn three_level_scores_are_two_one_zero() {
        assert_eq!(Scale::Three.score(Level::VerySatisfied), Some(2));
        assert_eq!(Scale::Three.score(Level::Satisfied), Some(1));
        assert_eq!(Scale::Three.score(Level::Unsatisfied), Some(0));
        assert_eq!(Scale::Five.score(Level::Satisfied), None);
    }
}
