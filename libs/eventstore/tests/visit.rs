//! Reads go through `Engine::visit`: sled lends its chunks, and an engine that
//! only offers `scan` (the fault-injecting one here) gets the trait's own
//! `visit`, which pages through `scan`. Both must give every range of the log
//! whole and in order, whichever chunk a read starts or ends in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::{event, faulty::FaultyEngine};
use maillage_eventstore::{EventStore, ExpectedVersion, StoreOptions};

/// 40 appends of 3 events: 40 chunks, more than one page of the default `visit`.
async fn fill(store: &EventStore) {
    for n in 0..40 {
        let events = (0..3)
            .map(|i| event("t.E", format!("{n} {i}").as_bytes()))
            .collect();
        store
            .append(&format!("s-{n}"), ExpectedVersion::NoStream, events)
            .await
            .unwrap();
    }
}

fn every_range_reads_whole(store: &EventStore) {
    let head = store.head().position;
    assert_eq!(head, 120);
    for from in 1..=head {
        for limit in [1, 2, 3, 5, 50, 1000] {
            let read = store.read_all(from, limit).unwrap();
            let expected = usize::try_from(head - from + 1).unwrap().min(limit);
            assert_eq!(read.len(), expected, "from {from}, limit {limit}");
            for (offset, record) in (0u64..).zip(&read) {
                assert_eq!(record.position, from + offset, "from {from}, limit {limit}");
            }
        }
    }
}

#[tokio::test]
async fn sled_lends_its_chunks_and_every_range_reads_whole() {
    let (store, _dir) = common::temp_store();
    fill(&store).await;
    every_range_reads_whole(&store);
}

#[tokio::test]
async fn an_engine_with_only_scan_reads_every_range_whole() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(FaultyEngine::open(dir.path()));
    let store = EventStore::with_engine(engine, StoreOptions::default()).unwrap();
    fill(&store).await;
    every_range_reads_whole(&store);
}
