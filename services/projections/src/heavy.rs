//! Where the projections' costly work runs: never on the async workers, which
//! in `maillage up` also answer commands and health probes. A query of the
//! live read models runs on the blocking pool. An `as_of` replay or a rebuild
//! needs one of a bounded number of replay slots — a request that finds none
//! free is refused at once with RESOURCE_EXHAUSTED (a replay holds a whole
//! read model in memory: about 1.3 GiB at 1,000,000 events) — and runs on a
//! thread of its own at a lower CPU priority, so that the scheduler gives it
//! the time commands, probes and queries leave (as RocksDB does for its
//! compaction threads).

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

    /// A free slot now, or RESOURCE_EXHAUSTED saying the limit.
    pub fn take(&self) -> Result<ReplaySlot, ServiceError> {
        self.free
            .clone()
            .try_acquire_owned()
            .map(|permit| ReplaySlot { _permit: permit })
            .map_err(|_| {
                ServiceError::resource_exhausted(
                    format!(
                        "{} as_of replays or rebuilds are already running (the limit, --max-replays); retry later",
                        self.limit
                    ),
                    format!(
                        "{} relectures ou reconstructions sont déjà en cours (la limite) : \
                         réessayez dans quelques minutes.",
                        self.limit
                    ),
                )
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

/// The nice value of a replay thread: with 10, a replay busy on the same core
/// as a command thread gets about a tenth of it.
pub const REPLAY_NICENESS: i32 = 10;

/// Runs `work` holding `slot`, on a thread of its own at the lower priority
/// [`REPLAY_NICENESS`], and returns its outcome. The slot is given back when
/// the work ends, even if the caller has gone.
pub async fn run_replay<T, W>(slot: ReplaySlot, work: W) -> Result<T, ServiceError>
where
    T: Send + 'static,
    W: FnOnce() -> Result<T, ServiceError> + Send + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("maillage-replay".into())
        .spawn(move || {
            lower_priority();
            let outcome = work();
            // Free before the answer, so that a caller's next replay finds it.
            drop(slot);
            // The caller may have gone (its deadline): the outcome is dropped.
            let _ = done.send(outcome);
        })
        .map_err(|error| {
            ServiceError::internal(format!("cannot start a replay thread: {error}"))
        })?;
    outcome
        .await
        .map_err(|_| ServiceError::internal("the replay thread ended without an outcome"))?
}

/// Lowers the calling thread's CPU priority to [`REPLAY_NICENESS`].
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid and setpriority take and return plain integers and touch
    // no memory; on Linux, PRIO_PROCESS with a thread id sets the nice value
    // of that thread only.
    let refused = unsafe {
        libc::setpriority(
            libc::PRIO_PROCESS,
            libc::gettid() as libc::id_t,
            REPLAY_NICENESS,
        )
    } != 0;
    if refused {
        tracing::warn!("cannot lower the priority of a replay thread; it runs at the normal one");
    }
}

/// Other systems: the replay runs at the normal priority.
#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
