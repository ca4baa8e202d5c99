//! Alerts and scheduled reports, sent from a thread of their own so that sending never holds up
//! a tablet's batch. The writer queues each negative rating it inserts in the batch's own
//! transaction and pokes this thread; a round then
//!
//! 1. turns every queued negative into one alert per channel (many ratings in one message when
//!    they arrive together),
//! 2. queues, once, the report of the month that ended (on the first day of the next, or the
//!    first round after it) and of the quarter that ended,
//! 3. sends every message that is due, and marks it sent only when the mail server or the
//!    webhook has said it has it; a failure is kept with its reason and tried again later,
//!    after 1, 2, 4… minutes, at most an hour apart, across restarts.
//!
//! A round takes the time it is run at ([`Notifier::round`]), so the tests drive retries with
//! mock time.

mod channels;
pub mod message;
pub mod settings;
mod store;
#[cfg(test)]
mod tests;

use crate::db::{Db, DbError, Notification};
use crate::storage::StoreError;
use chrono::{DateTime, Datelike, Local, Utc};
use hailong_core::period::ReportPeriod;
use message::{AlertRating, Figures, Message};
use settings::Settings;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;
pub use store::NotifyStore;

/// Ratings in one alert at most; more make more alerts.
const ALERT_RATINGS: usize = 200;
/// Rounds run at least this often, for the reports' dates.
const ROUND_EVERY: Duration = Duration::from_secs(60);

/// The wait before the next try after `attempts` failed ones: 1, 2, 4… minutes, at most 1 hour.
pub fn backoff(attempts: u32) -> chrono::Duration {
    chrono::Duration::minutes(1i64 << attempts.min(6)).min(chrono::Duration::hours(1))
}

/// What a round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Negative ratings turned into alerts.
    pub alerted: usize,
    /// Periods whose report was queued.
    pub reports: Vec<String>,
    pub sent: usize,
    pub failed: usize,
    /// When the next message is due, if one waits.
    pub next_due: Option<DateTime<Utc>>,
}

/// The notifier, on its own connection to the database.
pub struct Notifier {
    db: Box<dyn NotifyStore>,
}

impl Notifier {
    /// On its own connection to the SQLite database at `db`.
    pub fn open(db: &Path) -> Result<Notifier, DbError> {
        Ok(Notifier::new(Box::new(Db::open(db)?)))
    }

    pub fn new(store: Box<dyn NotifyStore>) -> Notifier {
        Notifier { db: store }
    }

    fn settings(&self) -> Result<Settings, StoreError> {
        let kept = self.db.notify_settings()?;
        Ok(Settings::from_kept(kept.as_deref()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the notify settings cannot be read; nothing is sent until they are set again");
            Settings::off()
        }))
    }

    /// One round at `now`.
    pub fn round(&mut self, now: DateTime<Local>) -> Result<Round, StoreError> {
        let settings = self.settings()?;
        let channels = settings.channels();
        let unit = self.db.unit_name()?;
        let utc = now.with_timezone(&Utc);
        let mut round = Round::default();
        if !settings.alerting() {
            // Nowhere to send them: what is queued will never be alerted, and a backlog's
            // negatives leave the queue without each being read (those queued meanwhile, in
            // the next round). The writer queues none while alerts are off (it reads the
            // same settings in each transaction); these were queued before they went off.
            self.db.drop_alerts()?;
        } else {
            loop {
                let queued = self.db.queued_alerts(ALERT_RATINGS)?;
                if queued.is_empty() {
                    break;
                }
                let ids: Vec<String> = queued.iter().map(|e| e.id.clone()).collect();
                let alert = Message::Alert {
                    unit: unit.clone(),
                    lang: settings.lang.clone(),
                    ratings: queued.iter().map(AlertRating::of).collect(),
                };
                self.db
                    .take_alerts(&ids, &to_channels(&channels, &alert), utc)?;
                round.alerted += ids.len();
            }
        }
        if settings.reports && !channels.is_empty() {
            let today = now.date_naive();
            let mut ended = vec![ReportPeriod::month_of(today).step(-1)];
            if today.month0().is_multiple_of(3) {
                ended.push(ReportPeriod::quarter_of(today).step(-1));
            }
            for period in ended {
                let code = period.code();
                if self.db.report_queued(&code)? {
                    continue;
                }
                let report = Message::Report {
                    unit: unit.clone(),
                    lang: settings.lang.clone(),
                    period: code.clone(),
                };
                self.db
                    .queue_report(&code, &to_channels(&channels, &report), utc)?;
                round.reports.push(code);
            }
        }
        for due in self.db.due_notifications(utc)? {
            match self.send(&settings, &due) {
                Ok(()) => {
                    self.db.mark_sent(due.id, Utc::now().max(utc))?;
                    tracing::info!(id = due.id, channel = %due.channel, kind = %due.kind, "notification sent");
                    round.sent += 1;
                }
                Err(error) => {
                    let retry = utc + backoff(due.attempts);
                    tracing::warn!(id = due.id, channel = %due.channel, attempts = due.attempts + 1, %error, retry_at = %retry, "notification not sent; it will be tried again");
                    self.db.mark_failed(due.id, &error, retry)?;
                    round.failed += 1;
                }
            }
        }
        round.next_due = self.db.next_due()?;
        Ok(round)
    }

    /// Sends one queued message through its channel.
    fn send(&self, settings: &Settings, due: &Notification) -> Result<(), String> {
        let message: Message =
            serde_json::from_str(&due.content).map_err(|e| format!("unreadable message: {e}"))?;
        let lang = message.lang();
        // A report is made when it is sent, from the database as it is then.
        let report = match &message {
            Message::Report { period, .. } => {
                let period: ReportPeriod = period.parse().map_err(|e| format!("{e}"))?;
                let heading = crate::state::heading(
                    self.db.unit_name().map_err(|e| e.to_string())?,
                    self.db.letterhead().map_err(|e| e.to_string())?,
                    period,
                );
                let source: &dyn hailong_report::Source = &*self.db;
                Some(hailong_report::report(source, heading).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        let key = format!("hailong-{}-{}", due.kind, due.id);
        match due.channel.as_str() {
            "smtp" => {
                let smtp = settings
                    .smtp
                    .as_ref()
                    .ok_or("no mail server is set (hailong-server notify smtp)")?;
                let figures = report.as_ref().map(|r| Figures {
                    ratings: r.counts.total(),
                    satisfied_tenths: r.counts.satisfied_tenths(),
                    negatives: r.negatives.len() as u64,
                });
                let (subject, text) = message::mail_text(&message, figures.as_ref());
                let file = match (&report, &message) {
                    (Some(r), Message::Report { period, .. }) => Some(channels::File {
                        name: format!("hailong-{period}.pdf"),
                        content_type: "application/pdf",
                        bytes: hailong_report::pdf(r, lang).map_err(|e| e.to_string())?,
                    }),
                    _ => None,
                };
                let host = smtp.from.split('@').nth(1).unwrap_or("hailong.local");
                channels::send_mail(smtp, &subject, &text, file, &format!("<{key}@{host}>"))
            }
            "webhook" => {
                let webhook = settings
                    .webhook
                    .as_ref()
                    .ok_or("no webhook is set (hailong-server notify webhook)")?;
                let mut body = serde_json::to_value(&message).map_err(|e| e.to_string())?;
                body["id"] = key.clone().into();
                if let (Some(r), Some(object)) = (&report, body.as_object_mut()) {
                    use base64::Engine;
                    let pdf = hailong_report::pdf(r, lang).map_err(|e| e.to_string())?;
                    object.insert("report".into(), r.to_json());
                    object.insert(
                        "pdf_base64".into(),
                        base64::engine::general_purpose::STANDARD.encode(pdf).into(),
                    );
                }
                channels::post(webhook, &body, &key)
            }
            other => Err(format!("unknown channel {other:?}")),
        }
    }

    /// Queues a test message on every channel set; how many.
    pub fn queue_test(&mut self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let settings = self.settings()?;
        let test = Message::Test {
            unit: self.db.unit_name()?,
            lang: settings.lang.clone(),
        };
        let messages = to_channels(&settings.channels(), &test);
        self.db.queue_messages(&messages, now)?;
        Ok(messages.len())
    }
}

/// `message` once for each channel: (channel, kind, content).
fn to_channels(channels: &[&str], message: &Message) -> Vec<(String, String, String)> {
    let content = serde_json::to_string(message).unwrap_or_default();
    channels
        .iter()
        .map(|c| ((*c).to_owned(), message.kind().to_owned(), content.clone()))
        .collect()
}

/// What wakes the notifier's thread.
pub enum Wake {
    /// A batch was committed: there may be negatives to alert.
    Poke,
    Stop,
}

/// The notifier's thread. Dropping it stops the thread after the round under way.
pub struct Notifications {
    wake: Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

impl Notifications {
    pub fn start(notifier: Notifier) -> Result<Notifications, DbError> {
        let mut notifier = notifier;
        let (wake, woken) = channel();
        let thread = crate::threads::spawn("notify".into(), move || run(&mut notifier, &woken))
            .map_err(DbError::Thread)?;
        Ok(Notifications {
            wake,
            thread: Some(thread),
        })
    }

    /// Something to tell the notifier that a batch was committed.
    pub fn waker(&self) -> Sender<Wake> {
        self.wake.clone()
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(notifier: &mut Notifier, woken: &Receiver<Wake>) {
    loop {
        let wait = match notifier.round(Local::now()) {
            Ok(round) => {
                let until_due = round
                    .next_due
                    .map(|due| (due - Utc::now()).to_std().unwrap_or_default());
                until_due.map_or(ROUND_EVERY, |d| d.min(ROUND_EVERY))
            }
            Err(e) => {
                tracing::error!(error = %e, "the notifier cannot read or write the database; trying again in a minute");
                ROUND_EVERY
            }
        };
        match woken.recv_timeout(wait) {
            Ok(Wake::Poke) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // Pokes that came during the round are all answered by the next one.
        loop {
            match woken.try_recv() {
                Ok(Wake::Poke) => {}
                Ok(Wake::Stop) => return,
                Err(_) => break,
            }
        }
    }
}
