//! Forwarding to the province: a commune's server, paired upward once
//! (`hailong-server upstream pair`), sends every entry it takes (ratings, unrated dossiers,
//! misuse presses, each with its tablet and counter) to its province's server, in the order
//! taken, in batches, several in flight at once, through the same batch API a tablet uses.
//! An entry leaves the outbox only when the province has answered for it and for every one
//! before it, so nothing is lost; the province keeps each id once, so nothing is counted
//! twice, and counts a repeat dossier as the commune did, in whatever order batches land.
//! Failures wait longer and longer (to 5 minutes) and the forwarding resumes where it
//! stopped, after a restart too; a province that no longer takes this server's token is not
//! asked again until it is paired again. A province's server forwards on to a national tier
//! the same way.

use crate::notify::Wake;
use crate::storage::StoreError;
use crate::store::Store;
use chrono::{DateTime, Utc};
use hailong_core::wire::{Batch, BatchResult, Status, WireMisuse, WireRating};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::Duration;

/// Entries in one batch upward: a tablet's batch at most.
pub const BATCH: usize = hailong_core::wire::MAX_BATCH;
/// Batches in flight upward at once at most, once the link has proved itself (see [`Window`]).
/// The forwarder reads the next while these travel and takes each off the outbox as soon as
/// it and those before it are answered; the commune's repeat decisions ride on the wire, so
/// the province may commit them in any order.
pub const IN_FLIGHT: usize = 4;
/// Successes in a row after which one more batch may be in flight.
const STREAK: u32 = 8;
/// The smallest batch after failures: on a link that cuts long requests, a batch this small
/// still gets through.
const SMALLEST_BATCH: usize = 50;
/// Batches read between two looks at the settings while forwarding: a server paired anew
/// sends no more to the province before.
const ROUND: usize = 32;
/// How long a request upward may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// With nothing to send, how long before looking again unprompted (each commit prompts).
const IDLE: Duration = Duration::from_secs(60);
/// With no province set, how often to look whether one was (`upstream pair` runs apart from
/// the server and cannot prompt it).
const UNPAIRED: Duration = Duration::from_secs(5);
/// The longest wait after failures.
const MOST_BACKOFF: Duration = Duration::from_secs(300);

/// The province this server forwards to, as kept in its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// The province's server, e.g. https://hailong.thanhhoa.gov.vn
    pub url: String,
    /// This server's token there (a client's credential, kept in the 0600 database).
    pub token: String,
    /// Its device id there.
    pub device_id: String,
    /// The certificate (PEM) of the CA that signed the province's certificate, if not a
    /// public one.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// When the province stopped taking this token (revoked there, or a province restored
    /// from before this pairing): nothing is sent until this server is paired again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_at: Option<DateTime<Utc>>,
}

/// Most bytes of entries in one batch: the province refuses a batch over `MAX_BATCH_BYTES`,
/// and the entry read last (up to a few kB) and the batch's own fields need room too.
pub const BATCH_BYTES: usize = hailong_core::wire::MAX_BATCH_BYTES * 3 / 4;
/// The oldest entries waiting for the province.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    /// The last of them, in the outbox's order.
    pub through: i64,
    pub ratings: Vec<WireRating>,
    pub misuse: Vec<WireMisuse>,
    /// Entries waiting in all, these included.
    pub waiting: u64,
    /// When the province last had a batch, as kept with the outbox.
    pub last_sent: Option<DateTime<Utc>>,
    /// The most bytes the entries read take in a batch.
    pub(crate) bytes: usize,
}

impl Outbox {
    /// The entries read: ratings and misuse presses.
    pub fn entries(&self) -> usize {
        self.ratings.len() + self.misuse.len()
    }

    /// Whether the entries read fill a batch's bytes (ratings with long comments fill it
    /// before its number does): the storage reads no more, the rest go in the next batch.
    pub fn full(&self) -> bool {
        self.bytes >= BATCH_BYTES
    }

    pub fn add_rating(&mut self, rating: WireRating) {
        self.bytes += rating.json_len_bound();
        self.ratings.push(rating);
    }

    pub fn add_misuse(&mut self, misuse: WireMisuse) {
        self.bytes += misuse.json_len_bound();
        self.misuse.push(misuse);
    }
}

/// How the link to the province stands, for the dashboard and `upstream show`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// The province's address, once paired.
    pub url: Option<String>,
    /// Entries waiting, as last counted.
    pub waiting: u64,
    pub last_sent: Option<DateTime<Utc>>,
    /// The last failure, if it came after the last success: when, and why.
    pub failing: Option<(DateTime<Utc>, String)>,
    /// Entries the province refused (it should never: each was taken here first).
    pub refused: u64,
    /// Since when the province no longer takes this server's token: nothing is sent until
    /// it is paired again.
    pub token_refused: Option<DateTime<Utc>>,
}

pub type SharedLink = Arc<Mutex<LinkState>>;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Http(String),
    #[error("the province's server answered {0}: {1}")]
    Refused(u16, String),
    /// 401: the province no longer knows this server's token.
    #[error("the province's server no longer takes this server's token (revoked there?)")]
    TokenRefused,
}

/// A client for the province's server, with timeouts; `ca_file` trusted besides the roots.
pub fn client(ca_file: Option<&str>) -> Result<reqwest::blocking::Client, UpstreamError> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| UpstreamError::Http(format!("the CA file {path}: {e}")))?;
        let ca = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| UpstreamError::Http(format!("the CA file {path}: {e}")))?;
        builder = builder.add_root_certificate(ca);
    }
    builder
        .build()
        .map_err(|e| UpstreamError::Http(e.to_string()))
}

/// Pairs this server with its province's using a code the province made for it
/// (`hailong-server pair --commune NAME --unit-code CODE` there).
pub fn pair(
    url: &str,
    code: &str,
    name: &str,
    ca_file: Option<&str>,
) -> Result<Upstream, UpstreamError> {
    let url = url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(UpstreamError::Http(format!(
            "{url:?} is not a server's address: https://…"
        )));
    }
    let answer = client(ca_file)?
        .post(format!("{url}/api/v1/devices/pair"))
        .json(&serde_json::json!({ "code": code.trim(), "device_name": name }))
        .send()
        .map_err(|e| UpstreamError::Http(e.to_string()))?;
    let status = answer.status();
    let body: serde_json::Value = answer
        .json()
        .map_err(|e| UpstreamError::Http(e.to_string()))?;
    if !status.is_success() {
        let said = body["error"].as_str().unwrap_or("").to_owned();
        return Err(UpstreamError::Refused(status.as_u16(), said));
    }
    let field = |name: &str| {
        body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| UpstreamError::Http(format!("the answer has no {name}")))
    };
    Ok(Upstream {
        url,
        token: field("token")?,
        device_id: field("device_id")?,
        ca_file: ca_file.map(str::to_owned),
        refused_at: None,
    })
}

/// How much goes upward at once, a slow start as TCP's: after a failure one batch at a time,
/// and after a second failure in a row half as big a batch as before (at least
/// [`SMALLEST_BATCH`]); after each success a batch twice as big, up to [`BATCH`], then after
/// every [`STREAK`] successes in a row one more in flight, up to [`IN_FLIGHT`]. On a link that
/// cuts long requests the batch shrinks until it gets through instead of meeting the same cut
/// again and again; one that fails now and then stays at one full batch at a time (a failure
/// with others in flight behind it sends those again); a sound one soon has several out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Entries in a batch at most.
    pub batch: usize,
    /// Batches in flight at most.
    pub in_flight: usize,
    /// Failures since the last success.
    failures: u32,
    /// Successes since the last failure.
    successes: u32,
}

impl Default for Window {
    /// Full batches, one at a time, until the first answer.
    fn default() -> Window {
        Window {
            batch: BATCH,
            in_flight: 1,
            failures: 0,
            successes: 0,
        }
    }
}

impl Window {
    pub fn failed(&mut self) {
        if self.failures > 0 {
            self.batch = (self.batch / 2).max(SMALLEST_BATCH);
        }
        self.failures += 1;
        self.successes = 0;
        self.in_flight = 1;
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.successes += 1;
        if self.batch < BATCH {
            self.batch = (self.batch * 2).min(BATCH);
        } else if self.successes.is_multiple_of(STREAK) {
            self.in_flight = (self.in_flight + 1).min(IN_FLIGHT);
        }
    }
}

/// A batch sent and the province's answer: how many of its entries it refused, or why none
/// was taken.
type Answered = (Outbox, Result<u64, UpstreamError>);
/// A batch on its way up, on a thread of its own.
type Flying<'scope> = std::thread::ScopedJoinHandle<'scope, Answered>;

/// Reads the outbox forward, batch after batch, for [`forward_waiting`].
struct Reader<'a> {
    upstream: &'a Upstream,
    link: &'a SharedLink,
    stopping: &'a AtomicBool,
    /// The last entry read.
    after: i64,
    reads: usize,
    /// Nothing more is read: nothing waits, or the forwarder stops, or it was paired anew.
    done: bool,
    /// Entries read and not yet taken off the outbox (in flight, or read ahead).
    unacked: u64,
}

impl Reader<'_> {
    /// The next batch of at most `batch` entries and how many wait behind it, or `None` once
    /// done. Every [`ROUND`] batches it looks whether the settings changed.
    fn next(
        &mut self,
        store: &dyn Store,
        batch: usize,
    ) -> Result<Option<(Outbox, u64)>, UpstreamError> {
        if self.reads > 0 && self.reads.is_multiple_of(ROUND) {
            self.done |= store.upstream()?.as_ref() != Some(self.upstream);
        }
        self.done |= self.stopping.load(Ordering::Relaxed);
        if self.done {
            return Ok(None);
        }
        let outbox = store.outbox(self.after, batch)?;
        set(self.link, |l| {
            l.waiting = outbox.waiting;
            l.last_sent = l.last_sent.max(outbox.last_sent);
        });
        let entries = outbox.entries() as u64;
        if entries == 0 {
            self.done = true;
            return Ok(None);
        }
        self.reads += 1;
        self.after = outbox.through;
        // The outbox holds those read before (not yet taken off), these, and those behind.
        let behind = outbox.waiting.saturating_sub(self.unacked + entries);
        self.unacked += entries;
        Ok(Some((outbox, behind)))
    }
}

/// The batches under way for [`forward_waiting`], oldest first, and the next one, read ahead.
struct Sending<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    client: &'env reqwest::blocking::Client,
    upstream: &'env Upstream,
    /// Each sending thread logs where the forwarder logs.
    dispatch: &'env tracing::Dispatch,
    reader: Reader<'env>,
    flying: VecDeque<Flying<'scope>>,
    ahead: Option<(Outbox, u64)>,
}

impl<'scope, 'env> Sending<'scope, 'env> {
    /// Sends batches, the one read ahead first, until `window.in_flight` are out or nothing
    /// more waits.
    fn fill(&mut self, store: &dyn Store, window: &Window) -> Result<(), UpstreamError> {
        while self.flying.len() < window.in_flight {
            let next = match self.ahead.take() {
                Some(read) => Some(read),
                None => self.reader.next(store, window.batch)?,
            };
            let Some((outbox, behind)) = next else {
                return Ok(());
            };
            let (client, upstream, dispatch) = (self.client, self.upstream, self.dispatch);
            self.flying.push_back(self.scope.spawn(move || {
                let answer = tracing::dispatcher::with_default(dispatch, || {
                    send(client, upstream, &outbox, behind)
                });
                (outbox, answer)
            }));
        }
        Ok(())
    }

    /// Reads the next batch while those out travel.
    fn read_ahead(&mut self, store: &dyn Store, window: &Window) -> Result<(), UpstreamError> {
        if self.ahead.is_none() {
            self.ahead = self.reader.next(store, window.batch)?;
        }
        Ok(())
    }

    /// The oldest batch out and its answer, waited for, and those behind it already answered;
    /// nothing once none is out.
    fn answered(&mut self) -> Result<Vec<Answered>, UpstreamError> {
        let mut answered = Vec::new();
        while let Some(oldest) = self.flying.pop_front() {
            answered.push(
                oldest
                    .join()
                    .map_err(|_| UpstreamError::Http("a sending thread failed".into()))?,
            );
            if !self.flying.front().is_some_and(|f| f.is_finished()) {
                break;
            }
        }
        Ok(answered)
    }
}

/// Sends what waits through `client` until nothing does (or the forwarder stops, or it was
/// paired anew), with up to `window.in_flight` batches at the province at once, each on a
/// thread of its own. The next batch is read while these travel, and answered batches are
/// replaced before they are taken off the outbox: the province is not left waiting on this
/// server's own work. Answers are taken in order: a batch answered leaves the outbox once
/// those before it did, the ones answered together in one commit. After the first failure
/// nothing more is sent; what was in flight behind it goes again later (the province keeps
/// each id once). How many entries it took off (0: nothing waits), or why none.
pub fn forward_waiting(
    store: &mut dyn Store,
    upstream: &Upstream,
    client: &reqwest::blocking::Client,
    link: &SharedLink,
    window: &mut Window,
    stopping: &AtomicBool,
) -> Result<usize, UpstreamError> {
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    std::thread::scope(|scope| {
        let mut sending = Sending {
            scope,
            client,
            upstream,
            dispatch: &dispatch,
            reader: Reader {
                upstream,
                link,
                stopping,
                after: 0,
                reads: 0,
                done: false,
                unacked: 0,
            },
            flying: VecDeque::with_capacity(IN_FLIGHT),
            ahead: None,
        };
        let (mut failed, mut taken) = (None::<UpstreamError>, 0usize);
        sending.fill(&*store, window)?;
        loop {
            let answered = sending.answered()?;
            if answered.is_empty() {
                break;
            }
            let (mut through, mut entries, mut refused) = (None, 0, 0);
            for (outbox, answer) in answered {
                match answer {
                    // Behind a failure, an answered batch is not taken off: the outbox leaves
                    // from its front.
                    Ok(_) if failed.is_some() => {}
                    Ok(said) => {
                        window.succeeded();
                        through = Some(outbox.through);
                        entries += outbox.entries();
                        refused += said;
                    }
                    Err(e) if failed.is_none() => {
                        window.failed();
                        failed = Some(e);
                    }
                    Err(_) => {}
                }
            }
            if failed.is_none() {
                sending.fill(&*store, window)?;
            }
            if let Some(through) = through {
                let now = Utc::now();
                store.forwarded(through, now)?;
                taken += entries;
                sending.reader.unacked -= entries as u64;
                set(link, |l| {
                    l.waiting = l.waiting.saturating_sub(entries as u64);
                    l.last_sent = Some(now);
                    l.failing = None;
                    l.refused += refused;
                });
            }
            if failed.is_none() {
                sending.read_ahead(&*store, window)?;
            }
        }
        match failed {
            Some(e) if taken == 0 => Err(e),
            Some(e) => {
                tracing::warn!(error = %e, "a batch to the province failed after others went; it goes again");
                Ok(taken)
            }
            None => Ok(taken),
        }
    })
}

/// Sends one batch, with `queued` entries behind it; how many of its entries the province
/// refused (it should never: each was taken here first).
fn send(
    client: &reqwest::blocking::Client,
    upstream: &Upstream,
    outbox: &Outbox,
    queued: u64,
) -> Result<u64, UpstreamError> {
    let now = chrono::Local::now().fixed_offset().to_rfc3339();
    let batch = Batch {
        ratings: &outbox.ratings,
        misuse: &outbox.misuse,
        queued: Some(queued),
        sent_at: Some(&now),
        acked_through: None,
        app_version: Some(env!("CARGO_PKG_VERSION")),
        // The province takes a commune's repeats as the commune counted them: no order needed.
        order: None,
    };
    let answer = client
        .post(format!("{}/api/v1/ratings/batch", upstream.url))
        .bearer_auth(&upstream.token)
        .json(&batch)
        .send()
        .map_err(|e| UpstreamError::Http(e.to_string()))?;
    let status = answer.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(UpstreamError::TokenRefused);
    }
    if !status.is_success() {
        let said = answer
            .json::<serde_json::Value>()
            .ok()
            .and_then(|b| b["error"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(UpstreamError::Refused(status.as_u16(), said));
    }
    let result: BatchResult = answer
        .json()
        .map_err(|e| UpstreamError::Http(format!("an unreadable answer: {e}")))?;
    if result.results.len() != outbox.ratings.len() {
        return Err(UpstreamError::Http(format!(
            "the answer has {} results for {} ratings",
            result.results.len(),
            outbox.ratings.len()
        )));
    }
    let refused: Vec<&str> = result
        .results
        .iter()
        .filter(|r| r.status == Status::Rejected)
        .map(|r| r.id.as_str())
        .collect();
    if !refused.is_empty() {
        // Taken here, refused there: a difference of versions, never resent as it is.
        tracing::error!(ids = ?refused, "the province refused entries this server took; they stay here");
    }
    Ok(refused.len() as u64)
}

fn set(link: &SharedLink, change: impl FnOnce(&mut LinkState)) {
    change(&mut link.lock().unwrap_or_else(|e| e.into_inner()));
}

/// The wait after `failures` failures in a row: 1 s, doubling, at most 5 minutes.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    Duration::from_secs(2u64.pow(doublings)).min(MOST_BACKOFF)
}

/// The forwarding thread. Dropping it stops the thread once the batches out are answered.
pub struct Forwarder {
    wake: Sender<Wake>,
    /// Set when dropped: the forwarder sends no more batches (those out are answered).
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub link: SharedLink,
}

impl Forwarder {
    pub fn start(mut store: Box<dyn Store>) -> std::io::Result<Forwarder> {
        let (wake, woken) = channel();
        let link = SharedLink::default();
        let shared = link.clone();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = crate::threads::spawn("upstream".into(), move || {
            run(&mut *store, &shared, &woken, &stop);
        })?;
        Ok(Forwarder {
            wake,
            stopping,
            thread: Some(thread),
            link,
        })
    }

    /// Something to tell the forwarder that entries were taken.
    pub fn waker(&self) -> Sender<Wake> {
        self.wake.clone()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(store: &mut dyn Store, link: &SharedLink, woken: &Receiver<Wake>, stopping: &AtomicBool) {
    let mut failures = 0u32;
    // Kept while the settings stay the same, so batches reuse its connection.
    let mut kept: Option<(Upstream, reqwest::blocking::Client)> = None;
    let mut window = Window::default();
    loop {
        let wait = match store.upstream() {
            Err(e) => {
                tracing::error!(error = %e, "cannot read the upstream settings");
                IDLE
            }
            Ok(None) => UNPAIRED,
            // Refused: nothing is sent, and the settings are looked at until it is paired
            // again.
            Ok(Some(upstream)) if upstream.refused_at.is_some() => {
                set(link, |l| {
                    l.url = Some(upstream.url.clone());
                    l.token_refused = upstream.refused_at;
                    l.failing = None;
                    if let Ok(outbox) = store.outbox(0, 0) {
                        l.waiting = outbox.waiting;
                        l.last_sent = l.last_sent.max(outbox.last_sent);
                    }
                });
                failures = 0;
                UNPAIRED
            }
            Ok(Some(upstream)) => {
                set(link, |l| {
                    l.url = Some(upstream.url.clone());
                    l.token_refused = None;
                });
                if kept.as_ref().is_none_or(|(k, _)| *k != upstream) {
                    kept = client(upstream.ca_file.as_deref())
                        .map(|c| (upstream.clone(), c))
                        .map_err(|e| tracing::error!(error = %e, "cannot make the client for the province"))
                        .ok();
                }
                let sent = match &kept {
                    Some((_, client)) => {
                        forward_waiting(store, &upstream, client, link, &mut window, stopping)
                    }
                    None => Err(UpstreamError::Http("no client for the province".into())),
                };
                match sent {
                    Ok(0) => {
                        failures = 0;
                        IDLE
                    }
                    Ok(sent) => {
                        failures = 0;
                        tracing::info!(entries = sent, "forwarded to the province");
                        Duration::ZERO
                    }
                    Err(UpstreamError::TokenRefused) => {
                        tracing::error!(
                            "the province's server no longer takes this server's token (revoked there, or restored from before the pairing); nothing is sent until it is paired again: hailong-server upstream pair"
                        );
                        let refused = Upstream {
                            refused_at: Some(Utc::now()),
                            ..upstream.clone()
                        };
                        if let Err(e) = store.set_upstream(&refused) {
                            tracing::error!(error = %e, "cannot keep that the province refused this server");
                        }
                        set(link, |l| l.token_refused = refused.refused_at);
                        UNPAIRED
                    }
                    Err(e) => {
                        failures += 1;
                        let wait = backoff(failures);
                        tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "cannot forward to the province; trying again");
                        set(link, |l| l.failing = Some((Utc::now(), e.to_string())));
                        wait
                    }
                }
            }
        };
        if wait.is_zero() {
            if let Ok(Wake::Stop) = woken.try_recv() {
                return;
            }
            continue;
        }
        // After a failure the wait runs its course: entries taken meanwhile do not make the
        // forwarder knock again sooner.
        let until = std::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match woken.recv_timeout(left) {
                Ok(Wake::Poke) if failures == 0 => break,
                Ok(Wake::Poke) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        // Pokes that came meanwhile are all answered by the next round.
        while let Ok(wake) = woken.try_recv() {
            if let Wake::Stop = wake {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::db::testing::{batch, paired, province_at, rating};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    type Hook = Box<dyn FnOnce() + Send>;

    /// A province that holds each batch until `IN_FLIGHT` are at it at once (once that
    /// happened, or after 5 s, it answers at once), refuses the batch beginning with `fail_at`
    /// once with a 503, and counts the times it was sent each id.
    #[derive(Default)]
    struct Province {
        at_once: AtomicUsize,
        most_at_once: AtomicUsize,
        opened: AtomicBool,
        open: tokio::sync::Notify,
        fail_at: Mutex<Option<String>>,
        sent: Mutex<HashMap<String, u32>>,
        /// Batches taken.
        batches: AtomicUsize,
        /// Run once the province has taken this many batches.
        hook: Mutex<Option<(usize, Hook)>>,
    }

    /// Serves `province` on a loopback port: its address, and the runtime it runs on.
    fn serve(province: &Arc<Province>) -> (String, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/api/v1/ratings/batch", axum::routing::post(take))
            .with_state(province.clone());
        rt.spawn(async move { axum::serve(listener, app).await });
        (url, rt)
    }

    async fn take(
        axum::extract::State(province): axum::extract::State<Arc<Province>>,
        axum::Json(batch): axum::Json<serde_json::Value>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let ids: Vec<String> = batch["ratings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        let here = province.at_once.fetch_add(1, Ordering::SeqCst) + 1;
        province.most_at_once.fetch_max(here, Ordering::SeqCst);
        if here == IN_FLIGHT {
            province.opened.store(true, Ordering::SeqCst);
            province.open.notify_waiters();
        }
        let opened = province.open.notified();
        if !province.opened.load(Ordering::SeqCst) {
            let _ = tokio::time::timeout(Duration::from_secs(5), opened).await;
        }
        province.at_once.fetch_sub(1, Ordering::SeqCst);
        let mut fail_at = province.fail_at.lock().unwrap();
        if fail_at.as_ref() == ids.first() {
            *fail_at = None;
            return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
        }
        drop(fail_at);
        let mut sent = province.sent.lock().unwrap();
        for id in &ids {
            *sent.entry(id.clone()).or_default() += 1;
        }
        drop(sent);
        let taken = province.batches.fetch_add(1, Ordering::SeqCst) + 1;
        let mut hook = province.hook.lock().unwrap();
        if hook.as_ref().is_some_and(|(at, _)| *at == taken) {
            hook.take().unwrap().1();
        }
        let results: Vec<_> = ids
            .iter()
            .map(|id| serde_json::json!({ "id": id, "status": "accepted" }))
            .collect();
        axum::Json(serde_json::json!({ "results": results, "in_order": true })).into_response()
    }

    #[test]
    fn batches_go_several_at_once_and_leave_the_outbox_in_order_through_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        let items = (1..=1000).map(|n| rating(n, "")).collect();
        db.ingest(&[&batch(&tablet, items)], Utc::now()).unwrap();
        let id = |n: u32| format!("01936f6e-8b7a-7c41-9a57-{n:012}");

        let province = Arc::new(Province::default());
        *province.fail_at.lock().unwrap() = Some(id(101));
        let (url, _rt) = serve(&province);
        let upstream = province_at(&url);
        db.set_upstream(&upstream).unwrap();
        let (client, link) = (client(None).unwrap(), SharedLink::default());

        // Four batches of 50 at the province at once (1-50, 51-100, 101-150, 151-200), the
        // next read meanwhile; each answer makes room for another (a batch twice as big after
        // each success). The third fails: the two before it leave the outbox, those behind it
        // (answered) stay and go again, and one goes at a time again.
        let mut window = Window {
            batch: 50,
            in_flight: IN_FLIGHT,
            ..Window::default()
        };
        let stopping = AtomicBool::new(false);
        let forward = |db: &mut Db, window: &mut Window| {
            forward_waiting(db, &upstream, &client, &link, window, &stopping).unwrap()
        };
        let taken = forward(&mut db, &mut window);
        assert_eq!(taken, 100);
        assert_eq!(province.most_at_once.load(Ordering::SeqCst), IN_FLIGHT);
        assert_eq!(window.in_flight, 1);
        let front = db.outbox(0, 1).unwrap();
        assert_eq!(front.ratings[0].id, id(101));
        assert_eq!(front.waiting, 900);
        assert_eq!(link.lock().unwrap().waiting, 900);

        while forward(&mut db, &mut window) > 0 {}
        assert_eq!(db.outbox(0, 1).unwrap().waiting, 0);
        assert_eq!(link.lock().unwrap().waiting, 0);
        let sent = province.sent.lock().unwrap();
        assert_eq!(sent.len(), 1000, "every entry reached the province");
        // How many went behind the failed batch depends on when its answer came.
        let twice: Vec<u32> = (1..=1000).filter(|&n| sent[&id(n)] > 1).collect();
        assert_eq!(twice.first(), Some(&151), "only those behind the failure");
        assert!(
            twice.windows(2).all(|w| w[1] == w[0] + 1),
            "those behind the failure, one run: {twice:?}"
        );
        // Full batches again after a few successes, still one at a time.
        assert_eq!((window.batch, window.in_flight), (BATCH, 1));
    }

    #[test]
    fn forwarding_sends_no_more_once_the_forwarder_stops_or_the_server_is_paired_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut db = Db::open(&path).unwrap();
        let tablet = paired(&mut db, "Quầy 1");
        for first in (0..20_000).step_by(1000) {
            let items = (first..first + 1000).map(|n| rating(n, "")).collect();
            db.ingest(&[&batch(&tablet, items)], Utc::now()).unwrap();
        }
        let province = Arc::new(Province::default());
        // At once: no batch waits for others.
        province.opened.store(true, Ordering::SeqCst);
        let (url, _rt) = serve(&province);
        let upstream = province_at(&url);
        db.set_upstream(&upstream).unwrap();
        let (client, link) = (client(None).unwrap(), SharedLink::default());
        let mut window = Window {
            batch: 50,
            in_flight: IN_FLIGHT,
            ..Window::default()
        };
        let stopping = Arc::new(AtomicBool::new(false));
        let waiting = |db: &Db| db.outbox(0, 0).unwrap().waiting;

        // Stopped while its third batch is answered: the batches out (and the one read
        // ahead) are answered and taken off, and no more go.
        let stop = stopping.clone();
        *province.hook.lock().unwrap() =
            Some((3, Box::new(move || stop.store(true, Ordering::SeqCst))));
        let taken =
            forward_waiting(&mut db, &upstream, &client, &link, &mut window, &stopping).unwrap();
        let sent = province.batches.load(Ordering::SeqCst);
        assert!((3..=3 + IN_FLIGHT + 1).contains(&sent), "{sent} batches");
        let held = province.sent.lock().unwrap().len();
        assert_eq!(taken, held, "what the province answered left the outbox");
        assert_eq!(waiting(&db), 20_000 - held as u64);

        // Paired with another province while forwarding: within a round of batches it sends
        // no more to this one.
        stopping.store(false, Ordering::SeqCst);
        let another = province_at("http://127.0.0.1:9");
        let repair = Mutex::new(Db::open(&path).unwrap());
        *province.hook.lock().unwrap() = Some((
            sent + 1,
            Box::new(move || repair.lock().unwrap().set_upstream(&another).unwrap()),
        ));
        forward_waiting(&mut db, &upstream, &client, &link, &mut window, &stopping).unwrap();
        let more = province.batches.load(Ordering::SeqCst) - sent;
        assert!((1..=ROUND + 1).contains(&more), "{more} batches more");
        assert!(waiting(&db) > 0, "it stopped before the outbox was empty");
        assert_eq!(
            waiting(&db),
            20_000 - province.sent.lock().unwrap().len() as u64
        );
    }

    #[test]
    fn failures_wait_longer_and_longer_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(u32::MAX), MOST_BACKOFF);
    }

    #[test]
    fn the_window_falls_to_one_batch_on_a_failure_to_smaller_ones_on_more_and_opens_again() {
        let mut window = Window::default();
        let at = |w: &Window| (w.batch, w.in_flight);
        assert_eq!(at(&window), (BATCH, 1));
        for in_flight in 2..=IN_FLIGHT {
            for _ in 1..STREAK {
                window.succeeded();
            }
            assert_eq!(at(&window), (BATCH, in_flight - 1));
            window.succeeded();
            assert_eq!(at(&window), (BATCH, in_flight));
        }
        for _ in 0..STREAK {
            window.succeeded();
        }
        assert_eq!(window.in_flight, IN_FLIGHT, "no more than IN_FLIGHT");
        window.failed();
        assert_eq!(
            at(&window),
            (BATCH, 1),
            "one failure: full batches, one at a time"
        );
        window.failed();
        assert_eq!(at(&window), (BATCH / 2, 1), "two in a row: smaller batches");
        for _ in 0..10 {
            window.failed();
        }
        assert_eq!(at(&window), (SMALLEST_BATCH, 1));
        // Full batches first, then more of them at once.
        let mut batches = vec![];
        while window.in_flight == 1 {
            window.succeeded();
            batches.push(window.batch);
        }
        assert_eq!(batches.len(), STREAK as usize);
        assert_eq!(batches[..4], [100, 200, 400, BATCH]);
        assert_eq!(window.in_flight, 2);
        window.failed();
        assert_eq!(
            at(&window),
            (BATCH, 1),
            "a success in between: full batches again"
        );
    }
}
