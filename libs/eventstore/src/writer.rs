//! The single writer thread: group commit of every waiting append.
//!
//! It takes every append waiting in its queue, checks each in order against the
//! stream heads (including those of earlier appends of the same group) and the
//! event-id index, writes all accepted events in one atomic batch, flushes once,
//! then publishes the new head and answers every caller. After a storage failure
//! it refuses every further append: the store must be reopened.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

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

/// The writer's state: the committed head and a cache of stream versions.
pub struct Writer {
    engine: Arc<dyn Engine>,
    clock: Arc<dyn Clock>,
    max_group_events: usize,
    head: Head,
    stream_versions: HashMap<String, u64>,
    committed: watch::Sender<Head>,
    failed: Option<String>,
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
        committed: watch::Sender<Head>,
    ) -> Self {
        Self {
            engine,
            clock,
            max_group_events,
            head,
            stream_versions: HashMap::new(),
            committed,
            failed: None,
        }
    }

    /// Runs until closed or until every handle to the store is gone. Returns the
    /// closer's acknowledgement, to be sent once the writer (and its hold on
    /// the engine) is dropped, so a reopen right after `close` finds the files free.
    pub fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Option<oneshot::Sender<()>> {
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
                self.commit_group(group);
            }
            if let Some(done) = close {
                // A last flush; a failure here cannot be reported to anyone but is
                // harmless: every acknowledged append was flushed already.
                let _ = self.engine.flush();
                return Some(done);
            }
        }
        let _ = self.engine.flush();
        None
    }

    fn commit_group(&mut self, group: Vec<AppendRequest>) {
        if let Some(reason) = &self.failed {
            for request in group {
                let _ = request.reply.send(Err(StoreError::Storage(reason.clone())));
            }
            return;
        }
        let recorded_at_micros = codec::to_micros(self.clock.now());
        let mut batch = WriteBatch::new();
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
                &mut versions,
                &mut pending,
                &mut head,
            );
            outcomes.push(outcome);
        }

        if !batch.is_empty() {
            let written = self
                .engine
                .apply(batch)
                .and_then(|()| self.engine.flush());
            if let Err(error) = written {
                let reason = error.to_string();
                self.failed = Some(reason.clone());
                for request in group {
                    let _ = request.reply.send(Err(StoreError::Storage(reason.clone())));
                }
                return;
            }
            if self.stream_versions.len() + versions.len() > MAX_CACHED_HEADS {
                self.stream_versions.clear();
            }
            self.stream_versions.extend(versions);
            self.head = head;
            self.committed.send_replace(head);
        }
        for (request, outcome) in group.into_iter().zip(outcomes) {
            let _ = request.reply.send(outcome);
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
            batch.put(Keyspace::Log, keys::log_key(head.position), stored);
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
                let same =
                    original.stream == request.stream && original.events[p.event] == *event;
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
        let stored = self
            .engine
            .get(Keyspace::Log, &keys::log_key(position))?
            .ok_or_else(|| StoreError::Corrupt {
                position,
                reason: "indexed event is missing from the log".into(),
            })?;
        codec::open(&stored)
            .map(Some)
            .map_err(|reason| StoreError::Corrupt { position, reason })
    }

    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        if let Some(version) = self.stream_versions.get(stream) {
            return Ok(*version);
        }
        let version = last_version(self.engine.as_ref(), stream, u64::MAX)?;
        Ok(version)
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
