//! Sending the outbox to the commune server: pairing, and sending every queued rating in
//! batches, marked sent only from the server's answers.

mod backoff;
mod link;
mod wire;
mod worker;

pub use backoff::Backoff;
pub use link::Link;
pub use worker::{PairRequest, Pairing, REJECTED_SHOWN, SyncHandle, SyncStatus, WATCH};

use crate::paths::DataDir;
use crate::settings::Settings;
use crate::store::{Delivery, Outgoing, Resend, Store, StoreError};
use hailong_core::invite::Fingerprint;
use hailong_core::wire::{Batch, BatchResult, ItemResult, Order, Status, WireMisuse, WireRating};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

/// Most ratings per request: as many as the server takes.
pub const BATCH: usize = hailong_core::wire::MAX_BATCH;
/// Most bytes of ratings per request: the server refuses a batch over `MAX_BATCH_BYTES`, and
/// the misuse presses and the batch's own fields need room too.
const BATCH_BYTES: usize = hailong_core::wire::MAX_BATCH_BYTES * 3 / 4;
/// Most batches at the server at once, when it writes them in their order.
const IN_FLIGHT: usize = 2;
/// Most misuse presses per request (the server takes up to 1000).
const MISUSE_BATCH: usize = 500;
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this tablet is not paired with a server: run `hailong pair` first")]
    NotPaired,
    #[error("{0:?} is not a server address (http:// or https://)")]
    BadAddress(String),
    #[error("the CA certificate {path} cannot be used: {reason}")]
    BadCa { path: String, reason: String },
    #[error(transparent)]
    BadInvite(#[from] hailong_core::invite::InviteError),
    #[error("the server's CA is not the one in the invitation (fingerprint {found})")]
    CaMismatch { found: String },
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server refused: {status} {message}")]
    Refused { status: u16, message: String },
    #[error("the server's answer does not fit the request")]
    BadAnswer,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the server link: {0}")]
    Io(#[from] std::io::Error),
}

impl SyncError {
    /// A code for the administrator's screen, which shows the words.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotPaired => "not_paired",
            SyncError::BadAddress(_) => "bad_address",
            SyncError::BadCa { .. } => "bad_ca",
            SyncError::BadInvite(e) => e.code(),
            SyncError::CaMismatch { .. } => "ca_mismatch",
            SyncError::Unreachable(_) => "unreachable",
            SyncError::Refused {
                status: 401 | 403, ..
            } => "unauthorised",
            SyncError::Refused { status: 410, .. } => "code_used",
            SyncError::Refused { status: 429, .. } => "rate_limited",
            SyncError::Refused { .. } => "refused",
            SyncError::BadAnswer => "bad_answer",
            SyncError::Store(_) | SyncError::Io(_) => "storage",
        }
    }
}

/// Whom a tablet trusts with its token and ratings.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// The system's roots, plus a commune CA's certificate file if given.
    Roots(Option<&'a Path>),
    /// Only the commune CA pinned at pairing (PEM).
    Pinned(&'a str),
}

impl Link {
    fn trust(&self) -> Trust<'_> {
        match &self.ca_pem {
            Some(pem) => Trust::Pinned(pem),
            None => Trust::Roots(self.ca_file.as_deref()),
        }
    }
}

fn builder() -> reqwest::ClientBuilder {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        // The server closes a connection idle for 20 s: let go of it before then, so that no
        // batch is sent on a connection the server is closing.
        .pool_idle_timeout(Duration::from_secs(15))
}

/// An HTTP client trusting whom `trust` says.
pub fn client(trust: Trust) -> Result<reqwest::Client, SyncError> {
    let mut builder = builder();
    if let Trust::Pinned(pem) = trust {
        let certificate =
            reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| SyncError::BadCa {
                path: "server.json".into(),
                reason: e.to_string(),
            })?;
        builder = builder.tls_certs_only([certificate]);
    }
    if let Trust::Roots(Some(path)) = trust {
        let bad = |reason: String| SyncError::BadCa {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certificate = reqwest::Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| SyncError::Unreachable(e.to_string()))
}

fn check_address(server: &str) -> Result<String, SyncError> {
    let server = server.trim().trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(SyncError::BadAddress(server.to_owned()));
    }
    Ok(server.to_owned())
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// Sends a request; anything but a success becomes the server's refusal with its words.
async fn exchange(request: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
    let response = request
        .send()
        .await
        .map_err(|e| SyncError::Unreachable(e.to_string()))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let message = response
        .json::<ErrorBody>()
        .await
        .map(|b| b.error)
        .unwrap_or_default();
    // The server's words reach the log and the terminal: no line breaks or escapes from it.
    let message = hailong_core::escape::Escaped::clipped(&message).to_string();
    Err(SyncError::Refused { status, message })
}

/// The largest CA certificate a server may send (a real one is about 600 bytes).
const CA_MAX_BYTES: usize = 16 * 1024;

/// Fetches the commune CA's certificate from `server` and keeps it only if its SHA-256 is
/// `pinned`. The connection that brings it is not checked (the tablet trusts no one yet); the
/// fingerprint, which came by hand or by scan from the server's own screen, is the check.
async fn fetch_pinned_ca(server: &str, pinned: Fingerprint) -> Result<String, SyncError> {
    let client = builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| SyncError::Unreachable(e.to_string()))?;
    let mut response = exchange(client.get(format!("{server}/api/v1/ca.pem"))).await?;
    let mut pem = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SyncError::Unreachable(e.to_string()))?
    {
        pem.extend_from_slice(&chunk);
        if pem.len() > CA_MAX_BYTES {
            return Err(SyncError::BadAnswer);
        }
    }
    let der = CertificateDer::from_pem_slice(&pem).map_err(|_| SyncError::BadAnswer)?;
    let found = Fingerprint(Sha256::digest(der.as_ref()).into());
    if found != pinned {
        return Err(SyncError::CaMismatch {
            found: found.to_string(),
        });
    }
    String::from_utf8(pem).map_err(|_| SyncError::BadAnswer)
}

/// Pairs this tablet with a one-time code and saves the link. With a CA fingerprint (from an
/// invitation), the tablet fetches the commune's CA, checks it against the fingerprint, pairs
/// over a connection only that CA can vouch for, and from then on trusts that CA alone.
pub async fn pair(
    dir: &DataDir,
    settings: &Settings,
    request: &PairRequest,
) -> Result<Link, SyncError> {
    #[derive(Deserialize)]
    struct Paired {
        device_id: String,
        token: String,
    }
    let server = check_address(&request.server)?;
    let ca_pem = match request.ca {
        Some(fingerprint) => Some(fetch_pinned_ca(&server, fingerprint).await?),
        None => None,
    };
    let trust = match &ca_pem {
        Some(pem) => Trust::Pinned(pem),
        None => Trust::Roots(request.ca_file.as_deref()),
    };
    let code = &request.code;
    let response = exchange(
        client(trust)?
            .post(format!("{server}/api/v1/devices/pair"))
            .json(&serde_json::json!({
                "code": code.trim(),
                "device_name": format!("{} – {}", settings.unit_name, settings.counter_name),
            })),
    )
    .await?;
    let paired: Paired = response.json().await.map_err(|_| SyncError::BadAnswer)?;
    let link = Link {
        server,
        device_id: paired.device_id,
        token: paired.token,
        ca_file: request.ca_file.clone().filter(|_| ca_pem.is_none()),
        ca_pem,
    };
    link.save(dir)?;
    Ok(link)
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Ratings the server now has (accepted, duplicate or conflict).
    pub delivered: u64,
    pub rejected: u64,
}

/// The runtime the sender runs on: its requests go on a thread of their own, so that a batch
/// travels and is committed by the server while the caller's thread reads the next one from
/// the outbox and marks the last one answered.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sync-http")
        .enable_all()
        .build()
}

/// A batch read from the outbox, not sent yet.
#[derive(Default)]
struct Batched {
    ratings: Vec<WireRating>,
    /// Each rating's place in the outbox, as `ratings`.
    seqs: Vec<i64>,
    misuse: Vec<WireMisuse>,
}

impl Batched {
    fn is_empty(&self) -> bool {
        self.ratings.is_empty() && self.misuse.is_empty()
    }
}

/// A batch sent, and the server's answer to come. Dropped before the answer, the request is
/// abandoned (the server may have committed it; unmarked here, it goes again and is answered
/// as a duplicate).
struct InFlight {
    batch: Batched,
    acked_through: Option<u64>,
    answer: tokio::task::JoinHandle<Result<BatchResult, SyncError>>,
}

impl InFlight {
    /// Waits for the server's answer; checks that it answers for this batch.
    async fn answered(&mut self) -> Result<BatchResult, SyncError> {
        let answer = (&mut self.answer)
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))??;
        let batch = &self.batch;
        let matches = answer.results.len() == batch.ratings.len()
            && answer.misuse_received == batch.misuse.len() as u64
            && answer
                .results
                .iter()
                .zip(&batch.ratings)
                .all(|(r, w)| r.id.eq_ignore_ascii_case(&w.id));
        if matches {
            Ok(answer)
        } else {
            Err(SyncError::BadAnswer)
        }
    }

    /// Only a server that holds less than the tablet told it of may ask for a resend.
    fn resend(&self, answer: &BatchResult) -> Option<Resend> {
        match (answer.resend_after, self.acked_through) {
            (Some(after), Some(through)) if after < through => Some(Resend { after, through }),
            _ => None,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.answer.abort();
    }
}

/// One pass over the outbox: where it has read to, and what it has done.
struct Pass<'a> {
    store: &'a mut Store,
    settings: &'a Settings,
    /// The outbox's last rating read (sent or in flight): the next batch starts after it.
    after: i64,
    /// What still waits after each batch, told to the server. Counted once per pass: counted
    /// before every batch, a backlog of a million ratings took three times as long to send.
    /// Ratings finished during the pass are not in it; the next pass counts them.
    waiting: u64,
    sent: Sent,
    /// The next batch's place in this pass.
    order: Order,
}

impl Pass<'_> {
    /// The next batch after what was read: up to `BATCH` ratings and `BATCH_BYTES` of them,
    /// and misuse presses unless `with_misuse` is false (those in flight are not marked yet).
    /// Ratings damaged on the tablet are listed as refused on the way.
    fn read(&mut self, with_misuse: bool) -> Result<Batched, SyncError> {
        let mut batch = Batched::default();
        loop {
            let mut damaged = Vec::new();
            let mut bytes = 0;
            for outgoing in self.store.outbox(self.after, BATCH)? {
                let seq = outgoing.seq();
                match outgoing {
                    Outgoing::Ready(rating) => {
                        let rating = wire::to_wire(
                            &rating,
                            self.settings.scale,
                            &self.settings.counter_name,
                        );
                        // Ratings with long comments fill a batch before its number does;
                        // the rest wait for the next one.
                        bytes += rating.json_len_bound();
                        if bytes > BATCH_BYTES && !batch.ratings.is_empty() {
                            break;
                        }
                        batch.ratings.push(rating);
                        batch.seqs.push(seq);
                    }
                    Outgoing::Damaged { part, .. } => damaged.push((
                        seq,
                        Delivery::Refused {
                            code: wire::damaged_code(part),
                        },
                    )),
                }
                self.after = seq;
            }
            if damaged.is_empty() {
                break;
            }
            tracing::warn!(
                count = damaged.len(),
                "ratings damaged on the tablet are kept and listed as refused, not sent"
            );
            self.waiting = self.waiting.saturating_sub(damaged.len() as u64);
            self.sent.rejected += damaged.len() as u64;
            self.store.record_sync(damaged, None)?;
            if !batch.ratings.is_empty() {
                break;
            }
        }
        if with_misuse {
            batch.misuse = self.store.misuse_outbox(MISUSE_BATCH)?;
        }
        Ok(batch)
    }

    /// Sends `batch` on the runtime's own thread.
    fn send(
        &mut self,
        client: &reqwest::Client,
        link: &Link,
        batch: Batched,
    ) -> Result<InFlight, SyncError> {
        self.waiting = self.waiting.saturating_sub(batch.ratings.len() as u64);
        let sent_at = chrono::Local::now().fixed_offset().to_rfc3339();
        let acked_through = self.store.acked_through()?;
        let request = client
            .post(format!("{}/api/v1/ratings/batch", link.server))
            .bearer_auth(&link.token)
            .json(&Batch {
                ratings: &batch.ratings,
                misuse: &batch.misuse,
                queued: Some(self.waiting),
                sent_at: Some(&sent_at),
                acked_through,
                app_version: Some(env!("CARGO_PKG_VERSION")),
                order: Some(self.order),
            });
        self.order.part += 1;
        let answer = tokio::spawn(async move {
            let response = exchange(request).await?;
            response
                .json::<BatchResult>()
                .await
                .map_err(|_| SyncError::BadAnswer)
        });
        Ok(InFlight {
            batch,
            acked_through,
            answer,
        })
    }

    /// Marks a batch from the server's answer. With `resend`, first puts back in the outbox
    /// the ratings a restored server no longer has, and reads it again from the front.
    fn mark(
        &mut self,
        flight: &InFlight,
        answer: &BatchResult,
        resend: Option<Resend>,
    ) -> Result<(), SyncError> {
        self.store.record_misuse_sent(&flight.batch.misuse)?;
        let answers = flight.batch.seqs.iter().zip(&answer.results);
        self.store.record_sync(
            answers.map(|(&seq, result)| (seq, delivery(result))),
            resend,
        )?;
        for result in &answer.results {
            match result.status {
                Status::Rejected => self.sent.rejected += 1,
                _ => self.sent.delivered += 1,
            }
        }
        if resend.is_some() {
            self.after = 0;
            self.waiting = self.store.outbox_counts()?.queued;
        }
        Ok(())
    }
}

/// What the server's answer for a rating means for the tablet.
fn delivery(result: &ItemResult) -> Delivery<'_> {
    match result.status {
        Status::Accepted | Status::Duplicate | Status::Conflict => Delivery::Held {
            receipt: result.receipt,
        },
        Status::Rejected => Delivery::Refused {
            code: result.error.as_deref().unwrap_or_default(),
        },
    }
}

/// Sends the outbox until it is empty, batch by batch, each marked from the server's answer.
/// Batches go in their order: one at the server at first, then [`IN_FLIGHT`] once the server
/// says it writes a pass's batches in their order (`in_order`), so that it checks the next
/// while it commits one. Meanwhile the tablet reads the next batch, and marks each answered one
/// while the next travels. Stops at the first failure; what was marked stays marked, and a batch
/// read but not answered is read again next time. With `check_in`, an empty outbox still sends
/// one empty batch: the server then says whether it lost ratings it had taken (restored from a
/// backup), and those go again in the same pass. Runs on [`runtime`].
pub async fn send_all(
    store: &mut Store,
    settings: &Settings,
    link: &Link,
    check_in: bool,
) -> Result<Sent, SyncError> {
    let client = client(link.trust())?;
    let waiting = store.outbox_counts()?.queued;
    let mut pass = Pass {
        store,
        settings,
        after: 0,
        waiting,
        sent: Sent::default(),
        // At most 2^53: a number any JSON reader takes whole.
        order: Order {
            pass: rand::random::<u64>() >> 11,
            part: 0,
        },
    };
    let mut checked_in = !check_in;
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut window = 1;
    loop {
        // Misuse presses in flight are not marked yet: the next batch does without.
        let misuse_in_flight = in_flight.iter().any(|f| !f.batch.misuse.is_empty());
        let next = pass.read(!misuse_in_flight)?;
        let done = next.is_empty() && checked_in;
        if done && in_flight.is_empty() {
            return Ok(pass.sent);
        }
        // Room for `next`, or the end of the pass: the oldest in flight is answered first.
        let oldest = if in_flight.len() >= window || done {
            in_flight.pop_front()
        } else {
            None
        };
        let answered = match oldest {
            Some(mut flight) => {
                let answer = flight.answered().await?;
                if answer.in_order {
                    window = IN_FLIGHT;
                }
                Some((flight, answer))
            }
            None => None,
        };
        if let Some((flight, answer)) = &answered
            && let Some(resend) = flight.resend(answer)
        {
            // Ratings come back to the outbox, before `next`: it is read again from the front,
            // once those still in flight are answered.
            pass.mark(flight, answer, Some(resend))?;
            while let Some(mut flight) = in_flight.pop_front() {
                let answer = flight.answered().await?;
                let resend = flight.resend(&answer);
                pass.mark(&flight, &answer, resend)?;
            }
            continue;
        }
        if !done {
            checked_in = true;
            in_flight.push_back(pass.send(&client, link, next)?);
        }
        if let Some((flight, answer)) = answered {
            pass.mark(&flight, &answer, None)?;
        }
    }
}
