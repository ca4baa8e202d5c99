//! A stored rating in the wire form the commune server takes (`hailong_core::wire`). The
//! store keeps ratings whole; only sending knows the wire. Ratings stored before the tablet
//! kept each rating's scale or counter take the settings' ones (or the five-level scale, if
//! their level needs it).

use crate::store::DamagedPart;
use hailong_core::level::Scale;
use hailong_core::rating::Rating;
use hailong_core::reason::Reason;
use hailong_core::wire::{WireError, WireRating};

/// The code the server gives a rating whose `part` is damaged: the tablet refuses it with
/// that code itself, as sending it would only bring the same answer back.
pub fn damaged_code(part: DamagedPart) -> &'static str {
    match part {
        DamagedPart::Time => WireError::BadTime.code(),
        DamagedPart::Outcome => WireError::BadLevel.code(),
        DamagedPart::Reasons => WireError::BadReason(String::new()).code(),
        DamagedPart::Other => "damaged",
    }
}

/// `rating` as it is sent; `scale` and `counter` (the settings' now) only where it has none.
pub fn to_wire(rating: &Rating, scale: Scale, counter: &str) -> WireRating {
    let needs_five = rating
        .outcome
        .level()
        .is_some_and(|l| !Scale::Three.contains(l));
    let scale = match rating.scale {
        Some(kept) => kept,
        None if needs_five => Scale::Five,
        None => scale,
    };
    let counter = match &rating.counter {
        Some(kept) => Some(kept.clone()),
        None => Some(counter.trim().to_owned()).filter(|c| !c.is_empty()),
    };
    WireRating {
        id: rating.id.clone(),
        created_at: rating.recorded_at.to_rfc3339(),
        seq: rating.seq,
        scale: scale.number(),
        level: rating.outcome.code().to_owned(),
        reasons: rating
            .reasons
            .iter()
            .map(|r| Reason::code(*r).to_owned())
            .collect(),
        comment: rating.comment.clone(),
        dossier_code: rating.dossier.clone(),
        procedure_code: rating.procedure_code.clone(),
        procedure_name: rating.procedure_name.clone(),
        field_code: rating.field_code.clone(),
        field_name: rating.field_name.clone(),
        officer: rating.officer.as_ref().map(|o| o.name.clone()),
        officer_id: rating.officer.as_ref().map(|o| o.id),
        counter,
        tablet: None,
        doubtful_time: false,
        repeat_dossier: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hailong_core::level::Level;
    use hailong_core::rating::{OfficerRef, Outcome};

    fn stored(outcome: Outcome, scale: Option<Scale>, counter: Option<&str>) -> Rating {
        Rating {
            id: "01936f6e-8b7a-7c41-9a57-000000000001".into(),
            seq: 7,
            recorded_at: "2026-11-23T09:15:02+07:00".parse().unwrap(),
            outcome,
            first_outcome: None,
            reasons: vec![Reason::LongWait],
            comment: Some("Chờ lâu".into()),
            scale,
            dossier: Some("H56.22-261123-0001".into()),
            procedure_code: Some("1.001193".into()),
            procedure_name: Some("Đăng ký khai sinh".into()),
            field_code: Some("HT".into()),
            field_name: Some("Hộ tịch".into()),
            officer: Some(OfficerRef {
                id: 3,
                name: "Nguyễn Thị Lan".into(),
            }),
            counter: counter.map(Into::into),
            repeat_dossier: false,
            finished: true,
        }
    }

    #[test]
    fn a_rating_is_sent_with_the_scale_and_counter_it_was_given_at() {
        let rating = stored(
            Outcome::Rated(Level::Unsatisfied),
            Some(Scale::Five),
            Some("Quầy 1"),
        );
        let wire = to_wire(&rating, Scale::Three, "Quầy 9 (renamed)");
        assert_eq!(wire.scale, 5);
        assert_eq!(wire.counter.as_deref(), Some("Quầy 1"));
        assert_eq!(wire.reasons, ["long_wait"]);
        assert_eq!(wire.officer.as_deref(), Some("Nguyễn Thị Lan"));
        assert_eq!(wire.officer_id, Some(3));
        assert_eq!(wire.field_name.as_deref(), Some("Hộ tịch"));
        let checked = wire.check().expect("the server takes it");
        assert_eq!(checked.created_at, rating.recorded_at);
    }

    #[test]
    fn an_older_rating_without_them_takes_the_settings_or_the_scale_its_level_needs() {
        let old = stored(Outcome::Rated(Level::Satisfied), None, None);
        let wire = to_wire(&old, Scale::Three, " Quầy 2 ");
        assert_eq!((wire.scale, wire.counter.as_deref()), (3, Some("Quầy 2")));
        let five = stored(Outcome::Rated(Level::VeryUnsatisfied), None, None);
        assert_eq!(to_wire(&five, Scale::Three, "").scale, 5);
        assert_eq!(to_wire(&five, Scale::Three, "").counter, None);
        let unrated = stored(Outcome::NotRated, None, None);
        assert_eq!(to_wire(&unrated, Scale::Five, "Quầy 2").level, "not_rated");
    }
}
