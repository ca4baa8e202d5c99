//! The rating record a tablet stores and, later, sends to its commune server.

use crate::level::{Level, Scale};
use crate::reason::Reason;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What happened at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "level")]
pub enum Outcome {
    /// The citizen tapped a level.
    Rated(Level),
    /// An officer armed a dossier and nobody rated it in time.
    NotRated,
}

impl Outcome {
    /// The stored code: a level code, or `not_rated`.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Rated(level) => level.code(),
            Outcome::NotRated => "not_rated",
        }
    }

    pub fn level(self) -> Option<Level> {
        match self {
            Outcome::Rated(level) => Some(level),
            Outcome::NotRated => None,
        }
    }

    pub fn parse(code: &str) -> Option<Outcome> {
        if code == "not_rated" {
            return Some(Outcome::NotRated);
        }
        code.parse().ok().map(Outcome::Rated)
    }
}

/// The repeat-dossier rule, the same on a tablet and on every server: a rating of `dossier`
/// with a level is a repeat (counted apart) when the dossier already has a rating with a level
/// there, as `rated_before` says (asked only then). An armed dossier nobody rated is no rating:
/// it is never a repeat and never makes one.
pub fn is_repeat<E>(
    dossier: Option<&str>,
    outcome: Outcome,
    rated_before: impl FnOnce(&str) -> Result<bool, E>,
) -> Result<bool, E> {
    match dossier {
        Some(dossier) if outcome.level().is_some() => rated_before(dossier),
        _ => Ok(false),
    }
}

/// The officer who armed the dossier, as they were named at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerRef {
    pub id: i64,
    pub name: String,
}

/// One rating, as stored on the tablet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// UUIDv7, made on the tablet.
    pub id: String,
    /// Per-tablet sequence number: order survives a wrong clock.
    pub seq: i64,
    /// Wall-clock time of the tap, with the tablet's UTC offset.
    pub recorded_at: DateTime<FixedOffset>,
    pub outcome: Outcome,
    /// The level first tapped, when the citizen chose again before the rating was finished
    /// (kept for audit; the rating counts as `outcome`).
    #[serde(default)]
    pub first_outcome: Option<Outcome>,
    pub reasons: Vec<Reason>,
    pub comment: Option<String>,
    /// The scale the citizen was shown; `None` for a rating stored before the tablet kept it.
    pub scale: Option<Scale>,
    /// Normalised dossier code; `None` for a walk-up rating.
    pub dossier: Option<String>,
    /// The dossier's procedure and field, as the catalogue named them at the time.
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub field_code: Option<String>,
    pub field_name: Option<String>,
    pub officer: Option<OfficerRef>,
    /// The counter the tablet stood at, as it was named then; `None` for a rating stored
    /// before the tablet kept it.
    pub counter: Option<String>,
    /// A second or later rating of the same dossier: kept, flagged, not counted.
    pub repeat_dossier: bool,
    /// Finished ratings (thank-you shown, or follow-up timed out) are ready to send.
    pub finished: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_codes_round_trip() {
        for outcome in [
            Outcome::Rated(Level::Satisfied),
            Outcome::NotRated,
            Outcome::Rated(Level::VeryUnsatisfied),
        ] {
            assert_eq!(Outcome::parse(outcome.code()), Some(outcome));
        }
        assert_eq!(Outcome::parse("maybe"), None);
    }

    #[test]
    fn only_a_rating_with_a_level_of_a_dossier_rated_before_is_a_repeat() {
        let rated = Outcome::Rated(Level::Satisfied);
        let asked = |before: bool| move |_: &str| Ok::<_, ()>(before);
        assert_eq!(is_repeat(Some("X"), rated, asked(true)), Ok(true));
        assert_eq!(is_repeat(Some("X"), rated, asked(false)), Ok(false));
        // Never asked for an armed dossier nobody rated, nor a rating without a dossier.
        let never = |_: &str| -> Result<bool, ()> { panic!("asked") };
        assert_eq!(is_repeat(Some("X"), Outcome::NotRated, never), Ok(false));
        assert_eq!(is_repeat(None, rated, never), Ok(false));
        assert_eq!(is_repeat(Some("X"), rated, |_| Err(())), Err(()));
    }
}
