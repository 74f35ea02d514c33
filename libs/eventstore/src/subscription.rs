//! Catch-up subscriptions: stored events first, then live ones, with no gap and no duplicate.
//!
//! A subscription reads from storage up to the committed head it last saw,
//! then waits for the writer to publish a new head. The writer only replaces
//! one value per group commit, so a slow subscriber never holds it back; it
//! simply reads more from storage when it catches up.
//!
//! Catching up reads one batch of [`SUBSCRIPTION_BATCH`] records per step; a
//! batch the filter leaves empty gives way to the other tasks before the next
//! (`yield_now`), so a filter that matches nothing over a long backlog never
//! holds an async worker for the whole scan. Records are decoded in place and
//! filtered before they are copied: the stored bytes of those that pass are
//! kept, and each becomes a `RecordedEvent` only when it is delivered, so a
//! consumer that drops each event before asking for the next reuses the same
//! few allocations instead of a batch's thousands (docs/benchmarks.md).

use std::collections::VecDeque;
use std::ops::Range;

use tokio::sync::watch;

use crate::codec;
use crate::error::StoreError;
use crate::record::{RecordView, RecordedEvent};
use crate::store::{EventStore, Head};

/// Records read from storage per step of a catch-up.
pub const SUBSCRIPTION_BATCH: usize = 1024;

/// Which events a subscription delivers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SubscriptionFilter {
    /// Every event.
    #[default]
    All,
    /// Events of streams in one of these categories.
    Categories(Vec<String>),
    /// Events of one of these types.
    EventTypes(Vec<String>),
}

impl SubscriptionFilter {
    /// Whether `record` passes.
    pub fn accepts(&self, record: &RecordedEvent) -> bool {
        self.accepts_parts(record.stream_id.category(), &record.event_type)
    }

    /// Whether a record decoded in place passes.
    pub fn accepts_view(&self, record: &RecordView<'_>) -> bool {
        self.accepts_parts(record.category(), record.event_type)
    }

    fn accepts_parts(&self, category: &str, event_type: &str) -> bool {
        match self {
            SubscriptionFilter::All => true,
            SubscriptionFilter::Categories(categories) => {
                categories.iter().any(|wanted| wanted == category)
            }
            SubscriptionFilter::EventTypes(types) => {
                types.iter().any(|wanted| wanted == event_type)
            }
        }
    }
}

/// A live, ordered feed of the log's events; see [`EventStore::subscribe`].
pub struct Subscription {
    store: EventStore,
    next_position: u64,
    filter: SubscriptionFilter,
    buffer: Passed,
    committed: watch::Receiver<Head>,
}

/// The stored bytes of the records of a batch that passed the filter, in order.
#[derive(Default)]
struct Passed {
    bytes: Vec<u8>,
    /// Each record's position and where its bytes lie in `bytes`.
    records: VecDeque<(u64, Range<usize>)>,
}

impl Passed {
    fn push(&mut self, record: &RecordView<'_>) {
        if self.records.is_empty() {
            self.bytes.clear();
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(record.stored);
        self.records
            .push_back((record.position, start..self.bytes.len()));
    }

    /// The next record, decoded.
    fn pop(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        let (position, range) = self.records.pop_front()?;
        Some(
            codec::open(&self.bytes[range])
                .map_err(|reason| StoreError::Corrupt { position, reason }),
        )
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl Subscription {
    pub(crate) fn new(store: EventStore, from_position: u64, filter: SubscriptionFilter) -> Self {
        let committed = store.committed_watch();
        Self {
            store,
            next_position: from_position,
            filter,
            buffer: Passed::default(),
            committed,
        }
    }

    /// The next event; `None` once the store is closed (a consumer resumes from
    /// its own checkpoint on the reopened store).
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        loop {
            if self.store.is_closed() {
                return None;
            }
            if let Some(record) = self.buffer.pop() {
                return Some(record);
            }
            let head = self.committed.borrow_and_update().position;
            if self.next_position <= head {
                if let Err(error) = self.fill() {
                    return Some(Err(error));
                }
                if self.buffer.is_empty() {
                    // Nothing in this batch passed the filter: let other tasks
                    // run before reading the next one.
                    tokio::task::yield_now().await;
                }
                continue;
            }
            if self.committed.changed().await.is_err() {
                return None;
            }
        }
    }

    /// The position the subscription will read next.
    pub fn next_position(&self) -> u64 {
        self.next_position
    }

    fn fill(&mut self) -> Result<(), StoreError> {
        let (filter, buffer) = (&self.filter, &mut self.buffer);
        self.next_position =
            self.store
                .replay(self.next_position, SUBSCRIPTION_BATCH, &mut |record| {
                    if filter.accepts_view(&record) {
                        buffer.push(&record);
                    }
                    true
                })?;
        Ok(())
    }
}
