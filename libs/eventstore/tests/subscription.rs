//! Catch-up subscriptions: every position once, in order, while writers append, then live; filters.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::Duration;

use common::{event, events, temp_store};
use futures::FutureExt;
use maillage_eventstore::{ExpectedVersion, SubscriptionFilter, SUBSCRIPTION_BATCH};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_from_zero_sees_all_of_50_000_concurrent_events_once_in_order_then_stays_live()
{
    const WRITERS: usize = 8;
    const PER_WRITER: usize = 6_250; // 8 × 6,250 = 50,000
    const PER_APPEND: usize = 25;
    let (store, _dir) = temp_store();
    let mut subscription = store.subscribe(0, SubscriptionFilter::All);

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for _ in 0..PER_WRITER / PER_APPEND {
                store
                    .append(
                        &format!("writer-{writer}"),
                        ExpectedVersion::Any,
                        events("t.E", PER_APPEND),
                    )
                    .await
                    .unwrap();
            }
        }));
    }

    let total = (WRITERS * PER_WRITER) as u64;
    let mut expected_position = 1;
    while expected_position <= total {
        let record = tokio::time::timeout(Duration::from_secs(60), subscription.next())
            .await
            .expect("the subscriber kept up")
            .expect("the store is open")
            .unwrap();
        assert_eq!(
            record.position, expected_position,
            "no gap, no duplicate, in order"
        );
        expected_position += 1;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(store.head().position, total);

    // Live: nothing more until a new append, then exactly that one.
    let quiet = tokio::time::timeout(Duration::from_millis(200), subscription.next()).await;
    assert!(quiet.is_err(), "no event beyond the head");
    store
        .append("late-1", ExpectedVersion::Any, vec![event("t.Late", b"!")])
        .await
        .unwrap();
    let live = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.position, live.event_type.as_str()),
        (total + 1, "t.Late")
    );
}

#[tokio::test]
async fn filters_by_category_and_by_event_type() {
    let (store, _dir) = temp_store();
    store
        .append("person-1", ExpectedVersion::Any, events("t.Registered", 2))
        .await
        .unwrap();
    store
        .append("action-1", ExpectedVersion::Any, events("t.Planned", 1))
        .await
        .unwrap();
    store
        .append("person-2", ExpectedVersion::Any, events("t.Archived", 1))
        .await
        .unwrap();

    let mut people = store.subscribe(1, SubscriptionFilter::Categories(vec!["person".into()]));
    let mut archived =
        store.subscribe(1, SubscriptionFilter::EventTypes(vec!["t.Archived".into()]));
    let mut from_three = store.subscribe(3, SubscriptionFilter::All);
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(people.next().await.unwrap().unwrap().position);
    }
    assert_eq!(seen, [1, 2, 4]);
    assert_eq!(archived.next().await.unwrap().unwrap().position, 4);
    assert_eq!(from_three.next().await.unwrap().unwrap().position, 3);
    assert_eq!(from_three.next().await.unwrap().unwrap().position, 4);
}

#[tokio::test]
async fn a_subscription_that_is_not_read_does_not_hold_back_writers_and_ends_on_close() {
    let (store, _dir) = temp_store();
    let mut idle = store.subscribe(0, SubscriptionFilter::All);
    for _ in 0..200 {
        store
            .append("busy-1", ExpectedVersion::Any, events("t.E", 10))
            .await
            .unwrap();
    }
    assert_eq!(store.head().position, 2_000);
    assert_eq!(idle.next().await.unwrap().unwrap().position, 1);
    store.close().await.unwrap();
    assert!(
        idle.next().await.is_none(),
        "a closed store ends its subscriptions"
    );
}

/// Issue 15, defect 7: a filter that matches nothing does not scan the whole
/// backlog in one poll (which held an async worker for all of it): one poll
/// reads one batch, then gives way; polled again, it goes on and finds what
/// matches at the end.
#[tokio::test]
async fn a_filter_that_matches_nothing_reads_one_batch_per_poll() {
    let (store, _dir) = temp_store();
    let batches = 10;
    for _ in 0..batches {
        store
            .append(
                "noise-1",
                ExpectedVersion::Any,
                events("t.Noise", SUBSCRIPTION_BATCH),
            )
            .await
            .unwrap();
    }
    store
        .append("wanted-1", ExpectedVersion::Any, events("t.Wanted", 1))
        .await
        .unwrap();
    let mut wanted = store.subscribe(0, SubscriptionFilter::Categories(vec!["wanted".into()]));

    assert!(wanted.next().now_or_never().is_none(), "nothing yet");
    assert_eq!(
        wanted.next_position(),
        1 + SUBSCRIPTION_BATCH as u64,
        "one poll read one batch, not the whole backlog"
    );
    let found = wanted.next().await.unwrap().unwrap();
    assert_eq!(found.position, (batches * SUBSCRIPTION_BATCH + 1) as u64);
}
