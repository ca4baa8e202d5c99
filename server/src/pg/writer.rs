//! Group commit on PostgreSQL: one task writes every batch that is waiting in a single
//! transaction (a look-up, one COPY, one commit), so sixty communes sending at once
//! cost one commit, not sixty. Each batch is answered only after the commit that holds it, and
//! a pass's batches are written in their order (`turns`). A group that fails is tried again
//! batch by batch, so one bad batch fails alone.

use super::Pg;
use crate::ingest::{Incoming, Stored};
use crate::notify::Wake;
use crate::storage::StoreError;
use crate::turns::{Job, Written};
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

/// Most ratings committed together.
const GROUP_RATINGS: usize = 16 * hailong_core::wire::MAX_BATCH;

type Answer = Result<Stored, StoreError>;

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

    /// Puts `batch` in the queue, behind every batch queued before it; its answer comes once
    /// it is committed (`None` if the writer has stopped).
    pub fn queue(&self, batch: Incoming) -> Option<oneshot::Receiver<Answer>> {
        let (job, answered) = Job::new(batch);
        self.jobs.send(job).ok()?;
        Some(answered)
    }

    /// Stores `batch` with whatever else is waiting; resolves once it is committed (`None` if
    /// the writer has stopped).
    pub async fn store(&self, batch: Incoming) -> Option<Answer> {
        self.queue(batch)?.await.ok()
    }
}

async fn write_loop(
    pg: Pg,
    mut queue: mpsc::UnboundedReceiver<Job>,
    committed: Vec<std::sync::mpsc::Sender<Wake>>,
) {
    let mut written = Written::default();
    while let Some(first) = queue.recv().await {
        let mut ratings = first.batch.items.len();
        let mut group = vec![first];
        while ratings < GROUP_RATINGS {
            let Ok(job) = queue.try_recv() else { break };
            ratings += job.batch.items.len();
            group.push(job);
        }
        commit(&pg, group, &mut written).await;
        for waiting in &committed {
            let _ = waiting.send(Wake::Poke);
        }
    }
}

async fn commit(pg: &Pg, group: Vec<Job>, written: &mut Written) {
    let mut group = written.admit(group);
    if group.is_empty() {
        return;
    }
    let now = Utc::now();
    let batches: Vec<&Incoming> = group.iter().map(|job| &job.batch).collect();
    match pg.ingest(&batches, now).await {
        Ok(results) => {
            for (job, results) in group.into_iter().zip(results) {
                written.wrote(&job.batch);
                job.answer(Ok::<_, StoreError>(results));
            }
        }
        Err(e) if group.len() > 1 => {
            tracing::warn!(error = %e, batches = group.len(), "group commit failed; storing one by one");
            for job in group {
                for job in written.admit(vec![job]) {
                    let answer = pg.ingest(&[&job.batch], now).await.map(|mut r| r.remove(0));
                    if answer.is_ok() {
                        written.wrote(&job.batch);
                    }
                    job.answer(answer);
                }
            }
        }
        Err(e) => group.remove(0).answer(Err::<Stored, _>(e)),
    }
}
