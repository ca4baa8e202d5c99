//! Reasons asked after a negative level (from the official evaluation criteria).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MultipleTrips,
    Late,
    LongWait,
    Attitude,
    ExtraDocuments,
    UnofficialFees,
    UnclearGuidance,
    Other,
    /// The citizen left a negative rating without choosing any reason (the screen timed out).
    NotGiven,
}

impl Reason {
    /// The reasons a citizen can choose, in the order the chips are shown.
    pub const CHOICES: [Reason; 8] = [
        Reason::MultipleTrips,
        Reason::Late,
        Reason::LongWait,
        Reason::Attitude,
        Reason::ExtraDocuments,
        Reason::UnofficialFees,
        Reason::UnclearGuidance,
        Reason::Other,
    ];

    /// Every code a rating may carry: the choices, then "not given".
    pub const ALL: [Reason; 9] = {
        let mut all = [Reason::NotGiven; 9];
        let mut i = 0;
        while i < Reason::CHOICES.len() {
            all[i] = Reason::CHOICES[i];
            i += 1;
        }
        all
    };

    pub fn code(self) -> &'static str {
        match self {
            Reason::MultipleTrips => "multiple_trips",
            Reason::Late => "late",
            Reason::LongWait => "long_wait",
            Reason::Attitude => "attitude",
            Reason::ExtraDocuments => "extra_documents",
            Reason::UnofficialFees => "unofficial_fees",
            Reason::UnclearGuidance => "unclear_guidance",
            Reason::Other => "other",
            Reason::NotGiven => "not_given",
        }
    }

    /// Joins reasons as space-separated codes, in canonical order, each once.
    pub fn join(reasons: &[Reason]) -> String {
        let mut sorted = reasons.to_vec();
        sorted.sort();
        sorted.dedup();
        sorted
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Splits space-separated codes; unknown codes are an error.
    pub fn split(codes: &str) -> Result<Vec<Reason>, UnknownReason> {
        codes.split_whitespace().map(str::parse).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reason code {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_join_in_canonical_order_once_each_and_split_back() {
        let joined = Reason::join(&[Reason::Other, Reason::Late, Reason::Late]);
        assert_eq!(joined, "late other");
        assert_eq!(
            Reason::split(&joined),
            Ok(vec![Reason::Late, Reason::Other])
        );
        assert_eq!(Reason::split(""), Ok(vec![]));
        assert!(Reason::split("late rude").is_err());
    }

    #[test]
    fn not_given_is_a_code_but_never_a_choice() {
        assert!(!Reason::CHOICES.contains(&Reason::NotGiven));
        assert_eq!("not_given".parse(), Ok(Reason::NotGiven));
        assert_eq!(&Reason::ALL[..8], &Reason::CHOICES[..]);
    }

    #[test]
    fn every_glossary_code_parses() {
        for code in [
            "multiple_trips",
            "late",
            "long_wait",
            "attitude",
            "extra_documents",
            "unofficial_fees",
            "unclear_guidance",
            "other",
            "not_given",
        ] {
            assert_eq!(code.parse::<Reason>().map(Reason::code), Ok(code));
        }
    }
}
