//! The consumer: takes deliveries from a [`Feed`] (JetStream or direct), in
//! batches of what is ready, applies each batch to the live projection
//! (committed atomically with its checkpoints), then acks it.

use std::sync::Arc;

use futures::FutureExt;
use maillage_bus::{Feed, FeedError};

use crate::projection::{LiveProjection, ProjectionError};

/// What the consumer feeding the live read models is doing (shown by
/// `GetProjectionStatus`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConsumerState {
    /// No consumer was started (a projection only queried, or not yet).
    #[default]
    NotStarted,
    /// Consuming its feed.
    Running,
    /// Its feed failed; it starts again after a back-off.
    Restarting,
    /// Stopped for good: the feed closed (shutdown), or an event cannot be
    /// decoded or the read models cannot be stored (restarting would not help).
    Stopped,
}

/// The consumer's state, its restarts and why it last failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerStatus {
    /// What it is doing.
    pub state: ConsumerState,
    /// Times it was started again after a failure, since the process started.
    pub restarts: u64,
    /// Why it last failed or stopped (empty if it never did).
    pub last_error: String,
    /// When stopped on an undecodable event: its context and position (the
    /// checkpoint of that context is the position before).
    pub stopped_at: Option<(String, u64)>,
}

/// Most deliveries applied in one commit.
pub const MAX_BATCH: usize = 1_024;

/// Why the consumer stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// The feed cannot go on.
    #[error("feed: {0}")]
    Feed(#[from] FeedError),
    /// The read models could not be updated.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// The blocking commit task was lost (runtime shutting down).
    #[error("commit task: {0}")]
    Join(String),
}

/// Consumes `feed` into `projection` until the feed fails (or is closed).
pub async fn consume<F: Feed>(
    projection: Arc<LiveProjection>,
    mut feed: F,
) -> Result<(), ConsumerError> {
    loop {
        let first = feed.next().await?;
        let mut deliveries = vec![first];
        let mut failure = None;
        while deliveries.len() < MAX_BATCH {
            // `Feed::next` is cancel-safe: dropping a pending call loses nothing.
            match feed.next().now_or_never() {
                Some(Ok(delivery)) => deliveries.push(delivery),
                Some(Err(error)) => {
                    failure = Some(error);
                    break;
                }
                None => break,
            }
        }
        let (envelopes, acks): (Vec<_>, Vec<_>) = deliveries
            .into_iter()
            .map(|delivery| delivery.into_parts())
            .unzip();
        let target = projection.clone();
        let outcome = tokio::task::spawn_blocking(move || target.apply_batch(&envelopes))
            .await
            .map_err(|error| ConsumerError::Join(error.to_string()))??;
        tracing::debug!(
            applied = outcome.applied,
            duplicates = outcome.duplicates,
            ignored = outcome.ignored,
            "batch committed"
        );
        for ack in acks {
            if let Err(error) = ack.ack().await {
                // A lost ack means a redelivery, which the checkpoint skips.
                tracing::warn!(%error, "ack failed");
            }
        }
        if let Some(error) = failure {
            return Err(error.into());
        }
    }
}
