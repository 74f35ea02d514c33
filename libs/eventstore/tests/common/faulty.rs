//! A fault-injecting engine for the store's tests: a real sled engine underneath,
//! with a flush that stalls then fails, a write that fails, and a simulated power loss.
//!
//! Power loss is modelled honestly and simply: sled only ever receives what a
//! flush made durable. `apply` keeps a batch in memory (reads see it, as they
//! would see sled's unflushed writes), and `flush` writes every kept batch to
//! sled as one batch and flushes sled. A power loss drops what is kept in
//! memory and makes every later call fail; reopening the directory with a new
//! `FaultyEngine` then finds exactly what was flushed before it.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use maillage_eventstore::{
    Engine, EngineError, Entry, Keyspace, SledEngine, SledOptions, WriteBatch,
};

/// A deadlock guard for [`FaultyEngine::wait_for`], not a timing assertion.
const WAIT_GUARD: Duration = Duration::from_secs(120);

/// What the next flush does instead of succeeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushFault {
    /// Waits until [`FaultyEngine::release_flush`], then fails, making nothing durable.
    StallThenFail,
    /// The power goes before anything reaches the disk.
    PowerLoss,
    /// Everything reaches the disk, then the power goes before the flush returns.
    PowerLossAfterDurable,
}

/// What the engine saw and where it stands.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Batches applied (kept in memory).
    pub applies: u64,
    /// Flushes asked for (failed ones included).
    pub flushes: u64,
    /// Point reads of the event-id index.
    pub event_id_gets: u64,
    /// A flush is stalled, waiting for [`FaultyEngine::release_flush`].
    pub stalled: bool,
    /// The power went: every call fails.
    pub dead: bool,
}

#[derive(Default)]
struct State {
    /// Applied but not flushed: keyspace → key → value.
    pending: HashMap<Keyspace, BTreeMap<Vec<u8>, Vec<u8>>>,
    stats: Stats,
    /// The fault of the flush numbered `.0` (1 = the next flush after arming counts from `stats.flushes`).
    flush_fault: Option<(u64, FlushFault)>,
    released: bool,
    fail_next_apply: bool,
}

/// A real sled engine behind faults a test arms.
pub struct FaultyEngine {
    inner: SledEngine,
    state: Mutex<State>,
    changed: Condvar,
}

impl FaultyEngine {
    /// Opens (or reopens) the sled database in `dir`.
    pub fn open(dir: &Path) -> Self {
        Self {
            inner: SledEngine::open(dir, &SledOptions::default()).expect("open sled"),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the engine saw so far.
    pub fn stats(&self) -> Stats {
        self.state().stats.clone()
    }

    /// Blocks until `condition` holds of the stats (panics after a long guard).
    pub fn wait_for(&self, condition: impl Fn(&Stats) -> bool) {
        let state = self.state();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, WAIT_GUARD, |s| !condition(&s.stats))
            .unwrap_or_else(|p| p.into_inner());
        assert!(
            !timeout.timed_out(),
            "the engine never reached the awaited state: {:?}",
            state.stats
        );
    }

    /// The next flush does `fault` instead of succeeding.
    pub fn fault_next_flush(&self, fault: FlushFault) {
        let mut state = self.state();
        let at = state.stats.flushes + 1;
        state.flush_fault = Some((at, fault));
        state.released = false;
    }

    /// The `n`-th flush from now (1: the next one) does `fault`.
    pub fn fault_flush_number(&self, n: u64, fault: FlushFault) {
        let mut state = self.state();
        let at = state.stats.flushes + n;
        state.flush_fault = Some((at, fault));
        state.released = false;
    }

    /// Lets a stalled flush go on (and fail).
    pub fn release_flush(&self) {
        self.state().released = true;
        self.changed.notify_all();
    }

    /// The next write fails, applying nothing.
    pub fn fail_next_apply(&self) {
        self.state().fail_next_apply = true;
    }

    /// The power goes now: what was not flushed is lost, every later call fails.
    pub fn power_loss(&self) {
        let mut state = self.state();
        state.pending.clear();
        state.stats.dead = true;
        self.changed.notify_all();
    }

    /// Writes every kept batch to sled and flushes it.
    fn make_durable(&self, state: &mut State) -> Result<(), EngineError> {
        let mut batch = WriteBatch::new();
        for (keyspace, entries) in std::mem::take(&mut state.pending) {
            for (key, value) in entries {
                batch.put(keyspace, key, value);
            }
        }
        self.inner.apply(batch)?;
        self.inner.flush()
    }
}

fn dead() -> EngineError {
    EngineError("simulated power loss".into())
}

impl Engine for FaultyEngine {
    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut state = self.state();
        if state.stats.dead {
            return Err(dead());
        }
        if std::mem::take(&mut state.fail_next_apply) {
            return Err(EngineError("simulated write failure".into()));
        }
        for (keyspace, key, value) in batch.into_puts() {
            state
                .pending
                .entry(keyspace)
                .or_default()
                .insert(key, value);
        }
        state.stats.applies += 1;
        self.changed.notify_all();
        Ok(())
    }

    fn flush(&self) -> Result<(), EngineError> {
        let mut state = self.state();
        if state.stats.dead {
            return Err(dead());
        }
        state.stats.flushes += 1;
        let fault = match state.flush_fault {
            Some((at, fault)) if at == state.stats.flushes => {
                state.flush_fault = None;
                Some(fault)
            }
            _ => None,
        };
        self.changed.notify_all();
        match fault {
            None => self.make_durable(&mut state),
            Some(FlushFault::StallThenFail) => {
                state.stats.stalled = true;
                self.changed.notify_all();
                // Waiting releases the lock: the writer goes on meanwhile.
                let mut state = self
                    .changed
                    .wait_while(state, |s| !s.released)
                    .unwrap_or_else(|p| p.into_inner());
                state.stats.stalled = false;
                self.changed.notify_all();
                Err(EngineError("simulated flush failure".into()))
            }
            Some(FlushFault::PowerLoss) => {
                state.pending.clear();
                state.stats.dead = true;
                self.changed.notify_all();
                Err(dead())
            }
            Some(FlushFault::PowerLossAfterDurable) => {
                let durable = self.make_durable(&mut state);
                state.stats.dead = true;
                self.changed.notify_all();
                durable.and(Err(dead()))
            }
        }
    }

    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        let mut state = self.state();
        if state.stats.dead {
            return Err(dead());
        }
        if keyspace == Keyspace::EventIdIndex {
            state.stats.event_id_gets += 1;
            self.changed.notify_all();
        }
        if let Some(value) = state.pending.get(&keyspace).and_then(|kept| kept.get(key)) {
            return Ok(Some(value.clone()));
        }
        self.inner.get(keyspace, key)
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, EngineError> {
        let state = self.state();
        if state.stats.dead {
            return Err(dead());
        }
        // The first `limit` of sled's entries and every kept one in range hold the first `limit` overall.
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self
            .inner
            .scan(keyspace, start, end, reverse, limit)?
            .into_iter()
            .collect();
        if let Some(kept) = state.pending.get(&keyspace) {
            for (key, value) in kept.range::<[u8], _>((start, end)) {
                merged.insert(key.clone(), value.clone());
            }
        }
        Ok(if reverse {
            merged.into_iter().rev().take(limit).collect()
        } else {
            merged.into_iter().take(limit).collect()
        })
    }

    fn size_on_disk(&self) -> Result<u64, EngineError> {
        self.inner.size_on_disk()
    }
}
