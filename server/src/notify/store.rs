//! What the notifier keeps and reads, on either backend: its settings, the alerts' queue,
//! the messages with their attempts, the reports queued, and the ratings a report is made
//! from. It runs on a thread of its own, so the calls wait (PostgreSQL's through
//! [`crate::pg::Blocking`]).

use crate::db::{Db, Notification};
use crate::pg::Blocking;
use crate::storage::StoreError;
use chrono::{DateTime, Utc};
use hailong_core::report::{Entry, Letterhead};
use hailong_report::Source;

/// Messages to queue: (channel, kind, content).
pub type Messages<'a> = &'a [(String, String, String)];

pub trait NotifyStore: Source + Send {
    fn notify_settings(&self) -> Result<Option<String>, StoreError>;
    fn unit_name(&self) -> Result<String, StoreError>;
    fn letterhead(&self) -> Result<Letterhead, StoreError>;
    fn queued_alerts(&self, limit: usize) -> Result<Vec<Entry>, StoreError>;
    fn take_alerts(
        &mut self,
        taken: &[String],
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Empties the alerts' queue without reading it (alerts are off).
    fn drop_alerts(&mut self) -> Result<(), StoreError>;
    fn report_queued(&self, period: &str) -> Result<bool, StoreError>;
    fn queue_report(
        &mut self,
        period: &str,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn queue_messages(
        &mut self,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    fn due_notifications(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, StoreError>;
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn mark_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

impl NotifyStore for Db {
    fn notify_settings(&self) -> Result<Option<String>, StoreError> {
        Ok(Db::notify_settings(self)?)
    }
    fn unit_name(&self) -> Result<String, StoreError> {
        Ok(Db::unit_name(self)?)
    }
    fn letterhead(&self) -> Result<Letterhead, StoreError> {
        Ok(Db::letterhead(self)?)
    }
    fn queued_alerts(&self, limit: usize) -> Result<Vec<Entry>, StoreError> {
        Ok(Db::queued_alerts(self, limit)?)
    }
    fn take_alerts(
        &mut self,
        taken: &[String],
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(Db::take_alerts(self, taken, messages, now)?)
    }
    fn drop_alerts(&mut self) -> Result<(), StoreError> {
        Ok(Db::drop_alerts(self)?)
    }
    fn report_queued(&self, period: &str) -> Result<bool, StoreError> {
        Ok(Db::report_queued(self, period)?)
    }
    fn queue_report(
        &mut self,
        period: &str,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(Db::queue_report(self, period, messages, now)?)
    }
    fn queue_messages(
        &mut self,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(Db::queue_messages(self, messages, now)?)
    }
    fn due_notifications(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, StoreError> {
        Ok(Db::due_notifications(self, now)?)
    }
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(Db::next_due(self)?)
    }
    fn mark_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(Db::mark_sent(self, id, now)?)
    }
    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(Db::mark_failed(self, id, error, retry_at)?)
    }
}

impl NotifyStore for Blocking {
    fn notify_settings(&self) -> Result<Option<String>, StoreError> {
        Ok(self.wait(self.pg.notify_settings())?)
    }
    fn unit_name(&self) -> Result<String, StoreError> {
        Ok(self.wait(self.pg.unit_name())?)
    }
    fn letterhead(&self) -> Result<Letterhead, StoreError> {
        Ok(self.wait(self.pg.letterhead())?)
    }
    fn queued_alerts(&self, limit: usize) -> Result<Vec<Entry>, StoreError> {
        Ok(self.wait(self.pg.queued_alerts(limit))?)
    }
    fn take_alerts(
        &mut self,
        taken: &[String],
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.take_alerts(taken, messages, now))?)
    }
    fn drop_alerts(&mut self) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.drop_alerts())?)
    }
    fn report_queued(&self, period: &str) -> Result<bool, StoreError> {
        Ok(self.wait(self.pg.report_queued(period))?)
    }
    fn queue_report(
        &mut self,
        period: &str,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.queue_report(period, messages, now))?)
    }
    fn queue_messages(
        &mut self,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.queue_messages(messages, now))?)
    }
    fn due_notifications(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, StoreError> {
        Ok(self.wait(self.pg.due_notifications(now))?)
    }
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.wait(self.pg.next_due())?)
    }
    fn mark_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.mark_sent(id, now))?)
    }
    fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(self.wait(self.pg.mark_failed(id, error, retry_at))?)
    }
}
