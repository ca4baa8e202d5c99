//! Writing ratings: the tap, the reasons that amend it, finishing, unrated dossiers, misuse.

use super::outbox::DamagedPart;
use super::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use hailong_core::dossier::DossierCode;
use hailong_core::level::{Level, Scale};
use hailong_core::procedure::Procedure;
use hailong_core::rating::{OfficerRef, Outcome, Rating, is_repeat};
use hailong_core::reason::Reason;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

/// A tap (or an expired armed dossier) about to be stored.
#[derive(Debug, Clone)]
pub struct NewRating<'a> {
    pub at: DateTime<FixedOffset>,
    /// The scale shown when it was given (settings may change later).
    pub scale: Scale,
    pub outcome: Outcome,
    pub dossier: Option<&'a DossierCode>,
    pub procedure: Option<&'a Procedure>,
    pub officer: Option<&'a OfficerRef>,
    /// The counter the tablet stands at, as it is named now.
    pub counter: &'a str,
    /// Finished ratings are ready to send; a tap stays open while the citizen may still choose
    /// again or give reasons.
    pub finished: bool,
}

/// What the store assigned to a new rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: String,
    pub seq: i64,
    /// The dossier had already been rated on this tablet: stored, flagged, not counted.
    pub repeat_dossier: bool,
}

pub(super) const RATING_COLUMNS: &str = "id, seq, recorded_at, outcome, reasons, comment, dossier, \
    procedure_code, officer_id, officer_name, repeat_dossier, finished, first_outcome, scale, \
    procedure_name, field_code, field_name, counter";

impl Store {
    /// Stores one rating in its own durable transaction.
    pub fn record(&mut self, rating: &NewRating<'_>) -> Result<Recorded, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let dossier = rating.dossier.map(ToString::to_string);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let repeat_dossier = is_repeat(dossier.as_deref(), rating.outcome, |code| {
            tx.prepare_cached(
                "SELECT 1 FROM ratings WHERE dossier = ?1 AND outcome <> 'not_rated' LIMIT 1",
            )?
            .exists([code])
        })?;
        tx.prepare_cached(
            "INSERT INTO ratings (id, recorded_at, local_date, outcome, dossier, procedure_code, procedure_name,
                 field_code, field_name, officer_id, officer_name, repeat_dossier, finished, scale,
                 counter)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            id,
            rating.at.to_rfc3339(),
            rating.at.date_naive().to_string(),
            rating.outcome.code(),
            dossier,
            rating.procedure.map(|p| &p.code),
            rating.procedure.map(|p| &p.name),
            rating.procedure.map(|p| &p.field_code),
            rating.procedure.map(|p| &p.field_name),
            rating.officer.map(|o| o.id),
            rating.officer.map(|o| &o.name),
            repeat_dossier,
            rating.finished,
            rating.scale.number(),
            Some(rating.counter.trim()).filter(|c| !c.is_empty()),
        ])?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Recorded {
            id,
            seq,
            repeat_dossier,
        })
    }

    /// Adds the reasons and comment to a tapped, unfinished rating, finishing it if `finish`
    /// (otherwise the citizen may still choose again).
    pub fn amend_reasons(
        &mut self,
        id: &str,
        reasons: &[Reason],
        comment: Option<&str>,
        finish: bool,
    ) -> Result<(), StoreError> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx
            .prepare_cached(
                "UPDATE ratings SET reasons = ?2, comment = ?3, finished = ?4
                 WHERE id = ?1 AND finished = 0",
            )?
            .execute(params![id, Reason::join(reasons), comment, finish])?;
        if changed == 0 {
            return Err(StoreError::NoSuchRating(id.to_owned()));
        }
        tx.commit()?;
        Ok(())
    }

    /// The citizen chose again: the unfinished rating `id` takes `level` in one durable
    /// transaction, dropping reasons and comment given for the old one; the level first tapped
    /// is kept. A finished rating (it may have been sent) is never changed.
    pub fn amend_level(&mut self, id: &str, level: Level) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx
            .prepare_cached(
                "UPDATE ratings SET first_outcome = COALESCE(first_outcome, outcome),
                     outcome = ?2, reasons = '', comment = NULL
                 WHERE id = ?1 AND finished = 0 AND outcome <> 'not_rated'",
            )?
            .execute(params![id, level.code()])?;
        if changed == 0 {
            return Err(StoreError::NoSuchRating(id.to_owned()));
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks one rating finished (its follow-up timed out).
    pub fn finish(&mut self, id: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("UPDATE ratings SET finished = 1 WHERE id = ?1")?
            .execute([id])?;
        tx.commit()?;
        Ok(())
    }

    /// Finishes every rating left unfinished (at start-up); returns how many.
    pub fn finish_unfinished(&mut self) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute("UPDATE ratings SET finished = 1 WHERE finished = 0", [])?;
        tx.commit()?;
        Ok(n)
    }

    /// Records a press ignored for coming too soon after the last rating.
    pub fn record_misuse(&mut self, at: DateTime<FixedOffset>) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO misuse (id, recorded_at, local_date) VALUES (?1, ?2, ?3)")?
            .execute(params![
                uuid::Uuid::now_v7().to_string(),
                at.to_rfc3339(),
                at.date_naive().to_string()
            ])?;
        tx.commit()?;
        Ok(())
    }

    /// When this dossier was first rated on this tablet, if it was.
    pub fn dossier_rated_at(
        &self,
        dossier: &DossierCode,
    ) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let at: Option<String> = self
            .conn
            .prepare_cached("SELECT recorded_at FROM ratings WHERE dossier = ?1 AND outcome <> 'not_rated' ORDER BY seq LIMIT 1")?
            .query_row([dossier.to_string()], |r| r.get(0))
            .optional()?;
        Ok(at.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()))
    }

    /// One rating by id.
    pub fn rating(&self, id: &str) -> Result<Rating, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {RATING_COLUMNS} FROM ratings WHERE id = ?1"
            ))?
            .query_row([id], rating_from_row)
            .optional()?
            .ok_or_else(|| StoreError::NoSuchRating(id.to_owned()))
    }

    /// The latest negative ratings, newest first (repeats included, flagged).
    pub fn latest_negative(&self, limit: usize) -> Result<Vec<Rating>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RATING_COLUMNS} FROM ratings
             WHERE outcome IN ('unsatisfied', 'very_unsatisfied') ORDER BY seq DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], rating_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Which part of a row of `RATING_COLUMNS` did not read, when `rating_from_row` failed on its
/// content (`None` for any other failure, such as the database's own).
pub(super) fn damaged_part(error: &rusqlite::Error) -> Option<DamagedPart> {
    match error {
        rusqlite::Error::FromSqlConversionFailure(column, ..) => Some(match column {
            2 => DamagedPart::Time,
            3 => DamagedPart::Outcome,
            4 => DamagedPart::Reasons,
            _ => DamagedPart::Other,
        }),
        _ => None,
    }
}

pub(super) fn rating_from_row(row: &Row<'_>) -> rusqlite::Result<Rating> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            what.to_owned().into(),
        )
    };
    let recorded_at: String = row.get(2)?;
    let outcome: String = row.get(3)?;
    let reasons: String = row.get(4)?;
    let officer_id: Option<i64> = row.get(8)?;
    let officer_name: Option<String> = row.get(9)?;
    let first_outcome: Option<String> = row.get(12)?;
    let scale: Option<u8> = row.get(13)?;
    Ok(Rating {
        id: row.get(0)?,
        seq: row.get(1)?,
        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
            .map_err(|_| bad(2, "bad timestamp"))?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| bad(3, "unknown outcome"))?,
        first_outcome: first_outcome.as_deref().and_then(Outcome::parse),
        reasons: Reason::split(&reasons).map_err(|_| bad(4, "unknown reason"))?,
        comment: row.get(5)?,
        scale: scale.and_then(Scale::from_number),
        dossier: row.get(6)?,
        procedure_code: row.get(7)?,
        procedure_name: row.get(14)?,
        field_code: row.get(15)?,
        field_name: row.get(16)?,
        officer: officer_id.map(|id| OfficerRef {
            id,
            name: officer_name.unwrap_or_default(),
        }),
        counter: row.get(17)?,
        repeat_dossier: row.get(10)?,
        finished: row.get(11)?,
    })
}
