//! The kiosk's background sender: on its own thread and tokio runtime, it sends the outbox
//! whenever the server answers, backs off when it does not, and reports how far behind the
//! tablet is. The UI only sends it commands and shows its reports.

use super::backoff::Backoff;
use super::{Link, SyncError, pair, send_all};
use crate::clock::Clock;
use crate::paths::DataDir;
use crate::settings::Settings;
use crate::store::{OutboxCounts, RejectedRating, Store, SyncRecord};
use chrono::{DateTime, FixedOffset};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How often the worker looks for ratings the kiosk committed, when all is well.
pub const WATCH: Duration = Duration::from_secs(1);

/// How often an idle tablet still checks in with the server (an empty batch): so a server
/// restored from a backup gets back what it lost, and its tablets page shows the tablet alive.
pub const CHECK_IN: Duration = Duration::from_secs(5 * 60);

/// Pairing asked for on the administrator's screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairRequest {
    pub server: String,
    pub code: String,
    pub ca_file: Option<PathBuf>,
    /// The commune CA's fingerprint from an invitation: that CA is fetched, checked and pinned.
    pub ca: Option<hailong_core::invite::Fingerprint>,
}

impl PairRequest {
    /// A request from an invitation (scanned or typed).
    pub fn from_invite(invite: hailong_core::invite::Invite) -> PairRequest {
        PairRequest {
            server: invite.server,
            code: invite.code,
            ca_file: None,
            ca: invite.ca,
        }
    }
}

/// Where a pairing asked for on the screen stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pairing {
    #[default]
    Idle,
    Working,
    Paired,
    /// A `SyncError` code.
    Failed(&'static str),
}

/// What the administrator's screen shows about sending; plain data, sent across threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The paired server's address, or none when not paired.
    pub server: Option<String>,
    pub plain_http: bool,
    pub counts: OutboxCounts,
    /// The latest ratings the server refused (up to `REJECTED_SHOWN`).
    pub rejected: Vec<RejectedRating>,
    pub record: SyncRecord,
    /// When the next try is due, while backing off after a failure.
    pub retry_at: Option<DateTime<FixedOffset>>,
    /// A pass is under way.
    pub sending: bool,
    /// A pairing asked for on the screen: reported once when it starts and once when it ends,
    /// `Idle` in every other report.
    pub pairing: Pairing,
    /// The server no longer takes this tablet's token (revoked there): nothing is sent, and
    /// no try is scheduled, until it is paired again ("Gửi ngay" tries once). Kept across
    /// restarts with the last error.
    pub refused: bool,
}

/// The error code of a token the server refuses.
const REFUSED: &str = "unauthorised";

/// Whether a wake-up nobody asked for sends: never while the server refuses this tablet;
/// otherwise after a failure (the backoff is over), when the kiosk committed something, or
/// when a check-in is due.
fn tries_unasked(refused: bool, backing_off: bool, changed: bool, check_in_due: bool) -> bool {
    !refused && (backing_off || changed || check_in_due)
}

/// How many refused ratings a report lists.
pub const REJECTED_SHOWN: usize = 50;

enum Command {
    SendNow,
    Pair(PairRequest),
    Settings(Box<Settings>),
}

/// The running worker. Dropping it stops the worker, abandoning any request in flight (the
/// server may have committed it; the tablet has not marked it, so it is sent again and
/// answered as a duplicate).
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<Command>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts the worker on the database in `dir`; it tries at once, so a queue left by the
    /// last run goes as soon as the server answers. `report` runs on the worker's thread.
    pub fn spawn(
        dir: DataDir,
        settings: Settings,
        clock: Arc<dyn Clock>,
        report: impl Fn(SyncStatus) + Send + 'static,
    ) -> Result<SyncHandle, SyncError> {
        let store = Store::open(&dir.database())?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let record = store.sync_record()?;
        let worker = Worker {
            status: SyncStatus {
                refused: record.last_error.as_deref() == Some(REFUSED),
                record,
                ..SyncStatus::default()
            },
            dir,
            store,
            settings,
            clock,
            report: Box::new(report),
            backoff: Backoff::default(),
            rng: StdRng::from_os_rng(),
            checked_in_at: None,
            check_in_asked: false,
        };
        let runtime = super::runtime()?;
        let thread = std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || runtime.block_on(worker.run(receiver, stopped)))?;
        Ok(SyncHandle {
            commands,
            stop,
            thread: Some(thread),
        })
    }

    /// Tries now, whatever the backoff says.
    pub fn send_now(&self) {
        self.command(Command::SendNow);
    }

    /// Pairs with a server, replacing any earlier link, then sends.
    pub fn pair(&self, request: PairRequest) {
        self.command(Command::Pair(request));
    }

    /// The settings changed: ratings go out under the new counter name.
    pub fn settings_changed(&self, settings: Settings) {
        self.command(Command::Settings(Box::new(settings)));
    }

    fn command(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::error!("the sync worker has stopped");
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the sync worker panicked");
        }
    }
}

struct Worker {
    dir: DataDir,
    store: Store,
    settings: Settings,
    clock: Arc<dyn Clock>,
    report: Box<dyn Fn(SyncStatus) + Send>,
    status: SyncStatus,
    backoff: Backoff,
    rng: StdRng,
    /// When the server last answered this worker.
    checked_in_at: Option<Instant>,
    /// "Gửi ngay": check in even with nothing to send.
    check_in_asked: bool,
}

/// Runs `work` unless the worker is told to stop first.
async fn unless_stopped<T>(
    stopped: &mut watch::Receiver<bool>,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        biased;
        _ = stopped.wait_for(|stop| *stop) => None,
        out = work => Some(out),
    }
}

/// What woke the worker.
enum Wake {
    Command(Command),
    Due,
    /// The handle is gone.
    Closed,
}

impl Worker {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let mut seen_version = None;
        let mut due = Instant::now();
        if self.status.refused {
            // Said at once: no pass will say it.
            self.publish();
        }
        loop {
            let wake = unless_stopped(&mut stopped, async {
                tokio::select! {
                    command = commands.recv() => command.map_or(Wake::Closed, Wake::Command),
                    _ = tokio::time::sleep_until(due) => Wake::Due,
                }
            })
            .await;
            let go = match wake {
                None | Some(Wake::Closed) => return,
                Some(Wake::Due) => {
                    // After a backoff, or when the kiosk committed something since last look.
                    let version = self.store.data_version().ok();
                    let changed = version != seen_version;
                    seen_version = version;
                    tries_unasked(
                        self.status.refused,
                        self.backoff.is_waiting(),
                        changed,
                        self.check_in_due(),
                    )
                }
                Some(Wake::Command(Command::SendNow)) => {
                    self.check_in_asked = true;
                    true
                }
                Some(Wake::Command(Command::Settings(settings))) => {
                    self.settings = *settings;
                    false
                }
                Some(Wake::Command(Command::Pair(request))) => {
                    match unless_stopped(&mut stopped, self.pair(request)).await {
                        Some(paired) => paired,
                        None => return,
                    }
                }
            };
            if go {
                match unless_stopped(&mut stopped, self.pass()).await {
                    Some(wait) => due = Instant::now() + wait,
                    None => return,
                }
            } else if !self.backoff.is_waiting() {
                due = Instant::now() + WATCH;
            }
        }
    }

    async fn pair(&mut self, request: PairRequest) -> bool {
        self.status.pairing = Pairing::Working;
        self.publish();
        let paired = pair(&self.dir, &self.settings, &request).await;
        let done = match paired {
            Ok(link) => {
                tracing::info!(server = %link.server, device = %link.device_id, "paired");
                self.status.pairing = Pairing::Paired;
                self.show_link(Some(&link));
                self.status.record.last_error = None;
                self.status.refused = false;
                self.backoff.succeeded();
                true
            }
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "pairing failed");
                self.status.pairing = Pairing::Failed(e.code());
                false
            }
        };
        self.publish();
        self.status.pairing = Pairing::Idle;
        done
    }

    /// One pass over the outbox; returns how long to wait before looking again.
    async fn pass(&mut self) -> Duration {
        let link = match Link::load(&self.dir) {
            Ok(Some(link)) => link,
            Ok(None) => {
                // Nothing to check in with: look again when there is something to send.
                self.checked_in_at = Some(Instant::now());
                self.show_link(None);
                self.status.retry_at = None;
                self.publish();
                return WATCH;
            }
            Err(e) => return self.failed(SyncError::Io(e)),
        };
        self.show_link(Some(&link));
        self.status.retry_at = None;
        self.status.sending = true;
        self.publish();
        let check_in = self.check_in_due() || std::mem::take(&mut self.check_in_asked);
        let result = send_all(&mut self.store, &self.settings, &link, check_in).await;
        self.status.sending = false;
        match result {
            Ok(sent) => {
                if check_in || sent.delivered + sent.rejected > 0 {
                    self.checked_in_at = Some(Instant::now());
                }
                if sent.delivered + sent.rejected > 0 {
                    tracing::info!(delivered = sent.delivered, rejected = sent.rejected, "sent");
                    self.status.record.last_success = Some(self.clock.now());
                }
                self.status.record.last_error = None;
                self.status.refused = false;
                self.backoff.succeeded();
                self.save_record();
                self.publish();
                WATCH
            }
            Err(e) => self.failed(e),
        }
    }

    /// Whether it is time to check in: at start, then every `CHECK_IN`.
    fn check_in_due(&self) -> bool {
        self.checked_in_at.is_none_or(|at| at.elapsed() >= CHECK_IN)
    }

    fn failed(&mut self, error: SyncError) -> Duration {
        if error.code() == REFUSED {
            // Trying again cannot help: it waits to be paired again.
            tracing::error!(error = %error, "the server no longer takes this tablet's token; nothing is sent until it is paired again");
            self.status.sending = false;
            self.status.refused = true;
            self.status.record.last_error = Some(error.code().to_owned());
            self.status.retry_at = None;
            self.backoff.succeeded();
            self.save_record();
            self.publish();
            return WATCH;
        }
        let wait = self.backoff.failed(&mut self.rng);
        tracing::warn!(
            code = error.code(),
            error = %error,
            failures = self.backoff.failures(),
            retry_in_secs = wait.as_secs(),
            "sending failed"
        );
        self.status.sending = false;
        self.status.record.last_error = Some(error.code().to_owned());
        self.status.retry_at = chrono::Duration::from_std(wait)
            .ok()
            .map(|w| self.clock.now() + w);
        self.save_record();
        self.publish();
        wait
    }

    fn show_link(&mut self, link: Option<&Link>) {
        self.status.server = link.map(|l| l.server.clone());
        self.status.plain_http = link.is_some_and(Link::is_plain_http);
    }

    fn save_record(&mut self) {
        if let Err(e) = self.store.save_sync_record(&self.status.record) {
            tracing::error!(error = %e, "could not save how sending went");
        }
    }

    /// Refreshes the counts (and the refused ratings, when there are more) and reports the
    /// whole status.
    fn publish(&mut self) {
        let refused_before = self.status.counts.rejected;
        match self.store.outbox_counts() {
            Ok(counts) => self.status.counts = counts,
            Err(e) => tracing::error!(error = %e, "could not count the outbox"),
        }
        if self.status.counts.rejected != refused_before {
            match self.store.rejected(REJECTED_SHOWN) {
                Ok(rejected) => self.status.rejected = rejected,
                Err(e) => tracing::error!(error = %e, "could not list the refused ratings"),
            }
        }
        (self.report)(self.status.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::tries_unasked;

    #[test]
    fn a_refused_tablet_never_tries_unasked_and_others_try_when_there_is_a_reason() {
        for backing_off in [false, true] {
            for changed in [false, true] {
                for check_in in [false, true] {
                    assert!(!tries_unasked(true, backing_off, changed, check_in));
                    assert_eq!(
                        tries_unasked(false, backing_off, changed, check_in),
                        backing_off || changed || check_in
                    );
                }
            }
        }
    }
}
