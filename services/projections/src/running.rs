//! The `as_of` replays running now, and how far each is: what
//! `GetProjectionStatus.replays` reports, so that a report over large logs can
//! show its progress (`maillage report --as-of` on a terminal). A replay reads
//! its source logs through [`RunningReplay::counted`] sources, which count the
//! events they hand out; the entry goes away when its [`RunningReplay`] is
//! dropped, with the query that needed it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use futures::future::BoxFuture;
use maillage_proto::v1::{self as pb, EventEnvelope};

use crate::source::{EventSource, SharedSource, SourceError};
use crate::time::{opt_timestamp, system_micros};

/// One replay's figures.
struct Progress {
    /// The instant replayed to (µs since the epoch).
    as_of: i64,
    /// When it started (µs since the epoch).
    started_at: i64,
    /// Events read from the logs so far.
    read: AtomicU64,
}

/// The replays running in one projections service.
#[derive(Clone, Default)]
pub struct RunningReplays {
    running: Arc<Mutex<BTreeMap<u64, Arc<Progress>>>>,
    next: Arc<AtomicU64>,
}

/// A replay listed as running until it is dropped.
pub struct RunningReplay {
    id: u64,
    progress: Arc<Progress>,
    registry: RunningReplays,
}

impl RunningReplays {
    /// Lists a replay to `as_of` (µs) starting now.
    pub fn start(&self, as_of: i64, now: SystemTime) -> RunningReplay {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let progress = Arc::new(Progress {
            as_of,
            started_at: system_micros(now),
            read: AtomicU64::new(0),
        });
        self.lock().insert(id, progress.clone());
        RunningReplay {
            id,
            progress,
            registry: self.clone(),
        }
    }

    /// The replays running now, oldest first.
    pub fn list(&self) -> Vec<pb::ProjectionReplayProgress> {
        self.lock()
            .values()
            .map(|progress| pb::ProjectionReplayProgress {
                as_of: opt_timestamp(Some(progress.as_of)),
                started_at: opt_timestamp(Some(progress.started_at)),
                events_read: progress.read.load(Ordering::Relaxed),
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Progress>>> {
        // The map stays consistent whatever panicked while holding it.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RunningReplay {
    /// `sources`, counting for this replay the events they hand out.
    pub fn counted(&self, sources: &[SharedSource]) -> Vec<SharedSource> {
        sources
            .iter()
            .map(|inner| {
                Arc::new(CountedSource {
                    inner: inner.clone(),
                    progress: self.progress.clone(),
                }) as SharedSource
            })
            .collect()
    }
}

impl Drop for RunningReplay {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// A source that counts the events it reads into a replay's progress.
struct CountedSource {
    inner: SharedSource,
    progress: Arc<Progress>,
}

impl EventSource for CountedSource {
    fn context(&self) -> &str {
        self.inner.context()
    }

    fn read(
        &self,
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<EventEnvelope>, SourceError>> {
        Box::pin(async move {
            let events = self.inner.read(from, limit).await?;
            self.progress
                .read
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            Ok(events)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_listed_until_dropped() {
        let replays = RunningReplays::default();
        let first = replays.start(1_000_000, SystemTime::UNIX_EPOCH);
        let second = replays.start(2_000_000, SystemTime::UNIX_EPOCH);
        first.progress.read.fetch_add(7, Ordering::Relaxed);
        let listed = replays.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].events_read, 7);
        assert_eq!(listed[1].as_of.map(|t| t.seconds), Some(2));
        drop(first);
        assert_eq!(replays.list().len(), 1);
        drop(second);
        assert!(replays.list().is_empty());
    }
}
