//! The summary tab (today, this month, this quarter; by officer or field) and the latest
//! negative ratings.

use super::Admin;
use crate::store::Breakdown;
use crate::ui::{AdminBreakdown, AdminPeriod, BreakdownItem, LevelShare, NegativeItem};
use hailong_core::period::DateRange;
use hailong_core::summary::Counts;
use slint::{ModelRc, SharedString, VecModel};
use std::rc::Rc;

/// Negative ratings listed on the tab.
const NEGATIVES_SHOWN: usize = 50;

fn tenths(t: Option<u32>) -> i32 {
    t.and_then(|t| i32::try_from(t).ok()).unwrap_or(-1)
}

fn int(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    Rc::new(VecModel::from(items)).into()
}

impl Admin {
    pub(super) fn show_summary(&self) {
        let Some((period, by)) = self.with(|a| (a.get_period(), a.get_breakdown())) else {
            return;
        };
        let today = self.clock.now().date_naive();
        let range = match period {
            AdminPeriod::Today => DateRange::day(today),
            AdminPeriod::Month => DateRange::month_of(today),
            AdminPeriod::Quarter => DateRange::quarter_of(today),
        };
        let by = match by {
            AdminBreakdown::Officer => Breakdown::Officer,
            AdminBreakdown::Field => Breakdown::Field,
        };
        let store = self.store.borrow();
        let read = store.summary(range).and_then(|counts| {
            Ok((
                counts,
                store.rated_dossiers(range)?,
                store.breakdown(range, by)?,
            ))
        });
        let (counts, rated_dossiers, rows) = match read {
            Ok(read) => read,
            Err(e) => {
                tracing::error!(error = %e, "the summary could not be read");
                (Counts::default(), 0, Vec::new())
            }
        };
        let scale = self.settings.borrow().scale;
        let shares = counts.shares_tenths(scale);
        let levels: Vec<LevelShare> = scale
            .levels()
            .iter()
            .map(|&level| LevelShare {
                code: level.code().into(),
                count: int(counts.count(level)),
                tenths: tenths(
                    shares
                        .as_ref()
                        .and_then(|s| s.iter().find(|(l, _)| *l == level).map(|(_, t)| *t)),
                ),
            })
            .collect();
        let rows: Vec<BreakdownItem> = rows
            .into_iter()
            .map(|row| BreakdownItem {
                label: row.label.unwrap_or_default().into(),
                total: int(row.counts.total()),
                satisfied_tenths: tenths(row.counts.satisfied_tenths()),
                unrated: int(row.counts.unrated),
            })
            .collect();
        let problem = self.storage_problem();
        self.with(|a| {
            a.set_period_from(range.from.format("%d/%m/%Y").to_string().into());
            a.set_period_to(range.to.format("%d/%m/%Y").to_string().into());
            a.set_levels(model(levels));
            a.set_total(int(counts.total()));
            a.set_satisfied_tenths(tenths(counts.satisfied_tenths()));
            a.set_unrated(int(counts.unrated));
            a.set_response_tenths(tenths(counts.response_tenths(rated_dossiers)));
            a.set_repeats(int(counts.repeat_dossier));
            a.set_misuse(int(counts.misuse));
            a.set_breakdown_rows(model(rows));
            a.set_storage_problem(problem);
        });
    }

    pub(super) fn show_negatives(&self) {
        let ratings = self
            .store
            .borrow()
            .latest_negative(NEGATIVES_SHOWN)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "negative ratings could not be read");
                Vec::new()
            });
        let items: Vec<NegativeItem> = ratings
            .into_iter()
            .map(|r| NegativeItem {
                when: r.recorded_at.format("%H:%M %d/%m/%Y").to_string().into(),
                level: r.outcome.code().into(),
                reasons: model(
                    r.reasons
                        .iter()
                        .map(|reason| SharedString::from(reason.code()))
                        .collect(),
                ),
                comment: r.comment.unwrap_or_default().into(),
                dossier: r.dossier.unwrap_or_default().into(),
                officer: r.officer.map(|o| o.name).unwrap_or_default().into(),
                repeat: r.repeat_dossier,
            })
            .collect();
        self.with(|a| a.set_negatives(model(items)));
    }
}
