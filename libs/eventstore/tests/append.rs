//! Given/when/then tests of appends: every expected-version case, idempotency, reads and every error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::{event, events, temp_store, temp_store_with};
use maillage_eventstore::{
    Direction, EventStore, ExpectedVersion, StoreError, StoreOptions, Verification,
};

const STREAM: &str = "stakeholder-0190f3c2-7b1e-7cc0-9a8e-2f1d6b1c9a10";

async fn given_two_events(store: &EventStore) {
    store
        .append(STREAM, ExpectedVersion::NoStream, events("t.Registered", 2))
        .await
        .expect("given");
}

#[tokio::test]
async fn no_stream_on_a_new_stream_appends_from_version_1_and_position_1() {
    let (store, _dir) = temp_store();
    let result = store
        .append(STREAM, ExpectedVersion::NoStream, events("t.Registered", 3))
        .await
        .unwrap();
    assert_eq!(
        (
            result.first_position,
            result.last_position,
            result.stream_version
        ),
        (1, 3, 3)
    );
    let read = store
        .read_stream(STREAM, 1, Direction::Forward, 10)
        .unwrap();
    assert_eq!(
        read.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        read.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(store.stream_version(STREAM).unwrap(), 3);
}

#[tokio::test]
async fn no_stream_on_an_existing_stream_is_refused_with_the_actual_version() {
    let (store, _dir) = temp_store();
    given_two_events(&store).await;
    let error = store
        .append(STREAM, ExpectedVersion::NoStream, events("t.X", 1))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::WrongExpectedVersion {
            stream_id: STREAM.into(),
            expected: ExpectedVersion::NoStream,
            actual: 2
        }
    );
    assert_eq!(store.head().position, 2, "a refused append changes nothing");
}

#[tokio::test]
async fn stream_exists_needs_an_event_in_the_stream() {
    let (store, _dir) = temp_store();
    let error = store
        .append(STREAM, ExpectedVersion::StreamExists, events("t.X", 1))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::WrongExpectedVersion { actual: 0, .. }
    ));
    given_two_events(&store).await;
    let result = store
        .append(STREAM, ExpectedVersion::StreamExists, events("t.X", 1))
        .await
        .unwrap();
    assert_eq!(result.stream_version, 3);
}

#[tokio::test]
async fn exact_version_appends_only_on_that_version() {
    let (store, _dir) = temp_store();
    given_two_events(&store).await;
    for stale in [0, 1, 3] {
        let error = store
            .append(STREAM, ExpectedVersion::Exact(stale), events("t.X", 1))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            StoreError::WrongExpectedVersion {
                stream_id: STREAM.into(),
                expected: ExpectedVersion::Exact(stale),
                actual: 2
            }
        );
    }
    let result = store
        .append(STREAM, ExpectedVersion::Exact(2), events("t.X", 1))
        .await
        .unwrap();
    assert_eq!((result.stream_version, result.last_position), (3, 3));
}

#[tokio::test]
async fn exact_zero_means_no_stream() {
    let (store, _dir) = temp_store();
    let result = store
        .append(STREAM, ExpectedVersion::Exact(0), events("t.X", 1))
        .await
        .unwrap();
    assert_eq!(result.stream_version, 1);
}

#[tokio::test]
async fn any_appends_whatever_the_version() {
    let (store, _dir) = temp_store();
    store
        .append(STREAM, ExpectedVersion::Any, events("t.X", 1))
        .await
        .unwrap();
    let result = store
        .append(STREAM, ExpectedVersion::Any, events("t.X", 2))
        .await
        .unwrap();
    assert_eq!((result.first_position, result.stream_version), (2, 3));
}

#[tokio::test]
async fn streams_have_their_own_versions_and_share_positions() {
    let (store, _dir) = temp_store();
    store
        .append("a-1", ExpectedVersion::NoStream, events("t.X", 2))
        .await
        .unwrap();
    let b = store
        .append("a-10", ExpectedVersion::NoStream, events("t.X", 1))
        .await
        .unwrap();
    assert_eq!((b.first_position, b.stream_version), (3, 1));
    assert_eq!(
        store.stream_version("a-1").unwrap(),
        2,
        "a-1 does not see a-10's events"
    );
    assert_eq!(store.stream_version("a-10").unwrap(), 1);
    assert_eq!(store.stream_version("a-2").unwrap(), 0);
}

#[tokio::test]
async fn the_same_event_ids_again_return_the_original_result_and_write_nothing() {
    let (store, _dir) = temp_store();
    let batch = events("t.X", 3);
    let first = store
        .append(STREAM, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    store
        .append("other-1", ExpectedVersion::Any, events("t.Y", 1))
        .await
        .unwrap();
    // The retry's expected version is stale now, yet it is recognised as the same append.
    let again = store
        .append(STREAM, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(store.head().position, 4);
    assert_eq!(store.stream_version(STREAM).unwrap(), 3);
}

#[tokio::test]
async fn an_event_id_reused_for_other_content_is_refused() {
    let (store, _dir) = temp_store();
    let original = event("t.X", b"one");
    store
        .append(STREAM, ExpectedVersion::Any, vec![original.clone()])
        .await
        .unwrap();
    let mut other = original.clone();
    other.payload = b"two".to_vec();
    let error = store
        .append(STREAM, ExpectedVersion::Any, vec![other])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::EventIdConflict {
            event_id: original.event_id
        }
    );
    let mut elsewhere = original.clone();
    elsewhere.metadata.actor = "someone-else".into();
    assert!(store
        .append("other-1", ExpectedVersion::Any, vec![original.clone()])
        .await
        .is_err());
    assert!(store
        .append(STREAM, ExpectedVersion::Any, vec![elsewhere])
        .await
        .is_err());
    // A new event sharing the append with an old one is not a retry either.
    let error = store
        .append(
            STREAM,
            ExpectedVersion::Any,
            vec![event("t.X", b"new"), original.clone()],
        )
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::EventIdConflict {
            event_id: original.event_id
        }
    );
    assert_eq!(store.head().position, 1);
}

#[tokio::test]
async fn idempotency_holds_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let batch = events("t.X", 2);
    let first = {
        let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
        let result = store
            .append(STREAM, ExpectedVersion::NoStream, batch.clone())
            .await
            .unwrap();
        store.close().await.unwrap();
        result
    };
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(
        store
            .append(STREAM, ExpectedVersion::NoStream, batch)
            .await
            .unwrap(),
        first
    );
    assert_eq!(store.head().position, 2);
}

#[tokio::test]
async fn malformed_stream_ids_are_refused() {
    let (store, _dir) = temp_store();
    for bad in ["", "nocategory", "-x", "cat-", "cat-a b", "cat-a\0b"] {
        let error = store
            .append(bad, ExpectedVersion::Any, events("t.X", 1))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidStreamId { .. }),
            "{bad:?}: {error:?}"
        );
        assert!(matches!(
            store.read_stream(bad, 1, Direction::Forward, 1),
            Err(StoreError::InvalidStreamId { .. })
        ));
    }
    assert_eq!(store.head().position, 0);
}

#[tokio::test]
async fn an_empty_append_is_refused() {
    let (store, _dir) = temp_store();
    let error = store
        .append(STREAM, ExpectedVersion::Any, vec![])
        .await
        .unwrap_err();
    assert_eq!(error, StoreError::EmptyAppend);
}

#[tokio::test]
async fn events_over_the_size_limit_are_refused_and_the_limit_is_configurable() {
    let (store, _dir) = temp_store();
    let big = event("t.X", &vec![0; 1024 * 1024 + 1]);
    let error = store
        .append(STREAM, ExpectedVersion::Any, vec![event("t.X", b"ok"), big])
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::EventTooLarge {
            index: 1,
            limit: 1048576,
            ..
        }
    ));
    assert_eq!(store.head().position, 0, "nothing of the append landed");

    let (small, _dir2) = temp_store_with(StoreOptions {
        max_event_bytes: 100,
        ..StoreOptions::default()
    });
    let error = small
        .append(STREAM, ExpectedVersion::Any, vec![event("t.X", &[0; 100])])
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StoreError::EventTooLarge {
            index: 0,
            limit: 100,
            ..
        }
    ));
}

#[tokio::test]
async fn malformed_events_are_refused() {
    let (store, _dir) = temp_store();
    let untyped = event("", b"x");
    assert!(matches!(
        store
            .append(STREAM, ExpectedVersion::Any, vec![untyped])
            .await,
        Err(StoreError::InvalidEvent { index: 0, .. })
    ));
    let twice = event("t.X", b"x");
    assert_eq!(
        store
            .append(
                STREAM,
                ExpectedVersion::Any,
                vec![twice.clone(), twice.clone()]
            )
            .await
            .unwrap_err(),
        StoreError::DuplicateEventInAppend {
            event_id: twice.event_id
        }
    );
}

#[tokio::test]
async fn a_closed_store_refuses_everything() {
    let (store, _dir) = temp_store();
    given_two_events(&store).await;
    let other_handle = store.clone();
    store.close().await.unwrap();
    assert_eq!(
        other_handle
            .append(STREAM, ExpectedVersion::Any, events("t.X", 1))
            .await
            .unwrap_err(),
        StoreError::Closed
    );
    assert_eq!(
        other_handle.read_all(1, 10).unwrap_err(),
        StoreError::Closed
    );
    assert_eq!(other_handle.verify().unwrap_err(), StoreError::Closed);
}

#[tokio::test]
async fn reads_go_both_ways_with_limits_and_the_log_reads_from_a_position() {
    let (store, _dir) = temp_store();
    store
        .append(STREAM, ExpectedVersion::NoStream, events("t.X", 5))
        .await
        .unwrap();
    store
        .append("other-1", ExpectedVersion::NoStream, events("t.Y", 2))
        .await
        .unwrap();
    let versions = |read: Vec<maillage_eventstore::RecordedEvent>| {
        read.iter().map(|e| e.version).collect::<Vec<_>>()
    };
    assert_eq!(
        versions(store.read_stream(STREAM, 2, Direction::Forward, 2).unwrap()),
        [2, 3]
    );
    assert_eq!(
        versions(
            store
                .read_stream(STREAM, 4, Direction::Forward, 10)
                .unwrap()
        ),
        [4, 5]
    );
    assert_eq!(
        versions(
            store
                .read_stream(STREAM, u64::MAX, Direction::Backward, 2)
                .unwrap()
        ),
        [5, 4]
    );
    assert_eq!(
        versions(
            store
                .read_stream(STREAM, 2, Direction::Backward, 10)
                .unwrap()
        ),
        [2, 1]
    );
    assert!(store
        .read_stream("none-1", 1, Direction::Forward, 10)
        .unwrap()
        .is_empty());
    let all = store.read_all(4, 100).unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        [4, 5, 6, 7]
    );
    assert_eq!(all[3].stream_id.as_str(), "other-1");
    assert_eq!(store.read_all(0, 2).unwrap().len(), 2);
    assert!(store.read_all(8, 10).unwrap().is_empty());
}

#[tokio::test]
async fn records_carry_metadata_a_timestamp_from_the_clock_and_a_hash_chain() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};
    let at = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let clock = Arc::new(maillage_eventstore::FixedClock::new(at));
    let (store, _dir) = temp_store_with(StoreOptions {
        clock,
        ..StoreOptions::default()
    });
    let sent = events("t.X", 2);
    store
        .append(STREAM, ExpectedVersion::Any, sent.clone())
        .await
        .unwrap();
    let read = store.read_all(1, 10).unwrap();
    assert_eq!(read[0].metadata, sent[0].metadata);
    assert_eq!(read[0].event_id, sent[0].event_id);
    assert_eq!(read[1].payload, sent[1].payload);
    assert_eq!(read[0].recorded_at, at);
    assert_eq!(read[0].prev_hash, maillage_eventstore::GENESIS_HASH);
    assert_eq!(read[1].prev_hash, read[0].hash);
    assert_eq!(
        store.verify().unwrap(),
        Verification::Intact { head: store.head() }
    );
    assert_eq!(store.head().hash, read[1].hash);
}

#[tokio::test]
async fn everything_is_there_after_a_reopen_and_appends_continue_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
        store
            .append(STREAM, ExpectedVersion::NoStream, events("t.X", 3))
            .await
            .unwrap();
        store.close().await.unwrap();
    }
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.head().position, 3);
    assert_eq!(store.stream_version(STREAM).unwrap(), 3);
    let result = store
        .append(STREAM, ExpectedVersion::Exact(3), events("t.X", 1))
        .await
        .unwrap();
    assert_eq!(result.last_position, 4);
    assert!(matches!(store.verify().unwrap(), Verification::Intact { head } if head.position == 4));
}

#[tokio::test]
async fn submitted_appends_are_written_in_order_and_can_chain_exact_versions() {
    let (store, _dir) = temp_store();
    let first = store
        .submit(STREAM, ExpectedVersion::Exact(0), events("t.X", 1))
        .await
        .unwrap();
    let second = store
        .submit(STREAM, ExpectedVersion::Exact(1), events("t.X", 2))
        .await
        .unwrap();
    assert_eq!(first.outcome().await.unwrap().stream_version, 1);
    assert_eq!(second.outcome().await.unwrap().stream_version, 3);
}

#[tokio::test]
async fn events_are_found_by_id_once_durable() {
    let (store, _dir) = temp_store();
    let sent = events("t.X", 2);
    store
        .append(STREAM, ExpectedVersion::Any, sent.clone())
        .await
        .unwrap();
    let found = store.event_by_id(&sent[1].event_id).unwrap().unwrap();
    assert_eq!((found.position, found.version), (2, 2));
    assert!(store.event_by_id(&uuid::Uuid::now_v7()).unwrap().is_none());
}
