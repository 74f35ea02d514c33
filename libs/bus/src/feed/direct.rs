//! The direct feed: catch-up subscriptions on local event stores, merged into
//! one feed, with no broker (the all-in-one process).
//!
//! One task per source reads its log from the consumer's checkpoint + 1
//! (stored events, then live ones) and sends envelopes into one bounded
//! channel. Each context's events come in position order with no gap or
//! duplicate; the contexts interleave as they come, with no global order.

use futures::future::BoxFuture;
use maillage_envelope::to_envelope;
use maillage_eventstore::{EventStore, SubscriptionFilter};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{AckHandle, Checkpoints, Delivery, Feed, FeedError};
use crate::subjects;

/// Deliveries read ahead, across all sources.
const READ_AHEAD: usize = 1024;

/// One local log the direct feed reads.
#[derive(Clone)]
pub struct DirectSource {
    /// The context whose log it is (`stakeholders`, `engagement`, `governance`).
    pub context: String,
    /// Its store.
    pub store: EventStore,
}

impl DirectSource {
    /// The log of `context`.
    pub fn new(context: impl Into<String>, store: EventStore) -> Self {
        Self {
            context: context.into(),
            store,
        }
    }
}

/// Catch-up subscriptions on local logs, merged; see the module docs.
pub struct DirectFeed {
    deliveries: mpsc::Receiver<Result<Delivery, FeedError>>,
    readers: Vec<JoinHandle<()>>,
}

impl DirectFeed {
    /// Reads each source from `checkpoints.get(context) + 1` on. Needs a Tokio
    /// runtime. Fails if a context is invalid or given twice.
    pub fn new(sources: Vec<DirectSource>, checkpoints: &Checkpoints) -> Result<Self, FeedError> {
        let mut seen = std::collections::BTreeSet::new();
        for source in &sources {
            subjects::context_filter(&source.context)
                .map_err(|error| FeedError::Config(error.to_string()))?;
            if !seen.insert(source.context.clone()) {
                return Err(FeedError::Config(format!(
                    "context {} is given twice",
                    source.context
                )));
            }
        }
        let (sender, deliveries) = mpsc::channel(READ_AHEAD);
        let readers = sources
            .into_iter()
            .map(|source| {
                let from = checkpoints.get(&source.context) + 1;
                tokio::spawn(read(source, from, sender.clone()))
            })
            .collect();
        Ok(Self {
            deliveries,
            readers,
        })
    }
}

/// Sends one source's events until its store closes or the feed is dropped.
async fn read(source: DirectSource, from: u64, sender: mpsc::Sender<Result<Delivery, FeedError>>) {
    let mut subscription = source.store.subscribe(from, SubscriptionFilter::All);
    loop {
        let next = tokio::select! {
            () = sender.closed() => return,
            next = subscription.next() => next,
        };
        let item = match next {
            None => return,
            Some(Ok(record)) => Ok(Delivery::new(
                to_envelope(&source.context, &record),
                1,
                AckHandle::none(),
            )),
            Some(Err(source_error)) => Err(FeedError::Store {
                context: source.context.clone(),
                source: source_error,
            }),
        };
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}

impl Feed for DirectFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<Delivery, FeedError>> {
        Box::pin(async move {
            self.deliveries
                .recv()
                .await
                .unwrap_or(Err(FeedError::Closed))
        })
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), FeedError>> {
        for reader in &self.readers {
            reader.abort();
        }
        self.deliveries.close();
        Box::pin(async { Ok(()) })
    }
}

impl Drop for DirectFeed {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}
