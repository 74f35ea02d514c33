//! Where the projections' costly work runs: never on the async workers, which
//! in `maillage up` also answer commands and health probes. Every query runs
//! on the blocking pool; an `as_of` replay or a rebuild also needs one of a
//! bounded number of replay slots, and a request that finds none free is
//! refused at once with RESOURCE_EXHAUSTED (a replay holds a whole read model
//! in memory: about 1.3 GiB at 1,000,000 events).

use std::sync::Arc;

use maillage_service_kit::ServiceError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The replay slots of one projections service.
#[derive(Clone)]
pub struct ReplaySlots {
    free: Arc<Semaphore>,
    limit: usize,
}

/// A replay slot, given back when dropped.
pub struct ReplaySlot {
    _permit: OwnedSemaphorePermit,
}

impl ReplaySlots {
    /// `limit` replays at once (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            free: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// How many replays may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A free slot now, or RESOURCE_EXHAUSTED saying the limit.
    pub fn take(&self) -> Result<ReplaySlot, ServiceError> {
        self.free
            .clone()
            .try_acquire_owned()
            .map(|permit| ReplaySlot { _permit: permit })
            .map_err(|_| ServiceError::ResourceExhausted {
                message: format!(
                    "{} as_of replays or rebuilds are already running (the limit, --max-replays); retry later",
                    self.limit
                ),
            })
    }
}

/// Runs `work` on the blocking pool and returns its outcome.
pub async fn run<T, W>(work: W) -> Result<T, ServiceError>
where
    T: Send + 'static,
    W: FnOnce() -> Result<T, ServiceError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::internal(format!("query task failed: {error}")))?
}
