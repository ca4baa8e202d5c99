//! A batch body as the server reads it (`POST /api/v1/ratings/batch`), each part on its own so
//! that one bad part never costs the rest:
//! - a rating of the wrong shape, or one that fails its checks, is rejected alone (with its id
//!   when it has one, so the tablet knows which);
//! - a malformed misuse press is dropped (resending it would not help);
//! - an unreadable `queued`, `sent_at`, `acked_through` or `app_version` is ignored.
//!
//! What was dropped or ignored is handed back for the log. Only a body that is not an object
//! with a `ratings` list, one over the limits, or one whose `order` is unreadable (its place
//! among the batches in flight cannot be guessed) is refused whole.

use crate::wire::{
    AppVersion, CheckedRating, MAX_BATCH, MAX_MISUSE, Order, WireMisuse, WireRating,
};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A batch as read.
#[derive(Debug)]
pub struct DecodedBatch {
    /// One per rating sent, in order.
    pub ratings: Vec<Result<CheckedRating, RejectedRating>>,
    /// The well-formed misuse presses.
    pub misuse: Vec<CheckedMisuse>,
    /// How many presses were sent, well-formed or not.
    pub misuse_sent: u64,
    pub queued: Option<u64>,
    pub sent_at: Option<DateTime<FixedOffset>>,
    pub acked_through: Option<u64>,
    pub app_version: Option<AppVersion>,
    pub order: Option<Order>,
    /// What was dropped or ignored, for the log.
    pub dropped: Vec<Dropped>,
}

/// A rating refused on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRating {
    /// Its id if it had a readable one, else empty.
    pub id: String,
    /// A `WireError` code, or `bad_shape`.
    pub error: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMisuse {
    pub id: String,
    pub at: DateTime<FixedOffset>,
}

/// A part of a batch left out: which (`misuse`, `queued`, `sent_at`, `acked_through`,
/// `app_version`), what it
/// held (as sent: escape it before printing), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub part: &'static str,
    pub value: String,
    pub error: &'static str,
}

/// A batch refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("at most {MAX_BATCH} ratings per batch")]
    TooManyRatings,
    #[error("at most {MAX_MISUSE} misuse presses per batch")]
    TooManyMisuse,
}

#[derive(Deserialize)]
struct RawBatch<'a> {
    #[serde(borrow)]
    ratings: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    misuse: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    queued: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sent_at: Option<&'a RawValue>,
    #[serde(default, borrow)]
    acked_through: Option<&'a RawValue>,
    #[serde(default, borrow)]
    app_version: Option<&'a RawValue>,
    #[serde(default)]
    order: Option<Order>,
}

/// Reads a batch body (see the module's doc).
pub fn decode_batch(bytes: &[u8]) -> Result<DecodedBatch, BatchError> {
    let batch: RawBatch<'_> =
        serde_json::from_slice(bytes).map_err(|e| BatchError::Malformed(e.to_string()))?;
    if batch.ratings.len() > MAX_BATCH {
        return Err(BatchError::TooManyRatings);
    }
    if batch.misuse.len() > MAX_MISUSE {
        return Err(BatchError::TooManyMisuse);
    }
    let mut dropped = Vec::new();
    let queued = count(&mut dropped, "queued", batch.queued);
    let acked_through = count(&mut dropped, "acked_through", batch.acked_through);
    let sent_at = batch.sent_at.and_then(|raw| {
        let text = match serde_json::from_str::<Option<String>>(raw.get()) {
            Ok(None) => return None,
            Ok(Some(text)) => text,
            Err(_) => raw.get().to_owned(),
        };
        let at = DateTime::parse_from_rfc3339(&text).ok();
        if at.is_none() {
            dropped.push(Dropped {
                part: "sent_at",
                value: text,
                error: "bad_time",
            });
        }
        at
    });
    let app_version = batch.app_version.and_then(|raw| {
        let text = match serde_json::from_str::<Option<String>>(raw.get()) {
            Ok(None) => return None,
            Ok(Some(text)) => text,
            Err(_) => raw.get().to_owned(),
        };
        let parsed = AppVersion::parse(&text);
        if parsed.is_none() {
            dropped.push(Dropped {
                part: "app_version",
                value: text,
                error: "bad_version",
            });
        }
        parsed
    });
    let misuse_sent = batch.misuse.len() as u64;
    let misuse = batch
        .misuse
        .into_iter()
        .filter_map(|raw| {
            let (value, error) = match serde_json::from_str::<WireMisuse>(raw.get()) {
                Ok(press) => match press.check() {
                    Ok(at) => return Some(CheckedMisuse { id: press.id, at }),
                    Err(e) => (press.id, e.code()),
                },
                Err(_) => (raw.get().to_owned(), "bad_shape"),
            };
            dropped.push(Dropped {
                part: "misuse",
                value,
                error,
            });
            None
        })
        .collect();
    let ratings = batch.ratings.into_iter().map(rating).collect();
    Ok(DecodedBatch {
        ratings,
        misuse,
        misuse_sent,
        queued,
        sent_at,
        acked_through,
        app_version,
        order: batch.order,
        dropped,
    })
}

/// One rating, checked; refused alone, with its id if it has one.
fn rating(raw: &RawValue) -> Result<CheckedRating, RejectedRating> {
    match serde_json::from_str::<WireRating>(raw.get()) {
        Ok(wire) => {
            let id = wire.id.clone();
            wire.check().map_err(|e| RejectedRating {
                id,
                error: e.code(),
            })
        }
        Err(_) => Err(RejectedRating {
            id: serde_json::from_str::<serde_json::Value>(raw.get())
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
                .unwrap_or_default(),
            error: "bad_shape",
        }),
    }
}

/// A count the database can hold (0 to 2^63 - 1), or `None`; anything else is noted dropped.
fn count(dropped: &mut Vec<Dropped>, part: &'static str, raw: Option<&RawValue>) -> Option<u64> {
    let raw = raw?;
    let value = serde_json::from_str::<Option<u64>>(raw.get())
        .ok()
        .flatten()
        .filter(|&n| i64::try_from(n).is_ok());
    if value.is_none() && raw.get() != "null" {
        dropped.push(Dropped {
            part,
            value: raw.get().to_owned(),
            error: "not_a_count",
        });
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(id: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "created_at": "2026-11-23T09:15:02+07:00", "seq": 1,
                           "scale": 3, "level": "satisfied"})
    }

    #[test]
    fn each_bad_part_costs_only_itself() {
        let good = "01936f6e-8b7a-7c41-9a57-000000000001";
        let body = serde_json::json!({
            "ratings": [rating(good), {"id": "x", "level": 7}, rating("not a uuid"), 5],
            "misuse": [{"created_at": "2026-11-23T09:15:02+07:00"},
                       {"id": "01936f6e-8b7a-7c41-9a57-00000000000f", "created_at": "2026-11-23T09:15:02+07:00"}],
            "queued": 1e30,
            "sent_at": "yesterday",
            "acked_through": 12,
            "app_version": "0.1.0\u{1b}[2J",
        });
        let batch = decode_batch(body.to_string().as_bytes()).unwrap();
        assert_eq!(batch.ratings.len(), 4);
        assert_eq!(batch.ratings[0].as_ref().unwrap().wire.id, good);
        assert_eq!(
            batch.ratings[1].as_ref().unwrap_err(),
            &RejectedRating {
                id: "x".into(),
                error: "bad_shape"
            }
        );
        assert_eq!(batch.ratings[2].as_ref().unwrap_err().error, "bad_id");
        assert_eq!(batch.ratings[3].as_ref().unwrap_err().id, "");
        assert_eq!(batch.misuse.len(), 1);
        assert_eq!(batch.misuse_sent, 2);
        assert_eq!((batch.queued, batch.sent_at), (None, None));
        assert_eq!(batch.acked_through, Some(12));
        let parts: Vec<&str> = batch.dropped.iter().map(|d| d.part).collect();
        assert_eq!(parts, ["queued", "sent_at", "app_version", "misuse"]);
        assert_eq!(batch.app_version, None);
        let versioned = decode_batch(br#"{"ratings": [], "app_version": "0.2.0"}"#).unwrap();
        assert_eq!(versioned.app_version.unwrap().as_str(), "0.2.0");
    }

    #[test]
    fn only_a_body_that_is_no_batch_or_too_big_is_refused_whole() {
        assert!(matches!(decode_batch(b"[]"), Err(BatchError::Malformed(_))));
        assert!(matches!(decode_batch(b"{}"), Err(BatchError::Malformed(_))));
        let many = serde_json::json!({ "ratings": vec![5; MAX_BATCH + 1] });
        assert_eq!(
            decode_batch(many.to_string().as_bytes()).unwrap_err(),
            BatchError::TooManyRatings
        );
        let empty = decode_batch(br#"{"ratings": [], "queued": null}"#).unwrap();
        assert!(empty.ratings.is_empty() && empty.dropped.is_empty());
        assert_eq!(
            empty.order, None,
            "a batch without a place is taken as it comes"
        );
    }

    #[test]
    fn a_batch_that_says_its_place_is_read_whole_or_refused() {
        let placed = decode_batch(br#"{"ratings": [], "order": {"pass": 7, "part": 2}}"#).unwrap();
        assert_eq!(placed.order, Some(Order { pass: 7, part: 2 }));
        for bad in [
            r#"{"ratings": [], "order": {"pass": 7}}"#,
            r#"{"ratings": [], "order": {"pass": -1, "part": 0}}"#,
            r#"{"ratings": [], "order": {"pass": 7, "part": 0, "after": 6}}"#,
            r#"{"ratings": [], "order": "first"}"#,
        ] {
            assert!(
                matches!(decode_batch(bad.as_bytes()), Err(BatchError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
