//! Everything the server's requests, pages and commands ask of where it keeps its data, as
//! one interface either backend implements: SQLite (`Db`, the commune's embedded default) and
//! PostgreSQL (`pg::Blocking`, a province's). Callers run on threads that may wait (the
//! request's blocking task, the command line), so the calls wait; the rules stay in `ingest`,
//! `pairing` and `figures`, and the batches go through a writer of each backend's own.

use crate::db::{Caller, Db, Device, NegativeQuery, NegativesPage, QueueState, Summary, Totals};
use crate::figures::Breakdowns;
use crate::notify::NotifyStore;
use crate::pairing::PairError;
use crate::pg::Blocking;
use crate::storage::StoreError;
use crate::upstream::{Outbox, Upstream};
use chrono::{DateTime, NaiveDate, Utc};
use hailong_core::period::DateRange;
use hailong_core::report::{Heading, Letterhead, Report};
use hailong_core::summary::Counts;
use std::time::Duration;

/// What a device pairing gives: (device id, token), or why the code was refused.
pub type Paired = Result<(String, String), PairError>;

pub trait Store: NotifyStore {
    // Who calls, and pairing.
    fn caller(&self, token: &str) -> Result<Option<Caller>, StoreError>;
    /// A pairing code for a tablet at `counter`, or for a commune's server (`counter` its
    /// name) with its `unit_code`.
    fn new_pairing_code(
        &mut self,
        counter: &str,
        unit_code: Option<&str>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError>;
    fn pair(&mut self, code: &str, name: &str, now: DateTime<Utc>) -> Result<Paired, StoreError>;
    fn new_admin_token(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError>;
    fn devices(&self) -> Result<Vec<Device>, StoreError>;
    /// Whether a commune's server is paired here: this is a province's server.
    fn any_commune(&self) -> Result<bool, StoreError>;
    fn revoke(&mut self, device_id: &str) -> Result<(), StoreError>;
    // The dashboard's users and sessions.
    fn set_user(&mut self, name: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;
    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError>;
    fn new_session(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError>;
    fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError>;
    fn end_session(&mut self, token: &str) -> Result<(), StoreError>;
    // Settings.
    fn set_unit_name(&mut self, name: &str) -> Result<(), StoreError>;
    fn set_letterhead(&mut self, letterhead: &Letterhead) -> Result<(), StoreError>;
    fn set_notify_settings(&mut self, json: &str) -> Result<(), StoreError>;
    fn queue_state(&self) -> Result<QueueState, StoreError>;
    // Figures: of every device, or of one (`device`: a commune's server, on a province's).
    fn totals(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Totals, StoreError>;
    fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, StoreError>;
    fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Vec<(String, Counts)>, StoreError>;
    /// A period's report as the officers' or the fields' pages show it.
    fn page_report(
        &self,
        heading: Heading,
        device: Option<&str>,
        breakdowns: Breakdowns,
    ) -> Result<Report, StoreError>;
    fn negatives_page(
        &self,
        range: DateRange,
        query: &NegativeQuery,
    ) -> Result<NegativesPage, StoreError>;
    // Forwarding to the next tier.
    fn upstream(&self) -> Result<Option<Upstream>, StoreError>;
    fn set_upstream(&mut self, upstream: &Upstream) -> Result<(), StoreError>;
    /// The oldest `limit` entries waiting for the next tier after `after` (0: from the
    /// first).
    fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, StoreError>;
    /// The next tier has every entry through `through`, as it said at `at`.
    fn forwarded(&mut self, through: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
}

impl Store for Db {
    fn caller(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        Ok(Db::caller(self, token)?)
    }
    fn new_pairing_code(
        &mut self,
        counter: &str,
        unit_code: Option<&str>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        Ok(Db::new_pairing_code(self, counter, unit_code, ttl, now)?)
    }
    fn pair(&mut self, code: &str, name: &str, now: DateTime<Utc>) -> Result<Paired, StoreError> {
        Ok(Db::pair(self, code, name, now)?)
    }
    fn new_admin_token(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
        Ok(Db::new_admin_token(self, name, now)?)
    }
    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        Ok(Db::devices(self)?)
    }
    fn any_commune(&self) -> Result<bool, StoreError> {
        Ok(Db::any_commune(self)?)
    }
    fn revoke(&mut self, device_id: &str) -> Result<(), StoreError> {
        Ok(Db::revoke(self, device_id)?)
    }
    fn set_user(&mut self, name: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(Db::set_user(self, name, hash, now)?)
    }
    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(Db::password_hash(self, name)?)
    }
    fn new_session(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
        Ok(Db::new_session(self, name, now)?)
    }
    fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        Ok(Db::session_user(self, token, now)?)
    }
    fn end_session(&mut self, token: &str) -> Result<(), StoreError> {
        Ok(Db::end_session(self, token)?)
    }
    fn set_unit_name(&mut self, name: &str) -> Result<(), StoreError> {
        Ok(Db::set_unit_name(self, name)?)
    }
    fn set_letterhead(&mut self, letterhead: &Letterhead) -> Result<(), StoreError> {
        Ok(Db::set_letterhead(self, letterhead)?)
    }
    fn set_notify_settings(&mut self, json: &str) -> Result<(), StoreError> {
        Ok(Db::set_notify_settings(self, json)?)
    }
    fn queue_state(&self) -> Result<QueueState, StoreError> {
        Ok(Db::queue_state(self)?)
    }
    fn totals(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Totals, StoreError> {
        Ok(Db::totals(self, from, to, device)?)
    }
    fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, StoreError> {
        Ok(Db::summary(self, from, to)?)
    }
    fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Vec<(String, Counts)>, StoreError> {
        Ok(Db::monthly(self, from, to, device)?)
    }
    fn page_report(
        &self,
        heading: Heading,
        device: Option<&str>,
        breakdowns: Breakdowns,
    ) -> Result<Report, StoreError> {
        Ok(Db::page_report(self, heading, device, breakdowns)?)
    }
    fn negatives_page(
        &self,
        range: DateRange,
        query: &NegativeQuery,
    ) -> Result<NegativesPage, StoreError> {
        Ok(Db::negatives_page(self, range, query)?)
    }
    fn upstream(&self) -> Result<Option<Upstream>, StoreError> {
        Ok(Db::upstream(self)?)
    }
    fn set_upstream(&mut self, upstream: &Upstream) -> Result<(), StoreError> {
        Ok(Db::set_upstream(self, upstream)?)
    }
    fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, StoreError> {
        Ok(Db::outbox(self, after, limit)?)
    }
    fn forwarded(&mut self, through: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(Db::forwarded(self, through, at)?)
    }
}

impl Store for Blocking {
    fn caller(&self, token: &str) -> Result<Option<Caller>, StoreError> {
        Ok(self.wait(self.pg.caller(token))?)
    }
    fn new_pairing_code(
        &mut self,
        counter: &str,
        unit_code: Option<&str>,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        Ok(self.wait(self.pg.new_pairing_code(counter, unit_code, ttl, now))?)
    }
    fn pair(&mut self, code: &str, name: &str, now: DateTime<Utc>) -> Result<Paired, StoreError> {
        Ok(self.wait(self.pg.pair(code, name, now))?)
    }
    fn new_admin_token(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
        Ok(self.wait(self.pg.new_admin_token(name, now))?)
    }
    fn devices(&self) -> Result<Vec<Device>, StoreError> {
        Ok(self.wait(self.pg.devices())?)
    }
    fn any_commune(&self) -> Result<bool, StoreError> {
        Ok(self.wait(self.pg.any_commune())?)
    }
    fn revoke(&mut self, device_id: &str) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.revoke(device_id))?)
    }
    fn set_user(&mut self, name: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.wait(self.pg.set_user(name, hash, now))?)
    }
    fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.wait(self.pg.password_hash(name))?)
    }
    fn new_session(&mut self, name: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
        Ok(self.wait(self.pg.new_session(name, now))?)
    }
    fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        Ok(self.wait(self.pg.session_user(token, now))?)
    }
    fn end_session(&mut self, token: &str) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.end_session(token))?)
    }
    fn set_unit_name(&mut self, name: &str) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.set_unit_name(name))?)
    }
    fn set_letterhead(&mut self, letterhead: &Letterhead) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.set_letterhead(letterhead))?)
    }
    fn set_notify_settings(&mut self, json: &str) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.set_notify_settings(json))?)
    }
    fn queue_state(&self) -> Result<QueueState, StoreError> {
        Ok(self.wait(self.pg.queue_state())?)
    }
    fn totals(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Totals, StoreError> {
        Ok(self.wait(self.pg.totals(from, to, device))?)
    }
    fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, StoreError> {
        Ok(self.wait(self.pg.summary(from, to))?)
    }
    fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Vec<(String, Counts)>, StoreError> {
        Ok(self.wait(self.pg.monthly(from, to, device))?)
    }
    fn page_report(
        &self,
        heading: Heading,
        device: Option<&str>,
        breakdowns: Breakdowns,
    ) -> Result<Report, StoreError> {
        Ok(self.wait(self.pg.page_report(heading, device, breakdowns))?)
    }
    fn negatives_page(
        &self,
        range: DateRange,
        query: &NegativeQuery,
    ) -> Result<NegativesPage, StoreError> {
        Ok(self.wait(self.pg.negatives_page(range, query))?)
    }
    fn upstream(&self) -> Result<Option<Upstream>, StoreError> {
        Ok(self.wait(self.pg.upstream())?)
    }
    fn set_upstream(&mut self, upstream: &Upstream) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.set_upstream(upstream))?)
    }
    fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, StoreError> {
        Ok(self.wait(self.pg.outbox(after, limit))?)
    }
    fn forwarded(&mut self, through: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.forwarded(through, at))?)
    }
}

/// The heading of a report of `period` made now from `store`.
pub fn report_heading(
    store: &dyn Store,
    period: hailong_core::period::ReportPeriod,
) -> Result<Heading, StoreError> {
    Ok(crate::state::heading(
        store.unit_name()?,
        store.letterhead()?,
        period,
    ))
}
