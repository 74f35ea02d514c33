//! Power losses, seeded: concurrent appends (and retries, some racing their
//! original) run over the fault-injecting engine until the power goes at a
//! flush drawn from the seed (before or after the data reached the disk);
//! the directory is reopened and every acknowledged event must be found by
//! `read_all`, `event_by_id` and `read_stream`, the chain must verify, and
//! retrying any earlier append must give its original positions.
//!
//! The workload and the faults come from the seed; thread interleavings do
//! not, so a failure prints the seed and the round to help reproduce it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::{Arc, Mutex};

use common::faulty::{FaultyEngine, FlushFault};
use maillage_eventstore::{
    AppendResult, Direction, EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions,
    Verification,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const SEED: u64 = 0x6d61_696c_6c61_6765;
const ROUNDS: usize = 16;
const WRITERS: usize = 4;
const APPENDS_PER_WRITER: usize = 25;

/// One append as the test submitted it.
#[derive(Clone)]
struct Append {
    stream: String,
    events: Vec<EventData>,
}

#[derive(Default)]
struct Log {
    /// Acknowledged appends with their result.
    acked: Vec<(Append, AppendResult)>,
    /// Appends that got an error (they may or may not be on disk).
    unacked: Vec<Append>,
}

fn new_append(rng: &mut StdRng) -> Append {
    let stream = format!("consent-{}", rng.gen_range(0..6));
    let events = (0..rng.gen_range(1..=3))
        .map(|_| EventData {
            event_id: Uuid::from_u128(rng.gen()),
            event_type: "t.Recorded".into(),
            payload: (0..rng.gen_range(1..200)).map(|_| rng.gen()).collect(),
            metadata: EventMetadata {
                actor: "facilitator:alice".into(),
                request_id: "req".into(),
                correlation_id: "corr".into(),
                causation_id: String::new(),
            },
        })
        .collect();
    Append { stream, events }
}

async fn writer(store: EventStore, log: Arc<Mutex<Log>>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..APPENDS_PER_WRITER {
        let append = new_append(&mut rng);
        // Sometimes the client retries at once, while the original may still be in flight.
        let copies = if rng.gen_bool(0.3) { 2 } else { 1 };
        let mut pending = Vec::new();
        for _ in 0..copies {
            match store
                .submit(&append.stream, ExpectedVersion::Any, append.events.clone())
                .await
            {
                Ok(submitted) => pending.push(submitted),
                Err(_) => return,
            }
        }
        let mut outcomes = Vec::new();
        for submitted in pending {
            outcomes.push(submitted.outcome().await);
        }
        let mut log = log.lock().unwrap();
        let mut any_ok = false;
        for result in outcomes.into_iter().flatten() {
            if let Some((_, first)) = log
                .acked
                .iter()
                .find(|(a, _)| a.events[0].event_id == append.events[0].event_id)
            {
                assert_eq!(*first, result, "two answers for one append");
            } else {
                log.acked.push((append.clone(), result));
            }
            any_ok = true;
        }
        if !any_ok {
            log.unacked.push(append);
            return; // the store is refusing appends until reopened
        }
    }
}

fn check_acknowledged(store: &EventStore, log: &Log, context: &str) {
    let head = store.head().position;
    let all = store.read_all(1, usize::MAX).unwrap();
    assert_eq!(all.len() as u64, head, "{context}: positions are dense");
    for (index, record) in all.iter().enumerate() {
        assert_eq!(record.position, index as u64 + 1, "{context}: dense");
    }
    assert!(
        matches!(store.verify().unwrap(), Verification::Intact { head: h } if h.position == head),
        "{context}: the chain verifies"
    );
    for (append, result) in &log.acked {
        let n = append.events.len() as u64;
        assert_eq!(result.last_position - result.first_position + 1, n);
        for (i, event) in append.events.iter().enumerate() {
            let position = result.first_position + i as u64;
            let version = result.stream_version + 1 + i as u64 - n;
            let record = all
                .get(position as usize - 1)
                .unwrap_or_else(|| panic!("{context}: acknowledged position {position} is gone"));
            assert_eq!(record.event_id, event.event_id, "{context}: read_all");
            assert_eq!(record.payload, event.payload, "{context}: read_all");
            assert_eq!(record.stream_id.as_str(), append.stream);
            assert_eq!(record.version, version, "{context}: version");
            let by_id = store.event_by_id(&event.event_id).unwrap();
            assert_eq!(
                by_id.map(|e| e.position),
                Some(position),
                "{context}: event_by_id"
            );
            let in_stream = store
                .read_stream(&append.stream, version, Direction::Forward, 1)
                .unwrap();
            assert_eq!(
                in_stream.first().map(|e| e.event_id),
                Some(event.event_id),
                "{context}: read_stream"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_power_losses_and_retries_get_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut log = Log::default();
    let mut power_losses_mid_run = 0;

    for round in 0..ROUNDS {
        let context = format!("seed {SEED:#x}, round {round}");
        let engine = Arc::new(FaultyEngine::open(dir.path()));
        let store = EventStore::with_engine(engine.clone(), StoreOptions::default()).unwrap();

        // Recovery: what was acknowledged is there; every retry gets the original positions;
        // an unacknowledged append is either there already or appended now, once.
        check_acknowledged(&store, &log, &context);
        for (append, result) in &log.acked {
            let again = store
                .append(&append.stream, ExpectedVersion::Any, append.events.clone())
                .await
                .unwrap();
            assert_eq!(again, *result, "{context}: a retry after recovery");
        }
        for append in std::mem::take(&mut log.unacked) {
            let result = store
                .append(&append.stream, ExpectedVersion::Any, append.events.clone())
                .await
                .unwrap();
            log.acked.push((append, result));
        }
        check_acknowledged(&store, &log, &context);

        // A run with the power going at a flush drawn from the seed.
        let fault = if rng.gen_bool(0.5) {
            FlushFault::PowerLoss
        } else {
            FlushFault::PowerLossAfterDurable
        };
        engine.fault_flush_number(rng.gen_range(1..=40), fault);
        let shared = Arc::new(Mutex::new(std::mem::take(&mut log)));
        let tasks: Vec<_> = (0..WRITERS)
            .map(|_| tokio::spawn(writer(store.clone(), shared.clone(), rng.gen())))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        if engine.stats().dead {
            power_losses_mid_run += 1;
        }
        engine.power_loss();
        store.close().await.unwrap();
        drop(store);
        drop(engine);
        log = Arc::try_unwrap(shared)
            .ok()
            .expect("writers are done")
            .into_inner()
            .unwrap();
    }

    let engine = Arc::new(FaultyEngine::open(dir.path()));
    let store = EventStore::with_engine(engine, StoreOptions::default()).unwrap();
    check_acknowledged(&store, &log, &format!("seed {SEED:#x}, final"));
    assert!(
        power_losses_mid_run > ROUNDS / 4,
        "the power went during a run in only {power_losses_mid_run} rounds"
    );
    assert!(log.acked.len() > ROUNDS, "appends were acknowledged");
}
