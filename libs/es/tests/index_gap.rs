//! An aggregate whose stream lost an entry of the stream index in the middle
//! fails to load with the store's error, instead of folding for ever.
//!
//! The entry is removed from the sled tree itself, with the store closed (the
//! hash chain stays intact, so the store opens).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::num::NonZeroUsize;
use std::sync::mpsc;
use std::time::Duration;

use maillage_es::{Aggregates, Decider, DecodeError, EventPayload, HandleError};
use maillage_eventstore::{
    open_sled, EventData, EventMetadata, EventStore, ExpectedVersion, SledEngine, SledOptions,
    StoreError, StoreOptions,
};
use uuid::Uuid;

/// Longer than loading ten events takes; a load still going then is looping.
const SPIN_GUARD: Duration = Duration::from_secs(20);

/// A running total: the smallest aggregate.
struct Total;

#[derive(Debug, Clone)]
struct Added(u32);

impl EventPayload for Added {
    fn event_type(&self) -> &'static str {
        "test.Added"
    }
    fn encode(&self) -> Vec<u8> {
        self.0.to_be_bytes().to_vec()
    }
    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        let bytes: [u8; 4] = payload.try_into().map_err(|_| DecodeError::Malformed {
            event_type: event_type.into(),
            reason: "not 4 bytes".into(),
        })?;
        Ok(Added(u32::from_be_bytes(bytes)))
    }
}

impl Decider for Total {
    type State = u32;
    type Command = u32;
    type Event = Added;
    type Error = ();

    fn decide(add: &u32, _: &u32) -> Result<Vec<Added>, ()> {
        Ok(vec![Added(*add)])
    }

    fn evolve(total: &mut u32, Added(n): &Added) {
        *total += n;
    }
}

#[tokio::test]
async fn loading_an_aggregate_across_a_missing_index_entry_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    let events = (1..=10)
        .map(|n| EventData {
            event_id: Uuid::now_v7(),
            event_type: "test.Added".into(),
            payload: Added(n).encode(),
            metadata: EventMetadata::default(),
        })
        .collect();
    store
        .append("total-1", ExpectedVersion::NoStream, events)
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);

    // Version 4's entry goes: `S`, stream id, 0x00, version.
    let db = open_sled(dir.path(), &SledOptions::default()).unwrap();
    let mut key = b"Stotal-1\0".to_vec();
    key.extend_from_slice(&4u64.to_be_bytes());
    let tree = db.open_tree(SledEngine::TREE).unwrap();
    tree.remove(key).unwrap().expect("version 4 was indexed");
    db.flush().unwrap();
    drop((tree, db));

    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    let totals = Aggregates::<Total>::new(store, NonZeroUsize::new(4).unwrap());
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(totals.load("total-1"));
    });
    let loaded = outcome
        .recv_timeout(SPIN_GUARD)
        .expect("loading the aggregate loops instead of failing");
    match loaded {
        Err(HandleError::Store(StoreError::IndexCorrupt { entry, .. })) => {
            assert_eq!(entry, "total-1 version 4")
        }
        other => panic!("expected the stream index gap, got {other:?}"),
    }
}
