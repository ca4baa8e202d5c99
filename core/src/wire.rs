//! Ratings on the wire between a tablet and its commune server (`POST /api/v1/ratings/batch`),
//! and the checks the server makes before it keeps one.
//!
//! The device and commune are never part of a rating: the server takes them from the token.

use crate::dossier::DossierCode;
use crate::level::{Level, Scale};
use crate::rating::Outcome;
use crate::reason::Reason;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Most ratings in one batch.
pub const MAX_BATCH: usize = 500;
/// Largest batch body, in bytes.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Longest comment kept.
pub const MAX_COMMENT_CHARS: usize = 500;
/// Longest free-text field (names, codes).
const MAX_TEXT_CHARS: usize = 300;

/// One rating as sent. Fields beyond the required ones may be absent or null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRating {
    /// UUID made on the tablet (v7): the rating's identity everywhere.
    #[serde(default)]
    pub id: String,
    /// Wall-clock time of the tap on the tablet, RFC 3339 with its UTC offset.
    #[serde(default)]
    pub created_at: String,
    /// The tablet's sequence number.
    #[serde(default)]
    pub seq: i64,
    /// 3 or 5.
    #[serde(default)]
    pub scale: u8,
    /// A level code, or `not_rated` for an armed dossier nobody rated.
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub dossier_code: Option<String>,
    #[serde(default)]
    pub procedure_code: Option<String>,
    #[serde(default)]
    pub procedure_name: Option<String>,
    #[serde(default)]
    pub field_code: Option<String>,
    #[serde(default)]
    pub field_name: Option<String>,
    /// The officer's name as shown on the tablet.
    #[serde(default)]
    pub officer: Option<String>,
    /// The officer's id on the tablet.
    #[serde(default)]
    pub officer_id: Option<i64>,
    #[serde(default)]
    pub counter: Option<String>,
    /// Forwarded by a commune server: the id of the tablet it came from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablet: Option<String>,
    /// Forwarded by a commune server that found its time doubtful (the tablet's clock).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub doubtful_time: bool,
    /// Forwarded by a commune server that counted it apart, as a repeat of a dossier already
    /// rated there: its province counts it as the commune did, in whatever order the batches
    /// land (several are in flight at once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat_dossier: bool,
}

/// Why a rating was rejected; `code()` goes into the batch result's `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the id is missing or not a UUID")]
    BadId,
    #[error("created_at is not an RFC 3339 time with an offset")]
    BadTime,
    #[error("the scale is not 3 or 5")]
    BadScale,
    #[error("the level is not a level of the scale")]
    BadLevel,
    #[error("unknown reason {0:?}")]
    BadReason(String),
    #[error("reasons are given only for a negative level")]
    UnexpectedReasons,
    #[error("the dossier code is not valid")]
    BadDossier,
    #[error("a text field is too long")]
    TooLong,
}

impl WireError {
    pub fn code(&self) -> &'static str {
        match self {
            WireError::BadId => "bad_id",
            WireError::BadTime => "bad_created_at",
            WireError::BadScale => "bad_scale",
            WireError::BadLevel => "bad_level",
            WireError::BadReason(_) => "bad_reason",
            WireError::UnexpectedReasons => "unexpected_reasons",
            WireError::BadDossier => "bad_dossier_code",
            WireError::TooLong => "too_long",
        }
    }
}

/// A rating that passed every check, with its parsed parts.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedRating {
    pub wire: WireRating,
    pub created_at: DateTime<FixedOffset>,
    pub scale: Scale,
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
}

/// The most bytes `text` takes as a JSON string: its quotes, and escapes (`\"`, `\\`, and
/// `\u00XX` for a control character).
fn json_text_bound(text: &str) -> usize {
    let escaped = text
        .bytes()
        .filter(|b| *b < 0x20 || *b == b'"' || *b == b'\\')
        .count();
    2 + text.len() + 5 * escaped
}

/// Bytes a rating's keys, numbers, nulls and flags take in JSON, at most (its texts apart).
const JSON_FRAME_BOUND: usize = 420;

impl WireRating {
    /// The most bytes this rating takes in a batch's JSON: senders fill batches up to a byte
    /// budget with it (a batch over [`MAX_BATCH_BYTES`] is refused), cheaply, without writing it.
    pub fn json_len_bound(&self) -> usize {
        let texts = std::iter::once(&self.comment).chain(self.texts());
        JSON_FRAME_BOUND
            + json_text_bound(&self.id)
            + json_text_bound(&self.created_at)
            + json_text_bound(&self.level)
            + self
                .reasons
                .iter()
                .map(|r| json_text_bound(r) + 1)
                .sum::<usize>()
            + texts
                .map(|t| t.as_deref().map_or(0, json_text_bound))
                .sum::<usize>()
    }

    /// The optional texts but the comment, each at most [`MAX_TEXT_CHARS`].
    fn texts(&self) -> [&Option<String>; 8] {
        [
            &self.dossier_code,
            &self.procedure_code,
            &self.procedure_name,
            &self.field_code,
            &self.field_name,
            &self.officer,
            &self.counter,
            &self.tablet,
        ]
    }

    /// Checks every field; trims texts and drops empty ones; masks phone and citizen-ID
    /// numbers in the comment.
    pub fn check(mut self) -> Result<CheckedRating, WireError> {
        if !is_uuid(&self.id) {
            return Err(WireError::BadId);
        }
        self.id.make_ascii_lowercase();
        let created_at =
            DateTime::parse_from_rfc3339(&self.created_at).map_err(|_| WireError::BadTime)?;
        let scale = Scale::from_number(self.scale).ok_or(WireError::BadScale)?;
        let outcome = Outcome::parse(&self.level).ok_or(WireError::BadLevel)?;
        if let Outcome::Rated(level) = outcome
            && !scale.contains(level)
        {
            return Err(WireError::BadLevel);
        }
        let reasons = self
            .reasons
            .iter()
            .map(|code| {
                code.parse::<Reason>()
                    .map_err(|_| WireError::BadReason(code.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !reasons.is_empty() && !outcome.level().is_some_and(Level::is_negative) {
            return Err(WireError::UnexpectedReasons);
        }
        for text in [
            &mut self.comment,
            &mut self.dossier_code,
            &mut self.procedure_code,
            &mut self.procedure_name,
            &mut self.field_code,
            &mut self.field_name,
            &mut self.officer,
            &mut self.counter,
            &mut self.tablet,
        ] {
            *text = text.take().and_then(trimmed);
        }
        // A tablet masks personal numbers before storing; a ratings sender may not have.
        self.comment = self
            .comment
            .take()
            .map(|c| crate::privacy::mask_personal_numbers(&c));
        if self
            .comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
        {
            return Err(WireError::TooLong);
        }
        if self.texts().iter().any(|t| {
            t.as_ref()
                .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
        }) {
            return Err(WireError::TooLong);
        }
        if let Some(code) = self.dossier_code.take() {
            self.dossier_code =
                Some(DossierCode::normalise_stored(code).map_err(|_| WireError::BadDossier)?);
        }
        Ok(CheckedRating {
            wire: self,
            created_at,
            scale,
            outcome,
            reasons,
        })
    }
}

impl CheckedRating {
    /// The rating's content in one canonical string: equal strings mean the same rating, so a
    /// resend is a duplicate and anything else under the same id is a conflict.
    ///
    /// The string is the JSON of the wire rating with the parsed time and reasons written back,
    /// field for field; servers compare it with fingerprints stored by earlier versions.
    pub fn fingerprint(&self) -> String {
        let w = &self.wire;
        let canonical = Canonical {
            id: &w.id,
            created_at: self.created_at.to_rfc3339(),
            seq: w.seq,
            scale: w.scale,
            level: &w.level,
            reasons: self.reasons.iter().map(|r| r.code()).collect(),
            comment: &w.comment,
            dossier_code: &w.dossier_code,
            procedure_code: &w.procedure_code,
            procedure_name: &w.procedure_name,
            field_code: &w.field_code,
            field_name: &w.field_name,
            officer: &w.officer,
            officer_id: w.officer_id,
            counter: &w.counter,
        };
        serde_json::to_string(&canonical).unwrap_or_default()
    }
}

/// `WireRating`'s fields in its order, borrowed: serialises to the same JSON without a copy.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    created_at: String,
    seq: i64,
    scale: u8,
    level: &'a str,
    reasons: Vec<&'static str>,
    comment: &'a Option<String>,
    dossier_code: &'a Option<String>,
    procedure_code: &'a Option<String>,
    procedure_name: &'a Option<String>,
    field_code: &'a Option<String>,
    field_name: &'a Option<String>,
    officer: &'a Option<String>,
    officer_id: Option<i64>,
    counter: &'a Option<String>,
}

/// `text` without the white space around it, if anything is left (kept as it is when there
/// was none: most texts come trimmed already).
fn trimmed(text: String) -> Option<String> {
    match text.trim() {
        "" => None,
        kept if kept.len() == text.len() => Some(text),
        kept => Some(kept.to_owned()),
    }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A press that came too soon after a rating: not a rating, but counted as misuse in the
/// summaries. Sent beside the ratings; the server keeps each id once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMisuse {
    pub id: String,
    pub created_at: String,
}

impl WireMisuse {
    /// The most bytes this press takes in a batch's JSON.
    pub fn json_len_bound(&self) -> usize {
        // {"id":,"created_at":}
        22 + json_text_bound(&self.id) + json_text_bound(&self.created_at)
    }

    /// The press's time, if the id and time are well formed.
    pub fn check(&self) -> Result<DateTime<FixedOffset>, WireError> {
        if !is_uuid(&self.id) {
            return Err(WireError::BadId);
        }
        DateTime::parse_from_rfc3339(&self.created_at).map_err(|_| WireError::BadTime)
    }
}

/// Most misuse presses per request.
pub const MAX_MISUSE: usize = 1000;

/// The body of `POST /api/v1/ratings/batch`, as a tablet sends it (borrowing its ratings).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Batch<'a> {
    pub ratings: &'a [WireRating],
    #[serde(skip_serializing_if = "<[WireMisuse]>::is_empty")]
    pub misuse: &'a [WireMisuse],
    /// Ratings still waiting on the tablet after this batch: shown on the server's devices page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
    /// The tablet's clock as it sends the batch (RFC 3339): the server's clock against it is the
    /// tablet's clock skew. A rating's own time cannot say: it may be hours old, from a backlog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<&'a str>,
    /// The highest receipt (see [`ItemResult::receipt`]) among the ratings the tablet holds as
    /// sent. A server restored from a backup has given fewer: it answers with
    /// [`BatchResult::resend_after`], and the tablet sends the rest again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_through: Option<u64>,
    /// The sending program's version (a tablet's `hailong`, a commune's `hailong-server`):
    /// the dashboard's tablets page shows it, so an IT officer sees which counters to update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<&'a str>,
    /// The batch's place among those a tablet sends in one pass, several at once: a server
    /// that says it keeps order ([`BatchResult::in_order`]) writes them in this order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
}

/// A batch's place in its sender's pass: a pass is a random number, its batches are numbered
/// 0, 1, 2… A server writes part `n` of a pass only after part `n − 1` of the same pass, and
/// answers 409 if that one never came or was not stored; a part 0 starts a new pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub pass: u64,
    pub part: u32,
}

/// A program's version as a batch says it: 1 to 32 of `0-9 A-Z a-z . + - ~`, as in
/// `0.1.0` or `1.2.0~rc1`. Fixed-size, so what holds one stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppVersion {
    bytes: [u8; AppVersion::MAX],
    len: u8,
}

impl AppVersion {
    pub const MAX: usize = 32;

    /// `text` as a version, or none if it is not one.
    pub fn parse(text: &str) -> Option<AppVersion> {
        let ok = (1..=Self::MAX).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".+-~".contains(&b));
        ok.then(|| {
            let mut bytes = [0; Self::MAX];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            AppVersion {
                bytes,
                len: text.len() as u8,
            }
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// What the server did with one rating of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Stored now.
    Accepted,
    /// Already stored with the same content: a success for the tablet.
    Duplicate,
    /// Already stored with other content: the first version stands, this one is logged.
    Conflict,
    /// Invalid; `error` says why. Resending it will not help.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server's number for the rating it holds: per device, 1, 2, 3… in the order the
    /// server took them (none for a rejected rating, or one taken before receipts existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResult {
    pub results: Vec<ItemResult>,
    /// How many of the request's misuse presses the server now holds (or dropped as malformed):
    /// all of them, once the answer arrives.
    #[serde(default)]
    pub misuse_received: u64,
    /// Present when the batch's `acked_through` is above what the server holds (it was
    /// restored from a backup): the server holds this device's ratings only through this
    /// receipt, and those the tablet holds as sent with a receipt above it, up to its
    /// `acked_through`, must be sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<u64>,
    /// The server writes a pass's batches in the order of their [`Order`]: the sender may
    /// have several at the server at once. (An older server leaves it out: one at a time.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_order: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_a_short_plain_word() {
        for good in ["0.1.0", "1.2.0~rc1", "2026.12+deb12u1", &"9".repeat(32)] {
            assert_eq!(
                AppVersion::parse(good).map(|v| v.as_str().to_owned()),
                Some(good.to_owned())
            );
        }
        for bad in ["", &"9".repeat(33), "0.1 0", "0.1.0\n", "<b>", "phiên bản"] {
            assert_eq!(AppVersion::parse(bad), None, "{bad:?}");
        }
    }

    fn sample() -> WireRating {
        WireRating {
            id: "01936f6e-8b7a-7c41-9a57-3f3c2d1e0a11".into(),
            created_at: "2026-11-23T09:15:02+07:00".into(),
            seq: 42,
            scale: 3,
            level: "very_satisfied".into(),
            reasons: vec![],
            comment: None,
            dossier_code: Some("000.17.22.H56-210531-0001".into()),
            procedure_code: Some("1.001193".into()),
            procedure_name: None,
            field_code: None,
            field_name: None,
            officer: Some("Nguyễn Văn A".into()),
            officer_id: None,
            counter: Some("Quầy 1".into()),
            tablet: None,
            doubtful_time: false,
            repeat_dossier: false,
        }
    }

    #[test]
    fn a_rating_s_json_is_never_longer_than_its_bound_and_not_much_shorter() {
        let typical = sample();
        let len = serde_json::to_vec(&typical).unwrap().len();
        assert!(typical.json_len_bound() >= len);
        assert!(
            typical.json_len_bound() <= len + 450,
            "{} for {len}",
            typical.json_len_bound()
        );

        // Every text at its longest, full of what JSON escapes, every flag and number at its widest.
        let nasty = "\"\\\u{1}\nỗ".repeat(60);
        let worst = WireRating {
            seq: i64::MIN,
            reasons: vec![nasty.clone(); 8],
            comment: Some(nasty.clone()),
            dossier_code: Some(nasty.clone()),
            procedure_code: Some(nasty.clone()),
            procedure_name: Some(nasty.clone()),
            field_code: Some(nasty.clone()),
            field_name: Some(nasty.clone()),
            officer: Some(nasty.clone()),
            officer_id: Some(i64::MIN),
            counter: Some(nasty.clone()),
            tablet: Some(nasty.clone()),
            doubtful_time: true,
            repeat_dossier: true,
            ..sample()
        };
        assert!(worst.json_len_bound() >= serde_json::to_vec(&worst).unwrap().len());
        let bare = WireRating {
            dossier_code: None,
            procedure_code: None,
            officer: None,
            counter: None,
            ..sample()
        };
        assert!(bare.json_len_bound() >= serde_json::to_vec(&bare).unwrap().len());
        let press = WireMisuse {
            id: worst.id.clone(),
            created_at: nasty,
        };
        assert!(press.json_len_bound() >= serde_json::to_vec(&press).unwrap().len());
    }

    #[test]
    fn the_issue_example_parses_and_passes() {
        let json = r#"{"id": "01936f6e-8b7a-7c41-9a57-3f3c2d1e0a11", "created_at": "2026-11-23T09:15:02+07:00",
            "seq": 42, "scale": 3, "level": "very_satisfied", "reasons": [], "comment": null,
            "dossier_code": "000.17.22.H56-210531-0001", "procedure_code": "1.001193",
            "officer": "Nguyễn Văn A", "counter": "Quầy 1"}"#;
        let wire: WireRating = serde_json::from_str(json).unwrap();
        assert_eq!(wire, sample());
        let checked = wire.check().unwrap();
        assert_eq!(checked.outcome, Outcome::Rated(Level::VerySatisfied));
    }

    #[test]
    fn each_bad_field_is_rejected_with_its_code() {
        type Spoil = fn(&mut WireRating);
        let cases: Vec<(Spoil, &str)> = vec![
            (|w| w.id = String::new(), "bad_id"),
            (|w| w.id = "not-a-uuid".into(), "bad_id"),
            (
                |w| w.id = "01936f6e8-b7a-7c41-9a57-3f3c2d1e0a11".into(),
                "bad_id",
            ),
            (
                |w| w.id = "01936f6e-8b7a-7c41-9a57-3f3c2d1e0a1g".into(),
                "bad_id",
            ),
            (
                |w| w.id = "01936f6e-8b7a-7c41-9a57-3f3c2d1e0a111".into(),
                "bad_id",
            ),
            (
                |w| w.created_at = "2026-11-23 09:15".into(),
                "bad_created_at",
            ),
            (|w| w.scale = 4, "bad_scale"),
            (|w| w.level = "happy".into(), "bad_level"),
            (|w| w.level = "neutral".into(), "bad_level"),
            (|w| w.reasons = vec!["late".into()], "unexpected_reasons"),
            (
                |w| {
                    w.level = "unsatisfied".into();
                    w.reasons = vec!["rude".into()];
                },
                "bad_reason",
            ),
            (|w| w.dossier_code = Some("ABC".into()), "bad_dossier_code"),
            (|w| w.comment = Some("x".repeat(501)), "too_long"),
        ];
        for (spoil, code) in cases {
            let mut wire = sample();
            spoil(&mut wire);
            assert_eq!(wire.check().unwrap_err().code(), code);
        }
        let mut unrated = sample();
        unrated.level = "not_rated".into();
        assert_eq!(unrated.check().unwrap().outcome, Outcome::NotRated);
    }

    #[test]
    fn the_fingerprint_ignores_form_and_sees_content() {
        let a = sample().check().unwrap();
        let mut same = sample();
        same.id = same.id.to_uppercase();
        same.comment = Some("  ".into());
        same.officer = Some(" Nguyễn Văn A\t".into());
        same.dossier_code = Some(" 000.17.22.h56-210531-0001".into());
        assert_eq!(same.check().unwrap().fingerprint(), a.fingerprint());
        let mut other = sample();
        other.level = "satisfied".into();
        assert_ne!(other.check().unwrap().fingerprint(), a.fingerprint());
    }

    #[test]
    fn the_fingerprint_is_the_json_of_the_canonical_wire_rating() {
        // Fingerprints are stored: the borrowed form must write what a full copy writes.
        let mut wire = sample();
        wire.level = "unsatisfied".into();
        wire.reasons = vec!["long_wait".into(), "late".into()];
        wire.comment = Some("Chờ \"lâu\" quá".into());
        wire.officer_id = Some(7);
        wire.created_at = "2026-11-23T09:15:02.250+07:00".into();
        let checked = wire.check().unwrap();
        let mut copy = checked.wire.clone();
        copy.created_at = checked.created_at.to_rfc3339();
        copy.reasons = checked
            .reasons
            .iter()
            .map(|r| r.code().to_owned())
            .collect();
        assert_eq!(checked.fingerprint(), serde_json::to_string(&copy).unwrap());
    }
}
