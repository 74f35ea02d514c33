//! The command loop: load (cache + stream tail), fold, decide, append with `Exact(version)`.
//!
//! Each aggregate has an entry in a bounded LRU cache holding its last known
//! version and state; a command takes its aggregate's turn, reads only the
//! events appended since that version, decides, and appends. Commands on one
//! aggregate therefore run one at a time in this process, and a cached
//! aggregate (a survey with 10,000 responses) is never folded again from the
//! start. Reads ([`Aggregates::load`], [`Aggregates::inspect`]) never wait
//! for a command's turn: they catch up from the store and look at the state
//! under a lock held only for that look. Event ids are derived from the
//! request id: a retried request whose events are already in the log gets the
//! original outcome back.
//!
//! A request id names one request of one principal. Event ids stay derived
//! from (stream, request id, index) only, so logs written before this check
//! deduplicate as they always did; what binds the rest is the metadata the
//! original events carry. A replay is only given when the stored events'
//! actor is the caller's and their causation id is the caller's: services
//! put a fingerprint of the request (a BLAKE3 hash of its message type and
//! encoded bytes, keyed with a secret the log does not hold, since the
//! message holds personal data in clear) in the causation id, so a different command (RecordConsent, then
//! WithdrawConsent with the same request id) or another principal reusing
//! the request id is refused with [`HandleError::RequestIdReused`] instead of
//! being answered with the first command's outcome while its own change is
//! dropped. Deciding again cannot tell (the state has moved, and sealed
//! payloads differ between two runs of one request), so the fingerprint is
//! stored rather than recomputed. Events whose causation id is their request
//! id (written before fingerprints, or by callers with no request message:
//! jobs, sagas) are matched on the actor alone.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lru::LruCache;
use maillage_eventstore::{
    Direction, EventData, EventMetadata, EventStore, ExpectedVersion, StoreError,
};

use crate::decider::{Decider, DecodeError, EventPayload};
use crate::event_ids::derive_event_id;

/// Events read per round trip when catching up a stream.
const READ_CHUNK: usize = 1024;
/// Times a command is decided again after another writer moved the stream.
const MAX_ATTEMPTS: usize = 5;

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled<E> {
    /// The aggregate's version after the command.
    pub version: u64,
    /// Position of the command's last event in the log (0 when it changed nothing).
    pub position: u64,
    /// The events it recorded (empty when it changed nothing).
    pub events: Vec<E>,
    /// True when the request had already been applied and this is its original outcome.
    pub replayed: bool,
}

/// Why a command was not applied.
#[derive(Debug, Clone, PartialEq)]
pub enum HandleError<E> {
    /// The domain refused it.
    Domain(E),
    /// The caller expected another version of the aggregate.
    Conflict {
        /// The version the caller sent.
        expected: u64,
        /// The aggregate's current version.
        actual: u64,
    },
    /// The store refused or failed.
    Store(StoreError),
    /// A stored event of the aggregate could not be decoded.
    Decode {
        /// Where.
        position: u64,
        /// Why.
        error: DecodeError,
    },
    /// Other writers kept moving the stream; the command was not applied.
    Contended,
    /// The request id was already used, on this aggregate, by another
    /// principal or for another command; nothing was applied.
    RequestIdReused {
        /// The request id.
        request_id: String,
    },
}

impl<E> From<StoreError> for HandleError<E> {
    fn from(error: StoreError) -> Self {
        HandleError::Store(error)
    }
}

/// An earlier run's outcome and the metadata its events were recorded with.
type Original<D> = (Handled<<D as Decider>::Event>, EventMetadata);

struct Slot<S> {
    version: u64,
    state: S,
}

/// One cached aggregate. Its state sits behind a short synchronous lock that
/// is never held across an await or a store read, so readers (a participant
/// check, a `Get`) never queue behind each other or behind a command's
/// append; `turn` makes the aggregate's commands run one at a time.
struct Entry<S> {
    turn: tokio::sync::Mutex<()>,
    slot: Mutex<Slot<S>>,
}

impl<S: Default> Entry<S> {
    fn new() -> Self {
        Self {
            turn: tokio::sync::Mutex::new(()),
            slot: Mutex::new(Slot {
                version: 0,
                state: S::default(),
            }),
        }
    }

    /// The slot. If a thread panicked while holding it (an `evolve` that
    /// panicked half-way), the state may not match its version: it is
    /// forgotten, and the next catch-up folds the stream again from the start.
    fn slot(&self) -> MutexGuard<'_, Slot<S>> {
        self.slot.lock().unwrap_or_else(|poisoned| {
            let mut slot = poisoned.into_inner();
            *slot = Slot {
                version: 0,
                state: S::default(),
            };
            self.slot.clear_poison();
            slot
        })
    }
}

/// Runs commands of one kind of aggregate against an event store.
pub struct Aggregates<D: Decider> {
    store: EventStore,
    entries: Mutex<LruCache<String, Arc<Entry<D::State>>>>,
}

impl<D: Decider> Aggregates<D> {
    /// Commands over `store`, caching up to `cache_capacity` aggregates' states.
    pub fn new(store: EventStore, cache_capacity: NonZeroUsize) -> Self {
        Self {
            store,
            entries: Mutex::new(LruCache::new(cache_capacity)),
        }
    }

    /// The store the aggregates live in.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Runs `command` on the aggregate of `stream_id`.
    ///
    /// `expected`, when given, must be the aggregate's current version.
    /// `metadata.request_id` identifies the request: running the same request
    /// again returns the original outcome without deciding anew.
    pub async fn handle(
        &self,
        stream_id: &str,
        command: &D::Command,
        expected: Option<u64>,
        metadata: &EventMetadata,
    ) -> Result<Handled<D::Event>, HandleError<D::Error>> {
        let entry = self.entry(stream_id);
        let _turn = entry.turn.lock().await;
        // An earlier run's events would be in this stream: an empty one has none.
        let existing = self.catch_up(stream_id, &entry)?.version > 0;
        if existing {
            if let Some((original, recorded)) =
                self.original_outcome(stream_id, &metadata.request_id)?
            {
                if !same_request(&recorded, metadata) {
                    return Err(HandleError::RequestIdReused {
                        request_id: metadata.request_id.clone(),
                    });
                }
                return Ok(original);
            }
        }
        for _ in 0..MAX_ATTEMPTS {
            let (version, events) = {
                let slot = entry.slot();
                if let Some(expected) = expected {
                    if expected != slot.version {
                        return Err(HandleError::Conflict {
                            expected,
                            actual: slot.version,
                        });
                    }
                }
                let events = D::decide(command, &slot.state).map_err(HandleError::Domain)?;
                (slot.version, events)
            };
            if events.is_empty() {
                return Ok(Handled {
                    version,
                    position: 0,
                    events,
                    replayed: false,
                });
            }
            let records = events
                .iter()
                .enumerate()
                .map(|(index, event)| EventData {
                    event_id: derive_event_id(stream_id, &metadata.request_id, index),
                    event_type: event.event_type().to_string(),
                    payload: event.encode(),
                    metadata: metadata.clone(),
                })
                .collect();
            match self
                .store
                .append(stream_id, ExpectedVersion::Exact(version), records)
                .await
            {
                Ok(result) => {
                    let mut slot = entry.slot();
                    // When the store answered with an earlier append of the same ids,
                    // or a reader's catch-up already folded these events, the slot
                    // is left as it is: the next catch-up folds what it lacks.
                    if result.stream_version == version + events.len() as u64
                        && slot.version == version
                    {
                        for event in &events {
                            D::evolve(&mut slot.state, event);
                        }
                        slot.version = result.stream_version;
                    }
                    return Ok(Handled {
                        version: result.stream_version,
                        position: result.last_position,
                        events,
                        replayed: false,
                    });
                }
                // Another writer moved the stream: catch up and decide again.
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    drop(self.catch_up(stream_id, &entry)?);
                }
                Err(other) => return Err(HandleError::Store(other)),
            }
        }
        Err(HandleError::Contended)
    }

    /// The aggregate's current version (0: it does not exist) and a copy of
    /// its state, with every acknowledged command included (read-your-writes).
    pub fn load(&self, stream_id: &str) -> Result<(u64, D::State), HandleError<D::Error>> {
        self.inspect(stream_id, |version, state| (version, state.clone()))
    }

    /// What `look` makes of the aggregate's current version and state (as
    /// [`Aggregates::load`] sees them), without copying the state.
    pub fn inspect<T>(
        &self,
        stream_id: &str,
        look: impl FnOnce(u64, &D::State) -> T,
    ) -> Result<T, HandleError<D::Error>> {
        let entry = self.entry(stream_id);
        let slot = self.catch_up(stream_id, &entry)?;
        Ok(look(slot.version, &slot.state))
    }

    fn entry(&self, stream_id: &str) -> Arc<Entry<D::State>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get(stream_id) {
            return entry.clone();
        }
        let entry = Arc::new(Entry::new());
        entries.put(stream_id.to_string(), entry.clone());
        entry
    }

    /// Folds the events appended after the cached version and returns the slot,
    /// still locked, so that the caller looks at exactly what was caught up.
    ///
    /// The store is read without holding the slot, so a command or another
    /// reader may fold some of the same events meanwhile: the versions the slot
    /// already has are skipped. The slot is handed back only once it holds
    /// every version read (a slot forgotten after a panic meanwhile is read
    /// again from the start).
    fn catch_up<'e>(
        &self,
        stream_id: &str,
        entry: &'e Entry<D::State>,
    ) -> Result<MutexGuard<'e, Slot<D::State>>, HandleError<D::Error>> {
        loop {
            let from = entry.slot().version + 1;
            let records =
                self.store
                    .read_stream(stream_id, from, Direction::Forward, READ_CHUNK)?;
            let events = records
                .iter()
                .map(|record| {
                    D::Event::decode(&record.event_type, &record.payload)
                        .map(|event| (record.version, event))
                        .map_err(|error| HandleError::Decode {
                            position: record.position,
                            error,
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut slot = entry.slot();
            for (version, event) in &events {
                if *version == slot.version + 1 {
                    D::evolve(&mut slot.state, event);
                    slot.version = *version;
                }
            }
            let holds_all = records
                .last()
                .is_none_or(|last| slot.version >= last.version);
            if holds_all && records.len() < READ_CHUNK {
                return Ok(slot);
            }
        }
    }

    /// The outcome of an earlier run of the same request id, if its events are
    /// in the log, with the metadata they were recorded with.
    fn original_outcome(
        &self,
        stream_id: &str,
        request_id: &str,
    ) -> Result<Option<Original<D>>, HandleError<D::Error>> {
        let mut events = Vec::new();
        let mut last = None;
        let mut recorded = None;
        while let Some(record) =
            self.store
                .event_by_id(&derive_event_id(stream_id, request_id, events.len()))?
        {
            let event = D::Event::decode(&record.event_type, &record.payload).map_err(|error| {
                HandleError::Decode {
                    position: record.position,
                    error,
                }
            })?;
            events.push(event);
            last = Some((record.version, record.position));
            recorded.get_or_insert(record.metadata);
        }
        Ok(last.zip(recorded).map(|((version, position), recorded)| {
            (
                Handled {
                    version,
                    position,
                    events,
                    replayed: true,
                },
                recorded,
            )
        }))
    }
}

/// Whether `caller` is the request whose events carry `recorded`: the same
/// principal, and the same command (causation id) unless the events predate
/// command fingerprints (their causation id is their request id).
fn same_request(recorded: &EventMetadata, caller: &EventMetadata) -> bool {
    let unfingerprinted = recorded.causation_id == recorded.request_id;
    recorded.actor == caller.actor
        && (unfingerprinted || recorded.causation_id == caller.causation_id)
}
