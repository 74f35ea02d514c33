//! The store's handle: open, append, read, subscribe, verify, close.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::chunk;
use crate::clock::{Clock, SystemClock};
use crate::codec;
use crate::engine::{Engine, Keyspace, SledEngine, SledOptions};
use crate::error::StoreError;
use crate::expected::ExpectedVersion;
use crate::keys;
use crate::open_check;
use crate::record::{AppendResult, EventData, RecordView, RecordedEvent};
use crate::stream_id::StreamId;
use crate::subscription::{Subscription, SubscriptionFilter};
use crate::verify::{self, Verification};
use crate::writer::{self, AppendRequest, Command, Failure, Flusher, Writer};

/// The largest event accepted by default: 1 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Written groups waiting for the flusher before the writer waits.
const FLUSH_QUEUE: usize = 4;

/// How the store is set up.
#[derive(Clone)]
pub struct StoreOptions {
    /// Largest event accepted (type + payload + metadata), in bytes.
    pub max_event_bytes: usize,
    /// Most events written in one group commit.
    pub max_group_events: usize,
    /// Appends waiting for the writer before callers wait to enqueue.
    pub queue_capacity: usize,
    /// Where `recorded_at` comes from.
    pub clock: Arc<dyn Clock>,
    /// sled tuning, when the store opens its own database.
    pub sled: SledOptions,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            max_group_events: 4096,
            queue_capacity: 4096,
            clock: Arc::new(SystemClock),
            sled: SledOptions::default(),
        }
    }
}

/// The last committed record: its position (0 for an empty log) and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Position of the last durable record.
    pub position: u64,
    /// Its hash ([`GENESIS_HASH`] for an empty log): publish it as a witness.
    pub hash: [u8; 32],
}

/// Which way a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a version upwards.
    Forward,
    /// From a version downwards.
    Backward,
}

/// An append queued for the writer (see [`EventStore::submit`]).
pub struct PendingAppend {
    answer: oneshot::Receiver<Result<AppendResult, StoreError>>,
}

impl PendingAppend {
    /// Waits until the append is durable (or refused).
    pub async fn outcome(self) -> Result<AppendResult, StoreError> {
        self.answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// A handle to an open event store; cheap to clone, shared by all its users.
#[derive(Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<dyn Engine>,
    commands: mpsc::Sender<Command>,
    committed: watch::Receiver<Head>,
    max_event_bytes: usize,
    closed: AtomicBool,
    failure: Failure,
}

impl EventStore {
    /// Opens (or creates) a store in its own sled database in `dir`.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let engine = SledEngine::open(dir, &options.sled)?;
        Self::with_engine(Arc::new(engine), options)
    }

    /// Opens a store over an engine the caller opened (e.g. a sled database it shares).
    ///
    /// The hash chain is checked from the position an earlier open verified
    /// to the end of the log (the whole log, the first time): a broken chain
    /// is refused with [`StoreError::BrokenChain`], naming the first bad position.
    pub fn with_engine(engine: Arc<dyn Engine>, options: StoreOptions) -> Result<Self, StoreError> {
        let head = open_check::check(engine.as_ref())?;
        let (committed_tx, committed_rx) = watch::channel(head);
        let (commands_tx, commands_rx) = mpsc::channel(options.queue_capacity.max(1));
        let failure = writer::no_failure();
        let writer = Writer::new(
            engine.clone(),
            options.clock.clone(),
            options.max_group_events.max(1),
            head,
            failure.clone(),
        );
        let flusher = Flusher::new(engine.clone(), committed_tx, failure.clone());
        let (to_flusher, from_writer) = std::sync::mpsc::sync_channel(FLUSH_QUEUE);
        let spawn_error = |error: std::io::Error| {
            StoreError::Storage(format!("cannot start the writer: {error}"))
        };
        let flusher = std::thread::Builder::new()
            .name("eventstore-flusher".into())
            .spawn(move || flusher.run(from_writer))
            .map_err(spawn_error)?;
        std::thread::Builder::new()
            .name("eventstore-writer".into())
            .spawn(move || {
                writer.run(commands_rx, to_flusher);
                // Both threads have dropped their engine handles once the flusher returns.
                if let Ok(Some(done)) = flusher.join() {
                    let _ = done.send(());
                }
            })
            .map_err(spawn_error)?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                commands: commands_tx,
                committed: committed_rx,
                max_event_bytes: options.max_event_bytes,
                closed: AtomicBool::new(false),
                failure,
            }),
        })
    }

    /// Whether `other` is a handle to this same store.
    pub fn same_store(&self, other: &EventStore) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The storage failure that stopped the store, if one did: after a failed
    /// write or flush the store refuses every append (reads go on, up to the
    /// last durable position) until it is reopened, because only a reopen
    /// reads back from the disk what a failed flush did or did not make
    /// durable. A process serving a failed store should be restarted.
    pub fn failure(&self) -> Option<String> {
        self.inner.failure.borrow().clone()
    }

    /// Completes once the store has failed (see [`EventStore::failure`]),
    /// with the reason; never completes for a store that does not fail.
    pub async fn failed(&self) -> String {
        let mut failure = self.inner.failure.subscribe();
        loop {
            if let Some(reason) = failure.borrow_and_update().clone() {
                return reason;
            }
            if failure.changed().await.is_err() {
                // Cannot happen: the handle holds the sender. Never complete.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Appends `events` to `stream` if its version satisfies `expected`.
    ///
    /// All events land together or none does. Resolves once they are flushed
    /// to disk. Appending the same event ids again with the same content
    /// returns the original result; an id reused for other content is refused.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<EventData>,
    ) -> Result<AppendResult, StoreError> {
        self.submit(stream, expected, events).await?.outcome().await
    }

    /// Queues an append for the writer and returns once it is queued, before it
    /// is durable: appends submitted one after the other are checked and written
    /// in that order (so `Exact(v)` then `Exact(v + 1)` can share one group
    /// commit). Await [`PendingAppend::outcome`] for the result.
    pub async fn submit(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<EventData>,
    ) -> Result<PendingAppend, StoreError> {
        self.ensure_open()?;
        let stream = StreamId::parse(stream)?;
        self.check_events(&events)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            stream,
            expected,
            events,
            reply,
        };
        self.inner
            .commands
            .send(Command::Append(request))
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(PendingAppend { answer })
    }

    /// The durable event with this id, if any.
    pub fn event_by_id(&self, event_id: &Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        self.ensure_open()?;
        let Some(position) = self
            .inner
            .engine
            .get(Keyspace::EventIdIndex, &keys::event_id_key(event_id))?
        else {
            return Ok(None);
        };
        let position = keys::decode_u64(&position).unwrap_or(u64::MAX);
        if position > self.head().position {
            return Ok(None);
        }
        let record = self.record_at(position)?;
        if record.event_id != *event_id {
            return Err(StoreError::IndexCorrupt {
                index: "event-id",
                entry: event_id.to_string(),
                reason: format!(
                    "points at position {position}, which holds event {}",
                    record.event_id
                ),
            });
        }
        Ok(Some(record))
    }

    fn check_events(&self, events: &[EventData]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Err(StoreError::EmptyAppend);
        }
        let mut ids = HashSet::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let size = codec::event_size(event);
            if size > self.inner.max_event_bytes {
                return Err(StoreError::EventTooLarge {
                    index,
                    size,
                    limit: self.inner.max_event_bytes,
                });
            }
            if event.payload.len() > u32::MAX as usize {
                return Err(StoreError::InvalidEvent {
                    index,
                    reason: "payload is larger than 4 GiB",
                });
            }
            if event.event_type.is_empty() {
                return Err(StoreError::InvalidEvent {
                    index,
                    reason: "event type is empty",
                });
            }
            if event.event_type.len() > codec::MAX_EVENT_TYPE_LEN {
                return Err(StoreError::InvalidEvent {
                    index,
                    reason: "event type is longer than 512 bytes",
                });
            }
            let m = &event.metadata;
            if [&m.actor, &m.request_id, &m.correlation_id, &m.causation_id]
                .iter()
                .any(|field| field.len() > codec::MAX_METADATA_FIELD_LEN)
            {
                return Err(StoreError::InvalidEvent {
                    index,
                    reason: "a metadata field is longer than 1024 bytes",
                });
            }
            if !ids.insert(event.event_id) {
                return Err(StoreError::DuplicateEventInAppend {
                    event_id: event.event_id,
                });
            }
        }
        Ok(())
    }

    /// Reads up to `limit` events of `stream`, from `from_version` on
    /// (`Forward`) or down from it (`Backward`; `u64::MAX` reads from the end).
    ///
    /// Versions are dense: an entry missing from the stream index within the
    /// range read, or one pointing at a record of another stream or version,
    /// is a [`StoreError::IndexCorrupt`] error, never a silent gap.
    pub fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.ensure_open()?;
        let stream = StreamId::parse(stream)?;
        let committed = self.head().position;
        let reverse = direction == Direction::Backward;
        let (mut lower, mut upper) = if reverse {
            (1, from_version)
        } else {
            (from_version.max(1), u64::MAX)
        };
        // The version the next event read must have (backward: known once
        // the first committed one is read).
        let mut expected = (!reverse).then_some(lower);
        let mut events = Vec::new();
        while events.len() < limit && lower <= upper {
            let entries = self.inner.engine.scan(
                Keyspace::StreamIndex,
                Bound::Included(&keys::stream_key(stream.as_str(), lower)),
                Bound::Included(&keys::stream_key(stream.as_str(), upper)),
                reverse,
                (limit - events.len()).min(1024),
            )?;
            let Some((last_key, _)) = entries.last() else {
                break;
            };
            let last_version = keys::decode_u64(last_key).unwrap_or_default();
            for (key, value) in &entries {
                let version = keys::decode_u64(key).unwrap_or_default();
                let position = keys::decode_u64(value).unwrap_or(u64::MAX);
                if position > committed {
                    if reverse {
                        // Written but not yet durable: the stream's newest.
                        continue;
                    }
                    return Ok(events);
                }
                if let Some(wanted) = expected.filter(|wanted| *wanted != version) {
                    return Err(stream_gap(&stream, wanted, version));
                }
                let record = self.record_at(position)?;
                if record.stream_id != stream || record.version != version {
                    return Err(StoreError::IndexCorrupt {
                        index: "stream",
                        entry: format!("{stream} version {version}"),
                        reason: format!(
                            "points at position {position}, which holds {} version {}",
                            record.stream_id, record.version
                        ),
                    });
                }
                events.push(record);
                expected = if reverse {
                    version.checked_sub(1)
                } else {
                    version.checked_add(1)
                };
            }
            if reverse {
                upper = last_version.saturating_sub(1);
            } else if last_version == u64::MAX {
                break;
            } else {
                lower = last_version + 1;
            }
        }
        // Backward down to version 1 without reaching it: entries are missing below.
        match expected {
            Some(wanted) if reverse && wanted >= 1 && events.len() < limit => {
                Err(stream_gap(&stream, wanted, 0))
            }
            _ => Ok(events),
        }
    }

    /// Reads up to `limit` events of the whole log from `from_position` on
    /// (position 0 and 1 both mean the start).
    pub fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.ensure_open()?;
        let committed = self.head().position;
        let from = from_position.max(1);
        chunk::read_range(self.inner.engine.as_ref(), from, committed, limit)
    }

    /// Hands the durable events of the whole log from `from_position` on
    /// (0 and 1: the start), at most `limit` of them, to `visit`, in order,
    /// until it returns `false`: what [`EventStore::read_all`] reads, but each
    /// record decoded in place ([`RecordView`]), so that a replay allocates
    /// only for what it keeps ([`RecordView::to_owned`]). Returns the
    /// position after the last event handed: where the next call resumes
    /// (the start position, at least 1, when none was handed).
    pub fn replay(
        &self,
        from_position: u64,
        limit: usize,
        visit: &mut dyn FnMut(RecordView<'_>) -> bool,
    ) -> Result<u64, StoreError> {
        self.ensure_open()?;
        let committed = self.head().position;
        let from = from_position.max(1);
        chunk::visit_range(self.inner.engine.as_ref(), from, committed, limit, visit)
    }

    /// The stream's current version: the version of its last event, 0 when it has none.
    pub fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.ensure_open()?;
        let stream = StreamId::parse(stream)?;
        writer::last_version(
            self.inner.engine.as_ref(),
            stream.as_str(),
            self.head().position,
        )
    }

    /// The last durable record's position and hash.
    pub fn head(&self) -> Head {
        *self.inner.committed.borrow()
    }

    /// Events from `from_position` on (0 and 1: the start), first those stored,
    /// then live ones as they are committed, in order, each once, that pass `filter`.
    pub fn subscribe(&self, from_position: u64, filter: SubscriptionFilter) -> Subscription {
        Subscription::new(self.clone(), from_position.max(1), filter)
    }

    /// Recomputes the hash chain from position 1 to the head, and checks that
    /// the stream index and the event-id index agree with the log both ways;
    /// names the first disagreement.
    pub fn verify(&self) -> Result<Verification, StoreError> {
        self.ensure_open()?;
        verify::verify(self.inner.engine.as_ref(), self.head().position)
    }

    /// The storage engine under the store (for tools that inspect it, and tamper tests).
    pub fn engine(&self) -> &Arc<dyn Engine> {
        &self.inner.engine
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.engine.size_on_disk()?)
    }

    /// Lets the appends already queued finish, flushes and stops the writer.
    /// Every later call on any handle returns [`StoreError::Closed`]; the files
    /// are released when the last handle is dropped.
    pub async fn close(&self) -> Result<(), StoreError> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let (done, finished) = oneshot::channel();
        if self.inner.commands.send(Command::Close(done)).await.is_ok() {
            let _ = finished.await;
        }
        Ok(())
    }

    /// Whether [`EventStore::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    pub(crate) fn committed_watch(&self) -> watch::Receiver<Head> {
        self.inner.committed.clone()
    }

    fn ensure_open(&self) -> Result<(), StoreError> {
        if self.is_closed() {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    }

    fn record_at(&self, position: u64) -> Result<RecordedEvent, StoreError> {
        chunk::record_at(self.inner.engine.as_ref(), position)
    }
}

/// The error for a stream whose index lacks the entry of version `wanted`
/// (`found`: the next version the index holds in the reading direction; 0
/// when reading backward found none below it).
fn stream_gap(stream: &StreamId, wanted: u64, found: u64) -> StoreError {
    let next = match found {
        0 => "nor any lower one".to_string(),
        found => format!("the next one is version {found}"),
    };
    StoreError::IndexCorrupt {
        index: "stream",
        entry: format!("{stream} version {wanted}"),
        reason: format!("no entry ({next})"),
    }
}
