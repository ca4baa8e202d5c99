//! A pass's batches written in their order, though several are at the server at once.
//!
//! A tablet with a backlog keeps two batches at the server: while the writer commits one, the
//! next is read and checked on a request thread. They come on two connections, so either may
//! arrive first; yet the repeat rule (the first rating of a dossier counts, the later ones are
//! repeats) and the receipts want them written in the order the tablet took its ratings. Each
//! batch says its place (`hailong_core::wire::Order`: a pass, and its part 0, 1, 2…), and:
//!
//! - a request queues its batch for the writer only in its turn ([`Turns`]): part `n` waits,
//!   checked and ready, until part `n − 1` of its pass is queued, at most [`WAIT`]; a part 0
//!   starts a new pass at once;
//! - the writer writes part `n` only if it wrote part `n − 1` ([`Written`]): a batch whose
//!   predecessor failed is answered "out of order" and sent again by its tablet, with what
//!   followed, in a new pass.
//!
//! A batch without a place (an older tablet, a commune's server forwarding: the province takes
//! its repeats as the commune counted them) is queued as it comes.

use crate::ingest::{Incoming, Stored};
use crate::storage::StoreError;
use hailong_core::wire::Order;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How long a batch waits for the one before it in its pass. The tablet sends them a moment
/// apart; one that has not come by then was lost, and its tablet starts a new pass.
pub const WAIT: Duration = Duration::from_secs(10);

/// The batch before this one in its pass was not queued in time, or not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the batch before this one in its pass was not stored; send again from there")]
pub struct OutOfOrder;

/// Where a device's current pass stands: its number, and the next part that may be queued.
type Place = Option<(u64, u32)>;

/// Each device's turn to queue a batch (request side).
#[derive(Default)]
pub struct Turns {
    devices: Mutex<HashMap<String, Arc<watch::Sender<Place>>>>,
}

/// A batch's turn to be queued; [`Turn::queued`] lets the next part go.
#[must_use]
pub struct Turn {
    place: Arc<watch::Sender<Place>>,
    order: Order,
}

impl Turns {
    /// Waits until `order` is `device`'s turn: at once for a part 0 (a new pass), else once
    /// the part before it is queued. Refused when that has not happened within [`WAIT`], or
    /// when this part was queued already.
    pub async fn wait(&self, device: &str, order: Order) -> Result<Turn, OutOfOrder> {
        let place = {
            let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
            devices
                .entry(device.to_owned())
                .or_insert_with(|| Arc::new(watch::channel(None).0))
                .clone()
        };
        let Order { pass, part } = order;
        if part == 0 {
            place.send_replace(Some((pass, 0)));
            return Ok(Turn { place, order });
        }
        let mut moved = place.subscribe();
        if !matches!(*moved.borrow(), Some((p, next)) if p == pass && next >= part) {
            tracing::debug!(device, pass, part, "a batch waits for the one before it");
        }
        let reached = tokio::time::timeout(
            WAIT,
            moved.wait_for(|now| matches!(*now, Some((p, next)) if p == pass && next >= part)),
        )
        .await;
        match reached {
            Ok(Ok(now)) if *now == Some((pass, part)) => {
                drop(now);
                Ok(Turn { place, order })
            }
            _ => Err(OutOfOrder),
        }
    }
}

impl Turn {
    /// The batch is in the writer's queue: the next part of its pass may follow it there.
    pub fn queued(self) {
        let Order { pass, part } = self.order;
        self.place.send_if_modified(|now| {
            let mine = *now == Some((pass, part));
            if mine {
                *now = Some((pass, part + 1));
            }
            mine
        });
    }
}

/// A batch for the writer, and where its answer goes.
pub struct Job {
    pub batch: Incoming,
    pub answer: oneshot::Sender<Result<Stored, StoreError>>,
}

impl Job {
    pub fn new(batch: Incoming) -> (Job, oneshot::Receiver<Result<Stored, StoreError>>) {
        let (answer, answered) = oneshot::channel();
        (Job { batch, answer }, answered)
    }

    pub fn answer(self, result: Result<Stored, impl Into<StoreError>>) {
        let _ = self.answer.send(result.map_err(Into::into));
    }

    fn out_of_order(self) {
        let _ = self.answer.send(Err(StoreError::OutOfOrder(OutOfOrder)));
    }
}

/// What the writer wrote of each device's current pass (writer side): the next part it may
/// write.
#[derive(Default)]
pub struct Written {
    passes: HashMap<String, (u64, u32)>,
}

impl Written {
    /// Whether `batch` may be written after what was written: a batch without a place, a
    /// part 0, or the part after the last one written of its pass.
    pub fn admits(&self, batch: &Incoming) -> bool {
        match batch.order {
            None => true,
            Some(Order { part: 0, .. }) => true,
            Some(Order { pass, part }) => self.passes.get(&batch.device_id) == Some(&(pass, part)),
        }
    }

    /// `batch` was written (committed).
    pub fn wrote(&mut self, batch: &Incoming) {
        if let Some(Order { pass, part }) = batch.order {
            self.passes
                .insert(batch.device_id.clone(), (pass, part.saturating_add(1)));
        }
    }

    /// Of a group taken from the queue, the jobs that may be written together, in order, as if
    /// each before them were written; the others are answered out of order. Nothing is noted:
    /// call [`Written::wrote`] for each once they are committed.
    pub fn admit(&self, group: Vec<Job>) -> Vec<Job> {
        let mut ahead = Written::default();
        let mut admitted = Vec::with_capacity(group.len());
        for job in group {
            let batch = &job.batch;
            let admits = if ahead.passes.contains_key(&batch.device_id) {
                ahead.admits(batch)
            } else {
                self.admits(batch)
            };
            if admits {
                ahead.wrote(batch);
                admitted.push(job);
            } else {
                job.out_of_order();
            }
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(device: &str, pass: u64, part: u32) -> Incoming {
        let mut batch = crate::db::testing::batch(device, Vec::new());
        batch.order = Some(Order { pass, part });
        batch
    }

    #[tokio::test(start_paused = true)]
    async fn a_part_waits_for_the_one_before_it_and_no_longer_than_the_wait() {
        let turns = Arc::new(Turns::default());
        let order = |part| Order { pass: 9, part };
        // Part 1 arrives first: it waits for part 0 to be queued.
        let early = tokio::spawn({
            let turns = turns.clone();
            async move { turns.wait("tablet", order(1)).await }
        });
        tokio::task::yield_now().await;
        assert!(!early.is_finished());
        let first = turns.wait("tablet", order(0)).await.unwrap();
        tokio::task::yield_now().await;
        assert!(!early.is_finished(), "part 0 is not queued yet");
        first.queued();
        let second = early.await.unwrap().expect("its turn came");
        second.queued();
        // Part 1 again (a replay) is refused at once; part 3 with no part 2 waits, then gives up.
        assert_eq!(turns.wait("tablet", order(1)).await.err(), Some(OutOfOrder));
        let waited = tokio::time::Instant::now();
        assert_eq!(turns.wait("tablet", order(3)).await.err(), Some(OutOfOrder));
        assert_eq!(waited.elapsed(), WAIT);
        // Another device's pass is its own; a new pass starts at its part 0.
        turns.wait("other", order(0)).await.unwrap().queued();
        turns
            .wait("tablet", Order { pass: 10, part: 0 })
            .await
            .unwrap()
            .queued();
        turns
            .wait("tablet", Order { pass: 10, part: 1 })
            .await
            .unwrap()
            .queued();
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_pass_leaves_the_waiting_part_of_the_old_one_to_give_up() {
        let turns = Turns::default();
        turns
            .wait("tablet", Order { pass: 1, part: 0 })
            .await
            .unwrap()
            .queued();
        let (stale, fresh) =
            tokio::join!(turns.wait("tablet", Order { pass: 1, part: 2 }), async {
                let turn = turns.wait("tablet", Order { pass: 2, part: 0 }).await;
                turn.unwrap().queued();
                turns.wait("tablet", Order { pass: 2, part: 1 }).await
            });
        assert_eq!(stale.err(), Some(OutOfOrder));
        assert!(fresh.is_ok());
    }

    #[test]
    fn the_writer_writes_a_part_only_after_the_one_before_it() {
        let mut written = Written::default();
        assert!(written.admits(&crate::db::testing::batch("tablet", Vec::new())));
        assert!(
            !written.admits(&placed("tablet", 4, 1)),
            "part 0 not written"
        );
        let group = [
            placed("tablet", 4, 0),
            placed("tablet", 4, 1),
            placed("tablet", 4, 3),
        ];
        let (mut jobs, mut answers) = (Vec::new(), Vec::new());
        for batch in group {
            let (job, answered) = Job::new(batch);
            jobs.push(job);
            answers.push(answered);
        }
        let admitted = written.admit(jobs);
        let parts: Vec<u32> = admitted
            .iter()
            .map(|job| job.batch.order.unwrap().part)
            .collect();
        assert_eq!(parts, [0, 1], "part 3 has no part 2 before it");
        assert!(matches!(
            answers[2].try_recv(),
            Ok(Err(StoreError::OutOfOrder(_)))
        ));
        // Admitting notes nothing: until they are committed, part 1 still waits for part 0.
        assert!(!written.admits(&placed("tablet", 4, 1)));
        for job in &admitted {
            written.wrote(&job.batch);
        }
        assert!(written.admits(&placed("tablet", 4, 2)));
        assert!(!written.admits(&placed("tablet", 5, 1)), "another pass");
        assert!(written.admits(&placed("tablet", 5, 0)));
    }
}
