//! Group commit on PostgreSQL: one task writes every batch that is waiting in a single
//! transaction (one lookup round trip, one COPY, one commit), so sixty communes sending at once
//! cost one commit, not sixty. Each batch is answered only after the commit that holds it.
//! A group that fails is tried again batch by batch, so one bad batch fails alone.

use super::{Pg, PgError};
use crate::ingest::{Incoming, Stored};
use crate::notify::Wake;
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

/// Most ratings committed together.
const GROUP_RATINGS: usize = 16 * hailong_core::wire::MAX_BATCH;

type Answer = Result<Stored, PgError>;

struct Job {
    batch: Incoming,
    answer: oneshot::Sender<Answer>,
}

/// The request side of the writer task; the task ends when this is dropped and what it was
/// given is written.
pub struct PgWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

impl PgWriter {
    /// Starts the writer task on the current Tokio runtime; after each commit it tells
    /// `committed` (the notifier, which alerts on the negatives the commit queued).
    pub fn start(pg: Pg, committed: Vec<std::sync::mpsc::Sender<Wake>>) -> PgWriter {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(pg, queue, committed));
        PgWriter { jobs }
    }

    /// Stores `batch` with whatever else is waiting; resolves once it is committed (`None` if
    /// the writer has stopped).
    pub async fn store(&self, batch: Incoming) -> Option<Answer> {
        let (answer, answered) = oneshot::channel();
        self.jobs.send(Job { batch, answer }).ok()?;
        answered.await.ok()
    }
}

async fn write_loop(
    pg: Pg,
    mut queue: mpsc::UnboundedReceiver<Job>,
    committed: Vec<std::sync::mpsc::Sender<Wake>>,
) {
    while let Some(first) = queue.recv().await {
        let mut ratings = first.batch.items.len();
        let mut group = vec![first];
        while ratings < GROUP_RATINGS {
            let Ok(job) = queue.try_recv() else { break };
            ratings += job.batch.items.len();
            group.push(job);
        }
        commit(&pg, group).await;
        for waiting in &committed {
            let _ = waiting.send(Wake::Poke);
        }
    }
}

async fn commit(pg: &Pg, mut group: Vec<Job>) {
    let now = Utc::now();
    let batches: Vec<&Incoming> = group.iter().map(|job| &job.batch).collect();
    match pg.ingest(&batches, now).await {
        Ok(results) => {
            for (job, results) in group.into_iter().zip(results) {
                let _ = job.answer.send(Ok(results));
            }
        }
        Err(e) if group.len() > 1 => {
            tracing::warn!(error = %e, batches = group.len(), "group commit failed; storing one by one");
            for job in group {
                let answer = pg.ingest(&[&job.batch], now).await.map(|mut r| r.remove(0));
                let _ = job.answer.send(answer);
            }
        }
        Err(e) => {
            let _ = group.remove(0).answer.send(Err(e));
        }
    }
}
