//! Readers over a damaged index or log fail with a clear error: they never
//! skip the missing events, return another record, or loop for ever.
//!
//! Stream-index and event-id entries are altered in the sled tree with the
//! store closed (the chain stays intact, so it opens); the subscription case
//! replaces a chunk through the engine while the store is open.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use common::{event, event_id_key, stream_index_key, tamper};
use maillage_eventstore::{
    Direction, EventStore, ExpectedVersion, Keyspace, StoreError, StoreOptions, SubscriptionFilter,
    WriteBatch,
};
use uuid::Uuid;

/// Longer than any of these reads takes; a reader still going then is looping.
const SPIN_GUARD: Duration = Duration::from_secs(20);

/// a-1 at positions 1..=10, b-1 at 11..=20; returns the event ids.
async fn write_20(dir: &Path) -> Vec<Uuid> {
    let store = EventStore::open(dir, StoreOptions::default()).unwrap();
    let mut ids = Vec::new();
    for stream in ["a-1", "b-1"] {
        let events: Vec<_> = (0..10u8).map(|i| event("t.E", &[i])).collect();
        ids.extend(events.iter().map(|e| e.event_id));
        store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .unwrap();
    }
    store.close().await.unwrap();
    ids
}

fn reopen(dir: &Path) -> EventStore {
    EventStore::open(dir, StoreOptions::default()).unwrap()
}

fn corrupt_index(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(error @ StoreError::IndexCorrupt { .. }) => error.to_string(),
        other => panic!("expected an IndexCorrupt error, got {other:?}"),
    }
}

#[tokio::test]
async fn reading_a_stream_across_a_missing_entry_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_20(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.remove(stream_index_key("a-1", 4)).unwrap().unwrap();
    });
    let store = reopen(dir.path());
    let forward = corrupt_index(store.read_stream("a-1", 1, Direction::Forward, 100));
    assert_eq!(
        forward,
        "the stream index is corrupt at a-1 version 4: no entry (the next one is version 5)"
    );
    // From the version that is missing, and backward across it.
    corrupt_index(store.read_stream("a-1", 4, Direction::Forward, 100));
    let backward = corrupt_index(store.read_stream("a-1", u64::MAX, Direction::Backward, 100));
    assert_eq!(
        backward,
        "the stream index is corrupt at a-1 version 4: no entry (the next one is version 3)"
    );
    // Reads that stay clear of the gap still work.
    assert_eq!(
        store
            .read_stream("a-1", 5, Direction::Forward, 100)
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        store
            .read_stream("a-1", u64::MAX, Direction::Backward, 3)
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn reading_a_stream_backward_to_a_missing_first_entry_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_20(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.remove(stream_index_key("b-1", 1)).unwrap().unwrap();
    });
    let store = reopen(dir.path());
    let message = corrupt_index(store.read_stream("b-1", u64::MAX, Direction::Backward, 100));
    assert_eq!(
        message,
        "the stream index is corrupt at b-1 version 1: no entry (nor any lower one)"
    );
    corrupt_index(store.read_stream("b-1", 1, Direction::Forward, 100));
}

#[tokio::test]
async fn a_stream_entry_pointing_at_another_record_fails_the_read() {
    let dir = tempfile::tempdir().unwrap();
    write_20(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(stream_index_key("a-1", 3), 13u64.to_be_bytes().to_vec())
            .unwrap();
    });
    let store = reopen(dir.path());
    let message = corrupt_index(store.read_stream("a-1", 1, Direction::Forward, 100));
    assert_eq!(
        message,
        "the stream index is corrupt at a-1 version 3: points at position 13, which holds b-1 version 3"
    );
}

#[tokio::test]
async fn an_event_id_entry_pointing_at_another_record_fails_the_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let ids = write_20(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(event_id_key(&ids[0]), 2u64.to_be_bytes().to_vec())
            .unwrap();
    });
    let store = reopen(dir.path());
    let message = corrupt_index(store.event_by_id(&ids[0]));
    assert_eq!(
        message,
        format!(
            "the event-id index is corrupt at {}: points at position 2, which holds event {}",
            ids[0], ids[1]
        )
    );
}

#[tokio::test]
async fn a_subscription_waiting_for_records_its_chunk_no_longer_holds_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_20(dir.path()).await;
    let store = reopen(dir.path());
    // Replace the chunk of 11..=20 with a copy of the chunk of 1..=10.
    let first = store
        .engine()
        .get(Keyspace::Log, &1u64.to_be_bytes())
        .unwrap()
        .unwrap();
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::Log, 11u64.to_be_bytes(), first);
    store.engine().apply(batch).unwrap();

    let (done, outcome) = mpsc::channel();
    let subscriber = store.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let next = runtime.block_on(async {
            let mut subscription = subscriber.subscribe(11, SubscriptionFilter::All);
            subscription.next().await
        });
        let _ = done.send(next);
    });
    let next = outcome
        .recv_timeout(SPIN_GUARD)
        .expect("the subscription loops instead of answering");
    match next {
        Some(Err(StoreError::Corrupt {
            position: 11,
            reason,
        })) => {
            assert_eq!(reason, "missing from the log")
        }
        other => panic!("expected position 11 to be reported missing, got {other:?}"),
    }
}
