//! The single writer and its flusher: group commit of every waiting append.
//!
//! The writer takes every append waiting in its queue, checks each in order
//! against the stream heads (including those of earlier appends of the same
//! group) and the event-id index, and writes all accepted events in one atomic
//! batch. The flusher then makes the batch durable, publishes the new head and
//! answers every caller. The two run on their own threads so that the next
//! group is checked and written while the previous one is being flushed; a
//! group is answered only after a flush that covers it, and groups are answered
//! in order. After a storage failure every further append is refused: the store
//! must be reopened.
//!
//! The writer's retry check reads the event-id index as written, not only up
//! to the committed head: a retry can match a group applied but still being
//! flushed (its caller has not been answered yet). Such a retry writes nothing,
//! so its own group has no head to flush; the flusher still answers it only
//! once the positions it names are durable. It tracks the last position a
//! successful flush covered, and an `Ok` whose last position lies beyond it is
//! turned into the storage failure that prevented it: a retry shares the fate
//! of the flush covering the original. Once a flush or a write has failed,
//! nothing more is considered durable until the store is reopened.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::chunk::{self, ChunkWriter};
use crate::clock::Clock;
use crate::codec::{self, Unsealed};
use crate::engine::{Engine, Keyspace, WriteBatch};
use crate::error::StoreError;
use crate::expected::ExpectedVersion;
use crate::keys;
use crate::record::{AppendResult, EventData};
use crate::store::Head;
use crate::stream_id::StreamId;

/// Stream versions kept in memory before the cache is emptied and refilled from storage.
const MAX_CACHED_HEADS: usize = 100_000;

/// An append waiting for the writer.
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<EventData>,
    pub reply: oneshot::Sender<Result<AppendResult, StoreError>>,
}

/// What the writer is asked to do.
pub enum Command {
    Append(AppendRequest),
    /// Finish what was queued before, flush, stop.
    Close(oneshot::Sender<()>),
}

/// The first storage failure, shared by the writer, the flusher and the
/// store's handle (which lets health checks watch it).
pub type Failure = Arc<watch::Sender<Option<String>>>;

/// A new, empty failure cell.
pub fn no_failure() -> Failure {
    Arc::new(watch::Sender::new(None))
}

fn failure_of(failure: &Failure) -> Option<String> {
    failure.borrow().clone()
}

fn set_failure(failure: &Failure, reason: &str) {
    failure.send_if_modified(|current| {
        if current.is_some() {
            return false;
        }
        *current = Some(reason.to_string());
        true
    });
}

type Reply = oneshot::Sender<Result<AppendResult, StoreError>>;

/// A group written to the engine but not yet flushed, with its callers' answers.
pub struct Applied {
    /// The head after the group, when it wrote anything.
    head: Option<Head>,
    replies: Vec<(Reply, Result<AppendResult, StoreError>)>,
}

/// What the writer hands to the flusher.
pub enum ToFlusher {
    Group(Applied),
    /// Flush, then stop; the closer is answered once both threads are done.
    Close(oneshot::Sender<()>),
}

/// The writer's state: the head written so far and a cache of stream versions.
pub struct Writer {
    engine: Arc<dyn Engine>,
    clock: Arc<dyn Clock>,
    max_group_events: usize,
    head: Head,
    stream_versions: HashMap<String, u64>,
    failure: Failure,
}

/// Where one event of the group being written stands.
struct Pending {
    request: usize,
    event: usize,
    position: u64,
    version: u64,
}

impl Writer {
    pub fn new(
        engine: Arc<dyn Engine>,
        clock: Arc<dyn Clock>,
        max_group_events: usize,
        head: Head,
        failure: Failure,
    ) -> Self {
        Self {
            engine,
            clock,
            max_group_events,
            head,
            stream_versions: HashMap::new(),
            failure,
        }
    }

    /// Runs until closed or until every handle to the store is gone, handing
    /// each written group to the flusher.
    pub fn run(mut self, mut commands: mpsc::Receiver<Command>, flusher: SyncSender<ToFlusher>) {
        while let Some(first) = commands.blocking_recv() {
            let mut group = Vec::new();
            let mut events = 0;
            let mut close = None;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Append(request) => {
                        events += request.events.len();
                        group.push(request);
                    }
                    Command::Close(done) => {
                        close = Some(done);
                        break;
                    }
                }
                if events < self.max_group_events {
                    next = commands.try_recv().ok();
                }
            }
            if !group.is_empty() {
                let applied = self.write_group(group);
                if flusher.send(ToFlusher::Group(applied)).is_err() {
                    return;
                }
            }
            if let Some(done) = close {
                let _ = flusher.send(ToFlusher::Close(done));
                return;
            }
        }
    }

    /// Checks a group and writes what it accepts, without flushing.
    fn write_group(&mut self, group: Vec<AppendRequest>) -> Applied {
        if let Some(reason) = failure_of(&self.failure) {
            return Applied {
                head: None,
                replies: group
                    .into_iter()
                    .map(|request| (request.reply, Err(StoreError::Storage(reason.clone()))))
                    .collect(),
            };
        }
        let recorded_at_micros = codec::to_micros(self.clock.now());
        let mut batch = WriteBatch::new();
        let mut chunks = ChunkWriter::default();
        let mut versions: HashMap<String, u64> = HashMap::new();
        let mut pending: HashMap<Uuid, Pending> = HashMap::new();
        let mut head = self.head;
        let mut outcomes = Vec::with_capacity(group.len());

        for index in 0..group.len() {
            let outcome = self.plan_append(
                index,
                &group,
                recorded_at_micros,
                &mut batch,
                &mut chunks,
                &mut versions,
                &mut pending,
                &mut head,
            );
            outcomes.push(outcome);
        }

        chunks.finish(&mut batch);
        let mut written = None;
        if !batch.is_empty() {
            if let Err(error) = self.engine.apply(batch) {
                let reason = error.to_string();
                set_failure(&self.failure, &reason);
                outcomes = outcomes
                    .into_iter()
                    .map(|outcome| outcome.and(Err(StoreError::Storage(reason.clone()))))
                    .collect();
            } else {
                if self.stream_versions.len() + versions.len() > MAX_CACHED_HEADS {
                    self.stream_versions.clear();
                }
                self.stream_versions.extend(versions);
                self.head = head;
                written = Some(head);
            }
        }
        Applied {
            head: written,
            replies: group
                .into_iter()
                .map(|request| request.reply)
                .zip(outcomes)
                .collect(),
        }
    }

    /// Checks one append of the group and adds its records to the batch.
    #[allow(clippy::too_many_arguments)]
    fn plan_append(
        &mut self,
        index: usize,
        group: &[AppendRequest],
        recorded_at_micros: i64,
        batch: &mut WriteBatch,
        chunks: &mut ChunkWriter,
        versions: &mut HashMap<String, u64>,
        pending: &mut HashMap<Uuid, Pending>,
        head: &mut Head,
    ) -> Result<AppendResult, StoreError> {
        let request = &group[index];
        if let Some(result) = self.find_retry(request, group, pending)? {
            return Ok(result);
        }
        let stream = request.stream.as_str();
        let actual = match versions.get(stream) {
            Some(version) => *version,
            None => self.stream_version(stream)?,
        };
        if !request.expected.accepts(actual) {
            return Err(StoreError::WrongExpectedVersion {
                stream_id: stream.to_string(),
                expected: request.expected,
                actual,
            });
        }
        let first_position = head.position + 1;
        let mut version = actual;
        for (event_index, event) in request.events.iter().enumerate() {
            version += 1;
            head.position += 1;
            let (stored, hash) = codec::seal(&Unsealed {
                position: head.position,
                stream_id: stream,
                version,
                recorded_at_micros,
                prev_hash: head.hash,
                event,
            });
            head.hash = hash;
            let position_bytes = head.position.to_be_bytes();
            chunks.push(batch, head.position, &stored);
            batch.put(
                Keyspace::StreamIndex,
                keys::stream_key(stream, version),
                position_bytes,
            );
            batch.put(
                Keyspace::EventIdIndex,
                keys::event_id_key(&event.event_id),
                position_bytes,
            );
            pending.insert(
                event.event_id,
                Pending {
                    request: index,
                    event: event_index,
                    position: head.position,
                    version,
                },
            );
        }
        versions.insert(stream.to_string(), version);
        Ok(AppendResult {
            first_position,
            last_position: head.position,
            stream_version: version,
        })
    }

    /// If the append's event ids are already recorded (or pending in this group):
    /// the original result when it is the same append again, an error when not.
    fn find_retry(
        &self,
        request: &AppendRequest,
        group: &[AppendRequest],
        pending: &HashMap<Uuid, Pending>,
    ) -> Result<Option<AppendResult>, StoreError> {
        let mut found = Vec::with_capacity(request.events.len());
        for event in &request.events {
            let earlier = if let Some(p) = pending.get(&event.event_id) {
                let original = &group[p.request];
                let same = original.stream == request.stream && original.events[p.event] == *event;
                Some((same, p.position, p.version))
            } else {
                self.recorded(&event.event_id)?.map(|record| {
                    let same = record.stream_id == request.stream && event.same_content(&record);
                    (same, record.position, record.version)
                })
            };
            found.push((event.event_id, earlier));
        }
        let recorded: Vec<_> = found
            .iter()
            .filter_map(|(id, earlier)| earlier.map(|hit| (*id, hit)))
            .collect();
        if recorded.is_empty() {
            return Ok(None);
        }
        let consecutive = recorded.windows(2).all(|pair| {
            let ((_, (_, position_a, version_a)), (_, (_, position_b, version_b))) =
                (pair[0], pair[1]);
            position_b == position_a + 1 && version_b == version_a + 1
        });
        let is_retry = recorded.len() == found.len()
            && recorded.iter().all(|(_, (same, _, _))| *same)
            && consecutive;
        if !is_retry {
            // Name an id recorded with other content if there is one, else the first recorded id.
            let (event_id, _) = recorded
                .iter()
                .find(|(_, (same, _, _))| !same)
                .unwrap_or(&recorded[0]);
            return Err(StoreError::EventIdConflict {
                event_id: *event_id,
            });
        }
        let found: Vec<_> = recorded.into_iter().map(|(_, hit)| hit).collect();
        let (_, first_position, _) = found[0];
        let (_, last_position, stream_version) = found[found.len() - 1];
        Ok(Some(AppendResult {
            first_position,
            last_position,
            stream_version,
        }))
    }

    fn recorded(&self, event_id: &Uuid) -> Result<Option<crate::RecordedEvent>, StoreError> {
        let Some(position) = self
            .engine
            .get(Keyspace::EventIdIndex, &keys::event_id_key(event_id))?
        else {
            return Ok(None);
        };
        let position = keys::decode_u64(&position).unwrap_or_default();
        chunk::record_at(self.engine.as_ref(), position).map(Some)
    }

    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        if let Some(version) = self.stream_versions.get(stream) {
            return Ok(*version);
        }
        let version = last_version(self.engine.as_ref(), stream, u64::MAX)?;
        Ok(version)
    }
}

/// Makes written groups durable, then publishes the head and answers their callers.
pub struct Flusher {
    engine: Arc<dyn Engine>,
    committed: watch::Sender<Head>,
    failure: Failure,
    /// The last position a successful flush covered (the committed head's).
    durable: u64,
}

impl Flusher {
    pub fn new(engine: Arc<dyn Engine>, committed: watch::Sender<Head>, failure: Failure) -> Self {
        let durable = committed.borrow().position;
        Self {
            engine,
            committed,
            failure,
            durable,
        }
    }

    /// Runs until the writer closes or goes away. Returns the closer's
    /// acknowledgement, to be sent once both threads (and their hold on the
    /// engine) are gone, so a reopen right after `close` finds the files free.
    pub fn run(mut self, groups: Receiver<ToFlusher>) -> Option<oneshot::Sender<()>> {
        while let Ok(first) = groups.recv() {
            let mut written = Vec::new();
            let mut close = None;
            for item in std::iter::once(first).chain(groups.try_iter()) {
                match item {
                    ToFlusher::Group(applied) => written.push(applied),
                    ToFlusher::Close(done) => close = Some(done),
                }
            }
            self.complete(written);
            if close.is_some() {
                // A last flush; every acknowledged append was flushed already.
                let _ = self.engine.flush();
                return close;
            }
        }
        let _ = self.engine.flush();
        None
    }

    /// One flush for every group received, then the answers, in order.
    ///
    /// An `Ok` answer is sent only when its last position is durable: covered
    /// by this flush or an earlier successful one. A retry of a group whose
    /// flush failed (matched by the writer before the failure was known) thus
    /// gets that failure, never the original's positions. After any storage
    /// failure (a failed write or flush, this one or an earlier one) nothing
    /// is flushed or published again.
    fn complete(&mut self, written: Vec<Applied>) {
        let head = written.iter().rev().find_map(|applied| applied.head);
        let failure = match (failure_of(&self.failure), head) {
            (Some(reason), _) => Some(reason),
            (None, Some(head)) => match self.engine.flush() {
                Ok(()) => {
                    self.committed.send_replace(head);
                    self.durable = head.position;
                    None
                }
                Err(error) => {
                    let reason = error.to_string();
                    set_failure(&self.failure, &reason);
                    Some(reason)
                }
            },
            (None, None) => None,
        };
        for (reply, outcome) in written.into_iter().flat_map(|applied| applied.replies) {
            let outcome = match outcome {
                Ok(result) if result.last_position > self.durable => {
                    Err(StoreError::Storage(failure.clone().unwrap_or_else(|| {
                        "the events are not durable: no flush covered them".into()
                    })))
                }
                other => other,
            };
            let _ = reply.send(outcome);
        }
    }
}

/// The last version of `stream` whose position is at most `committed` (0: none).
pub fn last_version(engine: &dyn Engine, stream: &str, committed: u64) -> Result<u64, StoreError> {
    let start = keys::stream_key(stream, 0);
    let end = keys::stream_key(stream, u64::MAX);
    // At most one group of uncommitted entries can stand after the committed ones.
    let mut upper = end;
    loop {
        let entries = engine.scan(
            Keyspace::StreamIndex,
            Bound::Included(&start),
            Bound::Included(&upper),
            true,
            256,
        )?;
        if entries.is_empty() {
            return Ok(0);
        }
        for (key, value) in &entries {
            let position = keys::decode_u64(value).unwrap_or(u64::MAX);
            if position <= committed {
                return Ok(keys::decode_u64(key).unwrap_or_default());
            }
        }
        let (oldest, _) = &entries[entries.len() - 1];
        let version = keys::decode_u64(oldest).unwrap_or_default();
        if version <= 1 {
            return Ok(0);
        }
        upper = keys::stream_key(stream, version - 1);
    }
}
