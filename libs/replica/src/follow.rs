//! Keeps a replica fed: a supervised task that makes a feed from the
//! replica's checkpoint, applies what it delivers in batches (committed with
//! the checkpoint, then acked), and, when the feed or a batch fails, logs why
//! and starts again from the stored checkpoint after a back-off. A feed that
//! closes because its sources closed (the process is stopping) ends the task
//! quietly.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use maillage_bus::{
    subjects, Checkpoints, DirectFeed, DirectSource, Feed, FeedError, JetStreamFeed,
    JetStreamFeedConfig,
};
use maillage_eventstore::EventStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::replica::{Model, Replica, ReplicaError};

/// Most deliveries applied in one commit.
const MAX_BATCH: usize = 1_024;
/// First pause after a failure; it doubles up to [`MAX_PAUSE`].
const MIN_PAUSE: Duration = Duration::from_millis(100);
/// Longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Makes a feed that delivers the followed context from the given checkpoints.
pub type FeedFactory = Box<dyn Fn(&Checkpoints) -> Result<Box<dyn Feed>, FeedError> + Send + Sync>;

/// A feed of the local log `store` of `context` (inside one process).
pub fn direct(context: &'static str, store: EventStore) -> FeedFactory {
    Box::new(move |checkpoints| {
        let source = DirectSource::new(context, store.clone());
        Ok(Box::new(DirectFeed::new(vec![source], checkpoints)?) as Box<dyn Feed>)
    })
}

/// A JetStream durable consumer `durable` on `servers`, filtered to `context`.
pub fn jetstream(context: &'static str, servers: String, durable: String) -> FeedFactory {
    Box::new(move |checkpoints| {
        let mut config = JetStreamFeedConfig::new(servers.clone(), durable.clone());
        config.filter_subject = subjects::context_filter(context)
            .map_err(|error| FeedError::Config(error.to_string()))?;
        Ok(Box::new(JetStreamFeed::new(config, checkpoints)?) as Box<dyn Feed>)
    })
}

/// Why one pass of the follower ended.
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    #[error("the commit task was lost: {0}")]
    Join(String),
}

/// The task feeding a replica; stop it with [`Follower::shutdown`].
pub struct Follower {
    task: JoinHandle<()>,
    stop: CancellationToken,
}

impl Follower {
    /// Stops the task after the batch in progress (its acks are sent).
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Spawns the task that keeps `replica` fed from feeds made by `factory`.
pub fn follow<M: Model>(replica: Arc<Replica<M>>, factory: FeedFactory) -> Follower {
    let stop = CancellationToken::new();
    let task = tokio::spawn(supervise(replica, factory, stop.clone()));
    Follower { task, stop }
}

async fn supervise<M: Model>(
    replica: Arc<Replica<M>>,
    factory: FeedFactory,
    stop: CancellationToken,
) {
    let mut pause = MIN_PAUSE;
    loop {
        let checkpoints: Checkpoints = [(M::CONTEXT.to_owned(), replica.position())]
            .into_iter()
            .collect();
        let started_at = replica.position();
        let outcome = match factory(&checkpoints) {
            Ok(mut feed) => {
                let outcome = tokio::select! {
                    outcome = pass(&replica, &mut feed) => outcome,
                    () = stop.cancelled() => Ok(()),
                };
                if let Err(error) = feed.close().await {
                    tracing::debug!(context = M::CONTEXT, %error, "closing the replica's feed");
                }
                outcome
            }
            Err(error) => Err(error.into()),
        };
        if stop.is_cancelled() {
            return;
        }
        match outcome {
            Ok(()) | Err(PassError::Feed(FeedError::Closed)) => {
                tracing::info!(
                    context = M::CONTEXT,
                    "the replica's sources closed; it stops"
                );
                return;
            }
            Err(error) => {
                if replica.position() > started_at {
                    pause = MIN_PAUSE;
                }
                tracing::error!(
                    context = M::CONTEXT,
                    position = replica.position(),
                    %error,
                    retry_in_ms = pause.as_millis() as u64,
                    "the replica stopped following its feed"
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Applies deliveries until the feed fails.
async fn pass<M: Model>(
    replica: &Arc<Replica<M>>,
    feed: &mut Box<dyn Feed>,
) -> Result<(), PassError> {
    loop {
        let mut deliveries = vec![feed.next().await?];
        while deliveries.len() < MAX_BATCH {
            // `Feed::next` is cancel-safe: dropping a pending call loses nothing.
            match feed.next().now_or_never() {
                Some(Ok(delivery)) => deliveries.push(delivery),
                Some(Err(error)) => return Err(error.into()),
                None => break,
            }
        }
        let (envelopes, acks): (Vec<_>, Vec<_>) = deliveries
            .into_iter()
            .map(|delivery| delivery.into_parts())
            .unzip();
        let target = replica.clone();
        tokio::task::spawn_blocking(move || target.apply_batch(&envelopes))
            .await
            .map_err(|error| PassError::Join(error.to_string()))??;
        for ack in acks {
            if let Err(error) = ack.ack().await {
                // A lost ack means a redelivery, which the checkpoint skips.
                tracing::warn!(context = M::CONTEXT, %error, "ack failed");
            }
        }
    }
}
