//! The command loop: load (cache + stream tail), fold, decide, append with `Exact(version)`.
//!
//! Each aggregate has a slot in a bounded LRU cache holding its last known
//! version and state; a command locks its aggregate's slot, reads only the
//! events appended since that version, decides, and appends. Commands on one
//! aggregate therefore run one at a time in this process, and a cached
//! aggregate (a survey with 10,000 responses) is never folded again from the
//! start. Event ids are derived from the request id: a retried request whose
//! events are already in the log gets the original outcome back.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

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
}

impl<E> From<StoreError> for HandleError<E> {
    fn from(error: StoreError) -> Self {
        HandleError::Store(error)
    }
}

struct Slot<S> {
    version: u64,
    state: S,
}

type SharedSlot<S> = Arc<tokio::sync::Mutex<Slot<S>>>;

/// Runs commands of one kind of aggregate against an event store.
pub struct Aggregates<D: Decider> {
    store: EventStore,
    slots: Mutex<LruCache<String, SharedSlot<D::State>>>,
}

impl<D: Decider> Aggregates<D> {
    /// Commands over `store`, caching up to `cache_capacity` aggregates' states.
    pub fn new(store: EventStore, cache_capacity: NonZeroUsize) -> Self {
        Self {
            store,
            slots: Mutex::new(LruCache::new(cache_capacity)),
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
        let slot = self.slot(stream_id);
        let mut slot = slot.lock().await;
        if let Some(original) = self.original_outcome(stream_id, &metadata.request_id)? {
            return Ok(original);
        }
        for _ in 0..MAX_ATTEMPTS {
            self.catch_up(stream_id, &mut slot)?;
            if let Some(expected) = expected {
                if expected != slot.version {
                    return Err(HandleError::Conflict {
                        expected,
                        actual: slot.version,
                    });
                }
            }
            let events = D::decide(command, &slot.state).map_err(HandleError::Domain)?;
            if events.is_empty() {
                return Ok(Handled {
                    version: slot.version,
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
                .append(stream_id, ExpectedVersion::Exact(slot.version), records)
                .await
            {
                Ok(result) => {
                    if result.stream_version == slot.version + events.len() as u64 {
                        for event in &events {
                            D::evolve(&mut slot.state, event);
                        }
                        slot.version = result.stream_version;
                    } else {
                        // The store answered with an earlier append of the same ids:
                        // forget the cached state and fold it again next time.
                        *slot = Slot {
                            version: 0,
                            state: D::State::default(),
                        };
                    }
                    return Ok(Handled {
                        version: result.stream_version,
                        position: result.last_position,
                        events,
                        replayed: false,
                    });
                }
                // Another writer moved the stream: catch up and decide again.
                Err(StoreError::WrongExpectedVersion { .. }) => continue,
                Err(other) => return Err(HandleError::Store(other)),
            }
        }
        Err(HandleError::Contended)
    }

    /// The aggregate's current version (0: it does not exist) and state, with
    /// every acknowledged command included (read-your-writes).
    pub async fn load(&self, stream_id: &str) -> Result<(u64, D::State), HandleError<D::Error>> {
        let slot = self.slot(stream_id);
        let mut slot = slot.lock().await;
        self.catch_up(stream_id, &mut slot)?;
        Ok((slot.version, slot.state.clone()))
    }

    fn slot(&self, stream_id: &str) -> SharedSlot<D::State> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slots
            .get_or_insert(stream_id.to_string(), || {
                Arc::new(tokio::sync::Mutex::new(Slot {
                    version: 0,
                    state: D::State::default(),
                }))
            })
            .clone()
    }

    /// Folds the events appended after the slot's version.
    fn catch_up(
        &self,
        stream_id: &str,
        slot: &mut Slot<D::State>,
    ) -> Result<(), HandleError<D::Error>> {
        loop {
            let records = self.store.read_stream(
                stream_id,
                slot.version + 1,
                Direction::Forward,
                READ_CHUNK,
            )?;
            for record in &records {
                let event =
                    D::Event::decode(&record.event_type, &record.payload).map_err(|error| {
                        HandleError::Decode {
                            position: record.position,
                            error,
                        }
                    })?;
                D::evolve(&mut slot.state, &event);
                slot.version = record.version;
            }
            if records.len() < READ_CHUNK {
                return Ok(());
            }
        }
    }

    /// The outcome of an earlier run of the same request, if its events are in the log.
    fn original_outcome(
        &self,
        stream_id: &str,
        request_id: &str,
    ) -> Result<Option<Handled<D::Event>>, HandleError<D::Error>> {
        let mut events = Vec::new();
        let mut last = None;
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
        }
        Ok(last.map(|(version, position)| Handled {
            version,
            position,
            events,
            replayed: true,
        }))
    }
}
