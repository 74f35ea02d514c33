//! Keeps a replica fed: a supervised task that makes a feed from the
//! replica's checkpoint, applies what it delivers in batches (committed with
//! the checkpoint, then acked), and, when the feed or a batch fails, logs why
//! and starts again from the stored checkpoint after a back-off. A feed that
//! closes because its sources closed (the process is stopping) ends the task
//! quietly.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use maillage_bus::NatsConfig;
use maillage_bus::{
    subjects, Checkpoints, DirectFeed, DirectSource, Feed, FeedError, JetStreamFeed,
    JetStreamFeedConfig,
};
use maillage_eventstore::EventStore;
use maillage_proto::v1::EventEnvelope;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::replica::{Model, Replica};

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

/// A JetStream durable consumer `durable` on the servers of `nats` (with its
/// credentials and TLS), filtered to `context`.
pub fn jetstream(context: &'static str, nats: NatsConfig, durable: String) -> FeedFactory {
    Box::new(move |checkpoints| {
        let mut config = JetStreamFeedConfig::new(nats.clone(), durable.clone());
        config.filter_subject = subjects::context_filter(context)
            .map_err(|error| FeedError::Config(error.to_string()))?;
        Ok(Box::new(JetStreamFeed::new(config, checkpoints)?) as Box<dyn Feed>)
    })
}

/// Why a batch could not be applied (it is applied again from the checkpoint).
pub type FollowError = Box<dyn std::error::Error + Send + Sync>;

/// What a follower feeds: a [`Replica`] or a [`crate::Reactor`].
pub trait Follows: Send + Sync + 'static {
    /// The context whose log it follows.
    fn context(&self) -> &'static str;

    /// The last position it applied.
    fn position(&self) -> u64;

    /// The hash of the event at [`Follows::position`], when stored (the
    /// JetStream feed checks that the next event chains to it).
    fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error>;

    /// Applies `envelopes` (in position order) durably: once it returns Ok,
    /// the feed may be acked.
    fn apply(
        self: Arc<Self>,
        envelopes: Vec<EventEnvelope>,
    ) -> BoxFuture<'static, Result<(), FollowError>>;
}

impl<M: Model> Follows for Replica<M> {
    fn context(&self) -> &'static str {
        M::CONTEXT
    }

    fn position(&self) -> u64 {
        Replica::position(self)
    }

    fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error> {
        Replica::position_hash(self)
    }

    fn apply(
        self: Arc<Self>,
        envelopes: Vec<EventEnvelope>,
    ) -> BoxFuture<'static, Result<(), FollowError>> {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || self.apply_batch(&envelopes))
                .await
                .map_err(|error| format!("the commit task was lost: {error}"))??;
            Ok(())
        })
    }
}

/// Why one pass of the follower ended.
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error("{0}")]
    Apply(FollowError),
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

/// Spawns the task that keeps `replica` (or a reactor) fed from feeds made by `factory`.
pub fn follow<F: Follows>(replica: Arc<F>, factory: FeedFactory) -> Follower {
    let stop = CancellationToken::new();
    let task = tokio::spawn(supervise(replica, factory, stop.clone()));
    Follower { task, stop }
}

async fn supervise<F: Follows>(replica: Arc<F>, factory: FeedFactory, stop: CancellationToken) {
    let mut pause = MIN_PAUSE;
    loop {
        let started_at = replica.position();
        let mut checkpoints = Checkpoints::new();
        let outcome = match replica.position_hash() {
            Ok(Some(hash)) => {
                checkpoints.record_event(replica.context(), started_at, hash);
                factory(&checkpoints)
            }
            Ok(None) => {
                checkpoints.record(replica.context(), started_at);
                factory(&checkpoints)
            }
            Err(error) => Err(FeedError::Config(format!(
                "reading the replica's checkpoint: {error}"
            ))),
        };
        let outcome = match outcome {
            Ok(mut feed) => {
                let outcome = tokio::select! {
                    outcome = pass(&replica, &mut feed) => outcome,
                    () = stop.cancelled() => Ok(()),
                };
                if let Err(error) = feed.close().await {
                    tracing::debug!(context = replica.context(), %error, "closing the replica's feed");
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
                    context = replica.context(),
                    "the replica's sources closed; it stops"
                );
                return;
            }
            Err(error) => {
                if replica.position() > started_at {
                    pause = MIN_PAUSE;
                }
                tracing::error!(
                    context = replica.context(),
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
async fn pass<F: Follows>(replica: &Arc<F>, feed: &mut Box<dyn Feed>) -> Result<(), PassError> {
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
        replica
            .clone()
            .apply(envelopes)
            .await
            .map_err(PassError::Apply)?;
        for ack in acks {
            if let Err(error) = ack.ack().await {
                // A lost ack means a redelivery, which the checkpoint skips.
                tracing::warn!(context = replica.context(), %error, "ack failed");
            }
        }
    }
}
