//! The report administrators file, as one model every format is drawn from: counts for a period,
//! the same by month, field, procedure, officer (and device, on the server), every negative
//! rating, and the entries of the per-dossier list.

use crate::level::{Level, Scale};
use crate::period::ReportPeriod;
use crate::rating::Outcome;
use crate::reason::Reason;
use crate::summary::{Counts, format_tenths};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

mod appraisal;

pub use appraisal::{Appraisal, Figures, ReasonCounts, sort_appraisals};

/// One row of a breakdown: a month, a field, a procedure, an officer or a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The month (`2026-03`), code or id; `None` for ratings without one (no field, no officer).
    pub key: Option<String>,
    /// The name shown for it, if it has one.
    pub label: Option<String>,
    pub counts: Counts,
}

/// A negative rating, for follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// The tap's local time, RFC 3339.
    pub at: String,
    pub level: Level,
    pub reasons: Vec<Reason>,
    pub comment: Option<String>,
    pub dossier: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub field_name: Option<String>,
    pub officer: Option<String>,
    pub counter: Option<String>,
    /// On a province's server, the commune whose server forwarded it.
    pub commune: Option<String>,
}

/// One line of the per-dossier list ("Chi tiết"): a rating, or an armed dossier nobody rated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// The rating's id (UUIDv7).
    pub id: String,
    /// The tap's local time, RFC 3339.
    pub at: String,
    pub dossier: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub field_name: Option<String>,
    pub officer: Option<String>,
    pub counter: Option<String>,
    /// `None` for an armed dossier nobody rated.
    pub level: Option<Level>,
    pub reasons: Vec<Reason>,
    pub comment: Option<String>,
    /// A second or later rating of the dossier: listed, not counted.
    pub repeat_dossier: bool,
}

impl Entry {
    pub fn outcome(&self) -> Outcome {
        self.level.map_or(Outcome::NotRated, Outcome::Rated)
    }

    /// Whether the entry is in the report's counts.
    pub fn counted(&self) -> bool {
        self.level.is_some() && !self.repeat_dossier
    }
}

/// Who the report is for and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// The unit's name, as on its seal ("UBND xã Tân Phú").
    pub unit: String,
    pub period: ReportPeriod,
    /// Local time the report was made, RFC 3339.
    pub made_at: String,
    pub letterhead: Letterhead,
}

/// What the administrative layout adds around the figures (Nghị định 30/2020/NĐ-CP): the body
/// above the unit, the place in the date line, and who signs. Set by the office; every part may
/// be left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Letterhead {
    /// The body above the unit, printed over its name ("UBND TỈNH THANH HÓA").
    pub superior: Option<String>,
    /// The place in the date line ("Liêm Chung, ngày 29 tháng 11 năm 2026"); by default the
    /// unit's own name without "UBND xã" ([`place_of`]).
    pub place: Option<String>,
    /// The signers' titles, left to right ("NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ"); empty: the
    /// report's language gives those two.
    pub signers: Vec<String>,
}

impl Letterhead {
    /// The place for the date line: the one set, or the one in the unit's name.
    pub fn place_for(&self, unit: &str) -> Option<String> {
        match self.place.as_deref().map(str::trim) {
            Some(place) if !place.is_empty() => Some(place.to_owned()),
            _ => place_of(unit),
        }
    }
}

/// The place named in a unit's name: "UBND xã Tân Phú" is in Tân Phú, "Trung tâm Phục vụ hành
/// chính công phường Ba Đình" in Ba Đình. A note in brackets is left out. `None` when the name
/// names no commune, ward or special zone.
pub fn place_of(unit: &str) -> Option<String> {
    let name = unit.split('(').next().unwrap_or(unit);
    let words: Vec<&str> = name.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let kinds: [&[&str]; 4] = [&["xã"], &["phường"], &["đặc", "khu"], &["thị", "trấn"]];
    // The first word that says what kind of place it is; the name follows it.
    let start = (0..words.len()).find_map(|i| {
        kinds
            .iter()
            .find(|kind| {
                kind.iter()
                    .enumerate()
                    .all(|(k, word)| lower.get(i + k).is_some_and(|l| l == word))
            })
            .map(|kind| i + kind.len())
    })?;
    let place = words[start..].join(" ");
    (!place.is_empty()).then_some(place)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub heading: Heading,
    pub scale: Scale,
    pub counts: Counts,
    /// Dossiers armed by an officer that were rated: with `counts.unrated`, the response rate.
    pub rated_dossiers: u64,
    pub by_month: Vec<Group>,
    pub by_field: Vec<Group>,
    pub by_procedure: Vec<Group>,
    pub by_officer: Vec<Group>,
    /// Empty on a tablet.
    pub by_device: Vec<Group>,
    /// The devices are communes' servers, on a province's server: `by_device` is "Theo xã".
    pub devices_are_communes: bool,
    /// Oldest first.
    pub negatives: Vec<Negative>,
    /// Each officer's figures month by month, in the order of `by_officer`.
    pub appraisals: Vec<Appraisal>,
}

impl Report {
    /// Response rate in tenths of a percent: rated dossiers over armed ones.
    pub fn response_tenths(&self) -> Option<u32> {
        self.counts.response_tenths(self.rated_dossiers)
    }

    /// The breakdowns with their JSON names, in report order.
    pub fn breakdowns(&self) -> [(&'static str, &[Group]); 5] {
        [
            ("by_month", &self.by_month),
            ("by_field", &self.by_field),
            ("by_procedure", &self.by_procedure),
            ("by_officer", &self.by_officer),
            ("by_device", &self.by_device),
        ]
    }

    /// `summary --json`'s object plus the period, response rate, breakdowns and negatives.
    pub fn to_json(&self) -> Value {
        let mut object = counts_json(&self.counts, self.scale);
        let range = self.heading.period.range();
        object.insert("unit".into(), json!(self.heading.unit));
        object.insert(
            "period".into(),
            json!({
                "code": self.heading.period.code(),
                "from": range.from.to_string(),
                "to": range.to.to_string(),
                "label": self.heading.period.label_vi(),
            }),
        );
        object.insert("made_at".into(), json!(self.heading.made_at));
        object.insert("rated_dossiers".into(), json!(self.rated_dossiers));
        object.insert(
            "response_pct".into(),
            json!(self.response_tenths().map(tenths_number)),
        );
        for (name, groups) in self.breakdowns() {
            let rows = groups
                .iter()
                .map(|g| {
                    let mut row = Map::new();
                    row.insert("key".into(), json!(g.key));
                    row.insert("label".into(), json!(g.label));
                    row.extend(counts_json(&g.counts, self.scale));
                    Value::Object(row)
                })
                .collect();
            object.insert(name.into(), Value::Array(rows));
        }
        let negatives = self
            .negatives
            .iter()
            .map(|n| {
                json!({
                    "at": n.at,
                    "level": n.level.code(),
                    "reasons": n.reasons.iter().map(|r| r.code()).collect::<Vec<_>>(),
                    "comment": n.comment,
                    "dossier": n.dossier,
                    "procedure_code": n.procedure_code,
                    "procedure_name": n.procedure_name,
                    "field_name": n.field_name,
                    "officer": n.officer,
                    "counter": n.counter,
                })
            })
            .collect();
        object.insert("negatives".into(), Value::Array(negatives));
        let figures_json = |f: &Figures| {
            let mut row = counts_json(&f.counts, self.scale);
            row.insert("rated_dossiers".into(), json!(f.rated_dossiers));
            row.insert(
                "response_pct".into(),
                json!(f.response_tenths().map(tenths_number)),
            );
            row
        };
        let appraisals = self
            .appraisals
            .iter()
            .map(|a| {
                let mut row = Map::new();
                row.insert("officer".into(), json!(a.officer));
                row.extend(figures_json(&a.whole));
                let months: Vec<Value> = a
                    .months
                    .iter()
                    .map(|(month, f)| {
                        let mut m = Map::new();
                        m.insert("month".into(), json!(month));
                        m.extend(figures_json(f));
                        Value::Object(m)
                    })
                    .collect();
                row.insert("months".into(), Value::Array(months));
                let reasons: Map<String, Value> = a
                    .reasons
                    .iter()
                    .map(|(r, n)| (r.code().to_owned(), json!(n)))
                    .collect();
                row.insert("reasons".into(), Value::Object(reasons));
                Value::Object(row)
            })
            .collect();
        object.insert("appraisal".into(), Value::Array(appraisals));
        Value::Object(object)
    }
}

/// The counts as `hailong summary --json` prints them, with each level's share (the shares
/// of a row add up to exactly 100.0).
pub fn counts_json(counts: &Counts, scale: Scale) -> Map<String, Value> {
    let levels: Map<String, Value> = scale
        .levels()
        .iter()
        .map(|&l: &Level| (l.code().to_owned(), counts.count(l).into()))
        .collect();
    let shares: Map<String, Value> = counts
        .shares_tenths(scale)
        .unwrap_or_default()
        .into_iter()
        .map(|(l, t)| (l.code().to_owned(), tenths_number(t)))
        .collect();
    let mut object = Map::new();
    object.insert("total".into(), counts.total().into());
    object.insert("levels".into(), Value::Object(levels));
    object.insert("levels_pct".into(), Value::Object(shares));
    object.insert("satisfied_pct".into(), json!(counts.satisfied_pct()));
    object.insert("unrated".into(), counts.unrated.into());
    object.insert("repeat_dossier".into(), counts.repeat_dossier.into());
    object.insert("misuse".into(), counts.misuse.into());
    object
}

/// Tenths of a percent as a JSON number with one decimal (87.5), written exactly.
fn tenths_number(tenths: u32) -> Value {
    format_tenths(tenths)
        .parse::<serde_json::Number>()
        .map_or(Value::Null, Value::Number)
}

/// Builds a report from its entries in one pass, the same way on a tablet and on the server,
/// so that every format and every place shows the same figures. Misuse presses are not entries:
/// the caller adds their counts.
#[derive(Debug, Default)]
pub struct Tally {
    counts: Counts,
    rated_dossiers: u64,
    months: Groups,
    fields: Groups,
    procedures: Groups,
    officers: Groups,
    appraisals: appraisal::Appraisals,
    negatives: Vec<Negative>,
}

/// Groups found so far, with an index by key.
#[derive(Debug, Default)]
struct Groups {
    list: Vec<Group>,
    index: HashMap<String, usize>,
    none: Option<usize>,
}

impl Groups {
    fn counts(&mut self, key: Option<&str>, label: Option<&str>) -> &mut Counts {
        let slot = match key {
            Some(key) => self.index.get(key).copied(),
            None => self.none,
        };
        let at = slot.unwrap_or_else(|| {
            self.list.push(Group {
                key: key.map(str::to_owned),
                label: label.map(str::to_owned),
                counts: Counts::default(),
            });
            let at = self.list.len() - 1;
            match key {
                Some(key) => {
                    self.index.insert(key.to_owned(), at);
                }
                None => self.none = Some(at),
            }
            at
        });
        let group = &mut self.list[at];
        if group.label.is_none()
            && let Some(label) = label
        {
            group.label = Some(label.to_owned());
        }
        &mut group.counts
    }
}

fn count_in(counts: &mut Counts, entry: &Entry) {
    counts.add_outcome(entry.outcome(), entry.repeat_dossier, 1);
}

impl Tally {
    pub fn add(&mut self, entry: &Entry) {
        count_in(&mut self.counts, entry);
        let month = entry.at.get(..7);
        count_in(self.months.counts(month, month), entry);
        let field = entry.field_name.as_deref();
        count_in(self.fields.counts(field, field), entry);
        count_in(
            self.procedures.counts(
                entry.procedure_code.as_deref(),
                entry.procedure_name.as_deref(),
            ),
            entry,
        );
        let officer = entry.officer.as_deref();
        count_in(self.officers.counts(officer, officer), entry);
        self.appraisals.add(entry);
        if entry.counted() && entry.dossier.is_some() {
            self.rated_dossiers += 1;
        }
        if let Some(level) = entry.level.filter(|l| l.is_negative())
            && !entry.repeat_dossier
        {
            self.negatives.push(Negative {
                at: entry.at.clone(),
                level,
                reasons: entry.reasons.clone(),
                comment: entry.comment.clone(),
                dossier: entry.dossier.clone(),
                procedure_code: entry.procedure_code.clone(),
                procedure_name: entry.procedure_name.clone(),
                field_name: entry.field_name.clone(),
                officer: entry.officer.clone(),
                counter: entry.counter.clone(),
                commune: None,
            });
        }
    }

    /// Misuse presses of one month (`2026-03`), counted in the total and that month.
    pub fn add_misuse(&mut self, month: &str, n: u64) {
        self.counts.misuse += n;
        self.months.counts(Some(month), Some(month)).misuse += n;
    }

    /// The report: months in order, other groups largest first, negatives oldest first.
    pub fn finish(self, heading: Heading, scale: Scale) -> Report {
        let mut by_month = self.months.list;
        by_month.sort_by(|a, b| a.key.cmp(&b.key));
        let [by_field, by_procedure, by_officer] = [self.fields, self.procedures, self.officers]
            .map(|groups| {
                let mut list = groups.list;
                sort_groups(&mut list);
                list
            });
        let mut negatives = self.negatives;
        negatives.sort_by(|a, b| a.at.cmp(&b.at));
        Report {
            heading,
            scale,
            counts: self.counts,
            rated_dossiers: self.rated_dossiers,
            by_month,
            by_field,
            by_procedure,
            by_officer,
            by_device: Vec::new(),
            devices_are_communes: false,
            negatives,
            appraisals: self.appraisals.finish(),
        }
    }
}

/// The order of a breakdown: most ratings first, then by name, then by key.
pub fn sort_groups(groups: &mut [Group]) {
    groups.sort_by(|a, b| {
        b.counts
            .total()
            .cmp(&a.counts.total())
            .then_with(|| a.label.cmp(&b.label))
            .then_with(|| a.key.cmp(&b.key))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::DateRange;

    fn entry(at: &str, level: Option<Level>, officer: &str) -> Entry {
        Entry {
            at: at.into(),
            dossier: Some(format!("D-{at}")),
            procedure_code: Some("1.001193".into()),
            procedure_name: Some("Đăng ký khai sinh".into()),
            field_name: Some("Hộ tịch".into()),
            officer: Some(officer.into()),
            level,
            ..Entry::default()
        }
    }

    fn heading() -> Heading {
        Heading {
            unit: "UBND xã Tân Phú".into(),
            period: ReportPeriod::Range(DateRange::all()),
            made_at: "2026-11-23T10:00:00+07:00".into(),
            letterhead: Letterhead::default(),
        }
    }

    #[test]
    fn the_place_comes_from_the_units_name_unless_set() {
        let cases = [
            ("UBND xã Tân Phú", Some("Tân Phú")),
            ("UBND xã Hòa Bình (dữ liệu mẫu)", Some("Hòa Bình")),
            (
                "Trung tâm Phục vụ hành chính công phường Ba Đình",
                Some("Ba Đình"),
            ),
            ("UBND Xã Liêm Chung", Some("Liêm Chung")),
            ("Ủy ban nhân dân đặc khu Phú Quốc", Some("Phú Quốc")),
            ("UBND xã Xã Đàn", Some("Xã Đàn")),
            ("Bộ phận Một cửa", None),
            ("UBND xã ", None),
        ];
        for (unit, place) in cases {
            assert_eq!(place_of(unit).as_deref(), place, "{unit}");
        }
        let set = Letterhead {
            place: Some(" Liêm Chung ".into()),
            ..Letterhead::default()
        };
        assert_eq!(
            set.place_for("UBND xã Tân Phú").as_deref(),
            Some("Liêm Chung")
        );
        assert_eq!(
            Letterhead::default()
                .place_for("UBND xã Tân Phú")
                .as_deref(),
            Some("Tân Phú")
        );
    }

    /// Issue 15: each officer's appraisal, month by month, with the same counts as the
    /// officers' breakdown, the response rate, and the reasons of their negatives.
    #[test]
    fn an_officers_appraisal_has_the_breakdowns_counts_month_by_month() {
        use crate::reason::Reason;
        let mut tally = Tally::default();
        let mut late = entry("2026-03-02T08:00:00+07:00", Some(Level::Unsatisfied), "An");
        late.reasons = vec![Reason::Late, Reason::LongWait];
        tally.add(&late);
        let mut again = entry("2026-04-03T08:00:00+07:00", Some(Level::Unsatisfied), "An");
        again.reasons = vec![Reason::Late];
        tally.add(&again);
        tally.add(&entry(
            "2026-04-04T08:00:00+07:00",
            Some(Level::Satisfied),
            "An",
        ));
        tally.add(&entry("2026-04-05T08:00:00+07:00", None, "An"));
        let mut repeat = entry("2026-04-06T09:00:00+07:00", Some(Level::Unsatisfied), "An");
        repeat.repeat_dossier = true;
        repeat.reasons = vec![Reason::Attitude];
        tally.add(&repeat);
        let mut walk_up = entry("2026-04-07T09:00:00+07:00", Some(Level::VerySatisfied), "");
        walk_up.officer = None;
        walk_up.dossier = None;
        tally.add(&walk_up);
        let report = tally.finish(heading(), Scale::Three);
        assert_eq!(report.appraisals.len(), report.by_officer.len());
        for (a, g) in report.appraisals.iter().zip(&report.by_officer) {
            assert_eq!(a.officer, g.key, "in the breakdown's order");
            assert_eq!(a.whole.counts, g.counts, "the breakdown's counts");
            let mut sum = Counts::default();
            for (_, m) in &a.months {
                sum.merge(&m.counts);
            }
            assert_eq!(sum, a.whole.counts, "the months add up");
        }
        let an = &report.appraisals[0];
        assert_eq!(an.officer.as_deref(), Some("An"));
        let months: Vec<&str> = an.months.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(months, ["2026-03", "2026-04"]);
        assert_eq!(an.whole.counts.total(), 3);
        assert_eq!(an.whole.rated_dossiers, 3);
        assert_eq!(an.whole.counts.unrated, 1);
        assert_eq!(an.whole.response_tenths(), Some(750));
        assert_eq!(an.months[1].1.response_tenths(), Some(667));
        // The repeat's reason is not counted: it is not in the counts either.
        assert_eq!(an.reasons, vec![(Reason::Late, 2), (Reason::LongWait, 1)]);
        let nobody = &report.appraisals[1];
        assert_eq!(nobody.officer, None);
        assert_eq!(nobody.whole.rated_dossiers, 0, "a walk-up has no dossier");
        assert_eq!(nobody.whole.response_tenths(), None);
        let json = report.to_json();
        assert_eq!(json["appraisal"][0]["response_pct"], 75.0);
        assert_eq!(json["appraisal"][0]["months"][1]["month"], "2026-04");
        assert_eq!(json["appraisal"][0]["reasons"]["late"], 2);
    }

    #[test]
    fn a_tally_counts_groups_and_lists_the_negatives() {
        let mut tally = Tally::default();
        tally.add(&entry(
            "2026-03-02T08:00:00+07:00",
            Some(Level::VerySatisfied),
            "An",
        ));
        tally.add(&entry(
            "2026-03-02T09:00:00+07:00",
            Some(Level::Unsatisfied),
            "Bình",
        ));
        tally.add(&entry("2026-04-01T09:00:00+07:00", None, "An"));
        let mut repeat = entry("2026-04-02T09:00:00+07:00", Some(Level::Unsatisfied), "An");
        repeat.repeat_dossier = true;
        tally.add(&repeat);
        let report = tally.finish(heading(), Scale::Three);
        assert_eq!(report.counts.total(), 2);
        assert_eq!(report.counts.unrated, 1);
        assert_eq!(report.counts.repeat_dossier, 1);
        assert_eq!(report.rated_dossiers, 2);
        assert_eq!(report.response_tenths(), Some(667));
        let months: Vec<_> = report.by_month.iter().map(|g| g.key.as_deref()).collect();
        assert_eq!(months, [Some("2026-03"), Some("2026-04")]);
        assert_eq!(report.by_officer[0].key.as_deref(), Some("An"));
        assert_eq!(report.by_officer[0].counts.total(), 1);
        assert_eq!(
            report.negatives.len(),
            1,
            "the repeat is not followed up twice"
        );
        assert_eq!(report.negatives[0].officer.as_deref(), Some("Bình"));
    }

    #[test]
    fn the_json_is_the_summary_object_with_shares_and_breakdowns() {
        let mut tally = Tally::default();
        for level in [Level::VerySatisfied, Level::Satisfied, Level::Unsatisfied] {
            tally.add(&entry("2026-03-02T08:00:00+07:00", Some(level), "An"));
        }
        let json = tally.finish(heading(), Scale::Three).to_json();
        assert_eq!(json["total"], 3);
        assert_eq!(json["levels"]["satisfied"], 1);
        assert_eq!(json["satisfied_pct"], 66.7);
        let pct = &json["levels_pct"];
        assert_eq!(
            (
                pct["very_satisfied"].clone(),
                pct["satisfied"].clone(),
                pct["unsatisfied"].clone()
            ),
            (json!(33.4), json!(33.3), json!(33.3))
        );
        assert_eq!(json["by_officer"][0]["key"], "An");
        assert_eq!(json["by_officer"][0]["total"], 3);
        assert_eq!(json["negatives"][0]["level"], "unsatisfied");
        assert_eq!(json["period"]["code"], "all");
        assert_eq!(json["by_device"], json!([]));
    }
}
