//! Reads go through `Engine::visit`: sled lends its chunks, and an engine that
//! only offers `scan` (the fault-injecting one here) gets the trait's own
//! `visit`, which pages through `scan`. Both must give every range of the log
//! whole and in order, whichever chunk a read starts or ends in. `replay`
//! hands the same records decoded in place, and stops where its visitor asks.
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

/// `replay` sees what `read_all` reads, field for field, and resumes where it returned.
fn every_range_replays_as_read(store: &EventStore) {
    let head = store.head().position;
    for from in 1..=head {
        for limit in [1, 3, 50, 1000] {
            let read = store.read_all(from, limit).unwrap();
            let mut seen = Vec::new();
            let next = store
                .replay(from, limit, &mut |record| {
                    seen.push(record.to_owned());
                    true
                })
                .unwrap();
            assert_eq!(seen, read, "from {from}, limit {limit}");
            assert_eq!(next, from + read.len() as u64, "from {from}, limit {limit}");
        }
    }
}

#[tokio::test]
async fn sled_lends_its_chunks_and_every_range_reads_whole() {
    let (store, _dir) = common::temp_store();
    fill(&store).await;
    every_range_reads_whole(&store);
    every_range_replays_as_read(&store);
}

#[tokio::test]
async fn a_replay_stops_where_its_visitor_asks_and_resumes_there() {
    let (store, _dir) = common::temp_store();
    fill(&store).await;
    let mut seen = Vec::new();
    let mut next = 1;
    while next <= store.head().position {
        // Stops after 7 records: within a chunk of 3, never on its edge.
        let mut taken = 0;
        next = store
            .replay(next, usize::MAX, &mut |record| {
                assert_eq!(record.category(), "s");
                seen.push(record.position);
                taken += 1;
                taken < 7
            })
            .unwrap();
    }
    assert_eq!(seen, (1..=120).collect::<Vec<u64>>());
    let untouched = store.replay(121, 10, &mut |_| unreachable!()).unwrap();
    assert_eq!(untouched, 121, "nothing past the head");
}

#[tokio::test]
async fn an_engine_with_only_scan_reads_every_range_whole() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(FaultyEngine::open(dir.path()));
    let store = EventStore::with_engine(engine, StoreOptions::default()).unwrap();
    fill(&store).await;
    every_range_reads_whole(&store);
    every_range_replays_as_read(&store);
}
