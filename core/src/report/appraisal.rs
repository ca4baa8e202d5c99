//! One officer's figures for appraisal, for the period and month by month: what a province
//! appraises officers on (counts, shares, tỷ lệ hài lòng, dossiers not rated, the response rate,
//! and the reasons given when citizens were not satisfied). Drawn from the same entries as every
//! other figure of the report, in the same pass.

use super::Entry;
use crate::reason::Reason;
use crate::summary::Counts;
use std::collections::HashMap;

/// Counts with the dossiers rated, so that a row has its response rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub counts: Counts,
    /// Dossiers linked by the officer that were rated (with `counts.unrated`, those offered).
    pub rated_dossiers: u64,
}

impl Figures {
    fn add(&mut self, entry: &Entry) {
        self.counts
            .add_outcome(entry.outcome(), entry.repeat_dossier, 1);
        if entry.counted() && entry.dossier.is_some() {
            self.rated_dossiers += 1;
        }
    }

    /// Response rate in tenths of a percent: dossiers rated over dossiers offered.
    pub fn response_tenths(&self) -> Option<u32> {
        self.counts.response_tenths(self.rated_dossiers)
    }
}

/// One officer's appraisal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appraisal {
    /// The officer as named when the ratings were made; `None` for ratings given while no
    /// officer was on shift.
    pub officer: Option<String>,
    pub whole: Figures,
    /// Month (`2026-03`) by month, in order; only months with entries.
    pub months: Vec<(String, Figures)>,
    /// The reasons given in the officer's negative ratings, most often given first.
    pub reasons: Vec<(Reason, u64)>,
}

/// How often each reason was given, in the negative ratings of an officer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReasonCounts([u64; Reason::ALL.len()]);

impl ReasonCounts {
    pub fn add(&mut self, reasons: &[Reason]) {
        self.add_times(reasons, 1);
    }

    /// Each of `reasons` given `n` times more.
    pub fn add_times(&mut self, reasons: &[Reason], n: u64) {
        for reason in reasons {
            if let Some(i) = Reason::ALL.iter().position(|r| r == reason) {
                self.0[i] += n;
            }
        }
    }

    /// The reasons given, most often given first (in the glossary's order among equals).
    pub fn by_count(self) -> Vec<(Reason, u64)> {
        let mut reasons: Vec<(Reason, u64)> = Reason::ALL
            .iter()
            .zip(self.0)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (*r, n))
            .collect();
        reasons.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        reasons
    }
}

/// The order of the officers' breakdown: most ratings first, then by name.
pub fn sort_appraisals(list: &mut [Appraisal]) {
    list.sort_by(|a, b| {
        b.whole
            .counts
            .total()
            .cmp(&a.whole.counts.total())
            .then_with(|| a.officer.cmp(&b.officer))
    });
}

/// Appraisals being counted, one per officer.
#[derive(Debug, Default)]
pub(super) struct Appraisals {
    list: Vec<Counting>,
    index: HashMap<String, usize>,
    none: Option<usize>,
}

#[derive(Debug)]
struct Counting {
    officer: Option<String>,
    whole: Figures,
    months: Vec<(String, Figures)>,
    reasons: ReasonCounts,
}

impl Appraisals {
    pub(super) fn add(&mut self, entry: &Entry) {
        let officer = entry.officer.as_deref();
        let slot = match officer {
            Some(name) => self.index.get(name).copied(),
            None => self.none,
        };
        let at = slot.unwrap_or_else(|| {
            self.list.push(Counting {
                officer: officer.map(str::to_owned),
                whole: Figures::default(),
                months: Vec::new(),
                reasons: ReasonCounts::default(),
            });
            let at = self.list.len() - 1;
            match officer {
                Some(name) => {
                    self.index.insert(name.to_owned(), at);
                }
                None => self.none = Some(at),
            }
            at
        });
        let counting = &mut self.list[at];
        counting.whole.add(entry);
        let month = entry.at.get(..7).unwrap_or("");
        // Entries come oldest first: the month is nearly always the last one.
        match counting.months.iter_mut().rev().find(|(m, _)| m == month) {
            Some((_, figures)) => figures.add(entry),
            None => {
                let mut figures = Figures::default();
                figures.add(entry);
                counting.months.push((month.to_owned(), figures));
            }
        }
        if entry.level.is_some_and(|l| l.is_negative()) && !entry.repeat_dossier {
            counting.reasons.add(&entry.reasons);
        }
    }

    /// The appraisals in the order of the officers' breakdown: most ratings first, then by name.
    pub(super) fn finish(self) -> Vec<Appraisal> {
        let mut list: Vec<Appraisal> = self
            .list
            .into_iter()
            .map(|c| {
                let mut months = c.months;
                months.sort_by(|a, b| a.0.cmp(&b.0));
                Appraisal {
                    officer: c.officer,
                    whole: c.whole,
                    months,
                    reasons: c.reasons.by_count(),
                }
            })
            .collect();
        sort_appraisals(&mut list);
        list
    }
}
