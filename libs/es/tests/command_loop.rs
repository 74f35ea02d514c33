//! The command loop against a real store: decide and append, retries answered from the log,
//! expected versions, tail catch-up, concurrent commands on one aggregate and
//! readers looking at it meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::num::NonZeroUsize;
use std::sync::Arc;

use maillage_es::{Aggregates, Decider, DecodeError, EventPayload, HandleError};
use maillage_eventstore::{EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions};

/// A counter with a ceiling: the smallest aggregate that has a rule.
struct Counter;

#[derive(Debug, Clone, PartialEq)]
enum CounterEvent {
    Added(u32),
}

#[derive(Debug, PartialEq)]
enum CounterError {
    OverCeiling,
}

impl EventPayload for CounterEvent {
    fn event_type(&self) -> &'static str {
        "test.Added"
    }
    fn encode(&self) -> Vec<u8> {
        let CounterEvent::Added(n) = self;
        n.to_be_bytes().to_vec()
    }
    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        if event_type != "test.Added" {
            return Err(DecodeError::UnknownType(event_type.into()));
        }
        let bytes: [u8; 4] = payload.try_into().map_err(|_| DecodeError::Malformed {
            event_type: event_type.into(),
            reason: "not 4 bytes".into(),
        })?;
        Ok(CounterEvent::Added(u32::from_be_bytes(bytes)))
    }
}

impl Decider for Counter {
    type State = u32;
    type Command = u32;
    type Event = CounterEvent;
    type Error = CounterError;

    fn decide(add: &u32, total: &u32) -> Result<Vec<CounterEvent>, CounterError> {
        match add {
            0 => Ok(vec![]),
            n if total + n > 100 => Err(CounterError::OverCeiling),
            n => Ok(vec![CounterEvent::Added(*n)]),
        }
    }

    fn evolve(total: &mut u32, CounterEvent::Added(n): &CounterEvent) {
        *total += n;
    }
}

fn metadata(request_id: &str) -> EventMetadata {
    EventMetadata {
        actor: "tester".into(),
        request_id: request_id.into(),
        correlation_id: request_id.into(),
        causation_id: request_id.into(),
    }
}

fn counters() -> (Aggregates<Counter>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    (Aggregates::new(store, NonZeroUsize::new(16).unwrap()), dir)
}

#[tokio::test]
async fn a_command_appends_its_events_and_the_state_follows() {
    let (counters, _dir) = counters();
    let done = counters
        .handle("counter-1", &5, None, &metadata("r1"))
        .await
        .unwrap();
    assert_eq!((done.version, done.position, done.replayed), (1, 1, false));
    let done = counters
        .handle("counter-1", &7, Some(1), &metadata("r2"))
        .await
        .unwrap();
    assert_eq!(done.version, 2);
    assert_eq!(counters.load("counter-1").unwrap(), (2, 12));
    let stored = counters.store().read_all(1, 10).unwrap();
    assert_eq!(stored[1].metadata, metadata("r2"));
}

#[tokio::test]
async fn a_retried_request_gets_its_original_outcome_and_writes_nothing() {
    let (counters, _dir) = counters();
    let first = counters
        .handle("counter-1", &60, None, &metadata("r1"))
        .await
        .unwrap();
    counters
        .handle("counter-1", &30, None, &metadata("r2"))
        .await
        .unwrap();
    // Deciding r1 again would now exceed the ceiling; the log answers instead.
    let again = counters
        .handle("counter-1", &60, None, &metadata("r1"))
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.position, again.replayed),
        (first.version, first.position, true)
    );
    assert_eq!(again.events, first.events);
    assert_eq!(counters.store().head().position, 2);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_with_the_actual_version() {
    let (counters, _dir) = counters();
    counters
        .handle("counter-1", &1, None, &metadata("r1"))
        .await
        .unwrap();
    counters
        .handle("counter-1", &1, None, &metadata("r2"))
        .await
        .unwrap();
    let error = counters
        .handle("counter-1", &1, Some(1), &metadata("r3"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        HandleError::Conflict {
            expected: 1,
            actual: 2
        }
    );
    assert_eq!(counters.store().head().position, 2);
}

#[tokio::test]
async fn domain_refusals_and_no_op_commands_write_nothing() {
    let (counters, _dir) = counters();
    let error = counters
        .handle("counter-1", &101, None, &metadata("r1"))
        .await
        .unwrap_err();
    assert_eq!(error, HandleError::Domain(CounterError::OverCeiling));
    let nothing = counters
        .handle("counter-1", &0, None, &metadata("r2"))
        .await
        .unwrap();
    assert_eq!(
        (nothing.version, nothing.position, nothing.events.len()),
        (0, 0, 0)
    );
    assert_eq!(counters.store().head().position, 0);
}

#[tokio::test]
async fn events_appended_by_another_writer_are_folded_before_deciding() {
    let (counters, _dir) = counters();
    counters
        .handle("counter-1", &10, None, &metadata("r1"))
        .await
        .unwrap();
    // Another writer appends behind the cache's back.
    let event = CounterEvent::Added(85);
    counters
        .store()
        .append(
            "counter-1",
            ExpectedVersion::Exact(1),
            vec![EventData {
                event_id: uuid::Uuid::now_v7(),
                event_type: event.event_type().into(),
                payload: event.encode(),
                metadata: metadata("other"),
            }],
        )
        .await
        .unwrap();
    let error = counters
        .handle("counter-1", &10, None, &metadata("r2"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        HandleError::Domain(CounterError::OverCeiling),
        "95 + 10 > 100"
    );
    assert_eq!(counters.load("counter-1").unwrap(), (2, 95));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_on_one_aggregate_all_apply_once() {
    let (counters, _dir) = counters();
    let counters = Arc::new(counters);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let counters = counters.clone();
            tokio::spawn(async move {
                counters
                    .handle("counter-1", &1, None, &metadata(&format!("r{i}")))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(task.await.unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
    assert_eq!(counters.load("counter-1").unwrap(), (20, 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_during_commands_see_each_version_with_its_own_state() {
    let (counters, _dir) = counters();
    let counters = Arc::new(counters);
    // Each command adds 1, so a consistent look has total == version.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let counters = counters.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let request = format!("w{writer}-{i}");
                    counters
                        .handle("counter-1", &1, None, &metadata(&request))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let counters = counters.clone();
            tokio::spawn(async move {
                let mut last_seen = 0;
                while last_seen < 80 {
                    let (version, total) = counters
                        .inspect("counter-1", |version, total| (version, *total))
                        .unwrap();
                    assert_eq!(u64::from(total), version, "a look mixed two versions");
                    assert!(version >= last_seen, "a reader went back in time");
                    last_seen = version;
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in writers.into_iter().chain(readers) {
        task.await.unwrap();
    }
    assert_eq!(counters.load("counter-1").unwrap(), (80, 80));
    assert_eq!(counters.store().stream_version("counter-1").unwrap(), 80);
}

#[tokio::test]
async fn a_cold_cache_folds_the_whole_stream_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
        let counters = Aggregates::<Counter>::new(store.clone(), NonZeroUsize::new(4).unwrap());
        for i in 0..3 {
            counters
                .handle("counter-1", &2, None, &metadata(&format!("r{i}")))
                .await
                .unwrap();
        }
        store.close().await.unwrap();
    }
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    let counters = Aggregates::<Counter>::new(store, NonZeroUsize::new(4).unwrap());
    assert_eq!(counters.load("counter-1").unwrap(), (3, 6));
    let replay = counters
        .handle("counter-1", &2, None, &metadata("r1"))
        .await
        .unwrap();
    assert!(
        replay.replayed,
        "request ids are remembered across restarts"
    );
}

/// Metadata of request `request_id` by `actor`, for the command `add` (its
/// fingerprint in the causation id, as the services record it).
fn command_metadata(request_id: &str, actor: &str, add: u32) -> EventMetadata {
    EventMetadata {
        actor: actor.into(),
        request_id: request_id.into(),
        correlation_id: request_id.into(),
        causation_id: format!("cmd-add-{add}"),
    }
}

#[tokio::test]
async fn a_request_id_reused_by_another_principal_is_refused() {
    let (counters, _dir) = counters();
    counters
        .handle("counter-1", &5, None, &command_metadata("r1", "alice", 5))
        .await
        .unwrap();
    let error = counters
        .handle("counter-1", &5, None, &command_metadata("r1", "mallory", 5))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        HandleError::RequestIdReused {
            request_id: "r1".into()
        }
    );
    assert_eq!(counters.load("counter-1").unwrap(), (1, 5));
    assert_eq!(counters.store().head().position, 1);
}

#[tokio::test]
async fn a_request_id_reused_for_another_command_is_refused_not_replayed() {
    let (counters, _dir) = counters();
    counters
        .handle("counter-1", &5, None, &command_metadata("r1", "alice", 5))
        .await
        .unwrap();
    // Like a WithdrawConsent sent with the RecordConsent's request id: it must
    // not be answered with the first command's outcome while its change is dropped.
    let error = counters
        .handle("counter-1", &7, None, &command_metadata("r1", "alice", 7))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        HandleError::RequestIdReused {
            request_id: "r1".into()
        }
    );
    assert_eq!(counters.load("counter-1").unwrap(), (1, 5));
}

#[tokio::test]
async fn the_same_request_by_the_same_principal_is_still_deduplicated() {
    let (counters, _dir) = counters();
    let first = counters
        .handle("counter-1", &60, None, &command_metadata("r1", "alice", 60))
        .await
        .unwrap();
    counters
        .handle("counter-1", &30, None, &command_metadata("r2", "alice", 30))
        .await
        .unwrap();
    let again = counters
        .handle("counter-1", &60, None, &command_metadata("r1", "alice", 60))
        .await
        .unwrap();
    assert_eq!(
        (again.version, again.position, again.events, again.replayed),
        (first.version, first.position, first.events, true)
    );
    assert_eq!(counters.store().head().position, 2);
}
