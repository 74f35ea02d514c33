//! Storage faults under a real sled engine (through the fault-injecting
//! wrapper of `common::faulty`): a failed flush or write is never
//! acknowledged, not even to a retry of the same append, and what was not
//! acknowledged is gone after a power loss.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;
use std::sync::Arc;

use common::event;
use common::faulty::{FaultyEngine, FlushFault};
use maillage_eventstore::{EventStore, ExpectedVersion, StoreError, StoreOptions};

const STREAM: &str = "consent-0190f3c2-7b1e-7cc0-9a8e-2f1d6b1c9a10";

fn open(dir: &Path) -> (EventStore, Arc<FaultyEngine>) {
    let engine = Arc::new(FaultyEngine::open(dir));
    let store = EventStore::with_engine(engine.clone(), StoreOptions::default()).expect("open");
    (store, engine)
}

/// Power goes, the store is closed and every handle dropped, and the directory reopened.
async fn power_cycle(store: EventStore, engine: Arc<FaultyEngine>, dir: &Path) -> EventStore {
    engine.power_loss();
    store.close().await.expect("close");
    drop(store);
    drop(engine);
    open(dir).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_matching_a_group_whose_flush_fails_is_not_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = open(dir.path());
    let append = vec![event("t.ConsentRecorded", b"A")];

    // A is written as one group; its flush stalls.
    engine.fault_next_flush(FlushFault::StallThenFail);
    let original = store
        .submit(STREAM, ExpectedVersion::NoStream, append.clone())
        .await
        .unwrap();
    tokio::task::block_in_place(|| engine.wait_for(|s| s.stalled));
    // An identical retry is checked while A is applied but not durable
    // (its event-id lookup is the engine's second one, after A's own).
    let retry = store
        .submit(STREAM, ExpectedVersion::NoStream, append.clone())
        .await
        .unwrap();
    tokio::task::block_in_place(|| engine.wait_for(|s| s.event_id_gets >= 2));
    // Then A's flush fails.
    engine.release_flush();

    let original = original.outcome().await;
    let retry = retry.outcome().await;
    assert!(
        matches!(original, Err(StoreError::Storage(_))),
        "{original:?}"
    );
    assert!(
        matches!(retry, Err(StoreError::Storage(_))),
        "the retry was answered {retry:?} although A's flush failed"
    );

    // After a power loss A is not there, and appending it again works.
    let store = power_cycle(store, engine, dir.path()).await;
    assert_eq!(store.head().position, 0);
    assert_eq!(store.event_by_id(&append[0].event_id).unwrap(), None);
    let again = store
        .append(STREAM, ExpectedVersion::NoStream, append.clone())
        .await
        .unwrap();
    assert_eq!((again.first_position, again.stream_version), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_a_durable_append_is_still_answered_after_a_later_flush_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = open(dir.path());
    let first = vec![event("t.ConsentRecorded", b"A")];
    let acked = store
        .append(STREAM, ExpectedVersion::NoStream, first.clone())
        .await
        .unwrap();
    engine.fault_next_flush(FlushFault::StallThenFail);
    let second = store
        .submit(STREAM, ExpectedVersion::Exact(1), vec![event("t.X", b"B")])
        .await
        .unwrap();
    tokio::task::block_in_place(|| engine.wait_for(|s| s.stalled));
    let retry = store
        .submit(STREAM, ExpectedVersion::NoStream, first.clone())
        .await
        .unwrap();
    tokio::task::block_in_place(|| engine.wait_for(|s| s.event_id_gets >= 3));
    engine.release_flush();
    assert!(matches!(
        second.outcome().await,
        Err(StoreError::Storage(_))
    ));
    assert_eq!(retry.outcome().await, Ok(acked), "A was durable already");
    // The store refuses new appends until it is reopened.
    let refused = store
        .append(STREAM, ExpectedVersion::Any, vec![event("t.X", b"C")])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Storage(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_failed_write_is_refused_and_so_is_every_append_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = open(dir.path());
    let kept = vec![event("t.ConsentRecorded", b"kept")];
    let acked = store
        .append(STREAM, ExpectedVersion::NoStream, kept.clone())
        .await
        .unwrap();
    assert_eq!(store.failure(), None);
    engine.fail_next_apply();
    let lost = vec![event("t.ConsentWithdrawn", b"lost")];
    let failed = store
        .append(STREAM, ExpectedVersion::Exact(1), lost.clone())
        .await;
    assert!(matches!(failed, Err(StoreError::Storage(_))), "{failed:?}");
    let after = store
        .append(STREAM, ExpectedVersion::Any, vec![event("t.X", b"after")])
        .await;
    assert!(matches!(after, Err(StoreError::Storage(_))), "{after:?}");
    assert_eq!(store.head().position, 1);
    // The failure is visible (health watches it), and stays: the fault was
    // one-shot, yet the store does not recover by itself.
    let reason = store.failure().expect("the store says it failed");
    assert!(reason.contains("simulated write failure"), "{reason}");
    assert_eq!(store.failed().await, reason);

    let store = power_cycle(store, engine, dir.path()).await;
    assert_eq!(store.failure(), None, "a reopened store has not failed");
    assert_eq!(store.head().position, 1);
    assert_eq!(
        store
            .event_by_id(&kept[0].event_id)
            .unwrap()
            .map(|e| e.position),
        Some(1)
    );
    assert_eq!(store.event_by_id(&lost[0].event_id).unwrap(), None);
    let retried = store
        .append(STREAM, ExpectedVersion::NoStream, kept)
        .await
        .unwrap();
    assert_eq!(retried, acked);
}

#[tokio::test]
async fn a_power_loss_after_the_data_is_durable_keeps_the_unacknowledged_append() {
    let dir = tempfile::tempdir().unwrap();
    let (store, engine) = open(dir.path());
    let append = vec![event("t.ConsentRecorded", b"A")];
    engine.fault_next_flush(FlushFault::PowerLossAfterDurable);
    let answer = store
        .append(STREAM, ExpectedVersion::NoStream, append.clone())
        .await;
    assert!(matches!(answer, Err(StoreError::Storage(_))), "{answer:?}");
    let store = power_cycle(store, engine, dir.path()).await;
    // Not acknowledged, but on disk: the client's retry gets it back, once.
    let retried = store
        .append(STREAM, ExpectedVersion::NoStream, append)
        .await
        .unwrap();
    assert_eq!((retried.first_position, retried.stream_version), (1, 1));
    assert_eq!(store.head().position, 1);
}
