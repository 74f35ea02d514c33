//! The projections' consumer under failure: an event it cannot decode stops
//! it before that event (never skipped, checkpoint kept), and a feed that
//! fails is made again and consumed after a back-off. Real stores, real
//! direct feeds.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{scenario, Ev, Logs};
use maillage_bus::{DirectFeed, DirectSource, FeedError};
use maillage_projections::{
    local_sources, ConsumerError, ConsumerState, ProjectionError, Projections,
};

/// A deadlock guard, not a timing assertion.
const GUARD: Duration = Duration::from_secs(30);

/// The first `n` stakeholders events of the scenario.
fn stakeholders_events(n: usize) -> Vec<Ev> {
    scenario()
        .into_iter()
        .filter(|event| event.context == "stakeholders")
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_event_stops_the_consumer_before_it_and_is_never_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    let good = stakeholders_events(3);
    logs.append(&good[..2]).await;
    // A type the projection reads, whose payload does not decode.
    let broken = Ev {
        payload: vec![0x0a, 0xff, 0x01],
        event_type: "maillage.v1.InteractionLogged".into(),
        stream: format!("interaction-{}", uuid::Uuid::now_v7()),
        ..good[0].clone()
    };
    logs.append(&[broken]).await;
    logs.append(&good[2..]).await;

    let projections = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    let consumer = projections.spawn_direct(&logs.pairs()).unwrap();
    let outcome = tokio::time::timeout(GUARD, consumer)
        .await
        .expect("the consumer stops")
        .unwrap();
    match outcome {
        Err(ConsumerError::Projection(ProjectionError::Undecodable {
            context, position, ..
        })) => assert_eq!((context.as_str(), position), ("stakeholders", 3)),
        other => panic!("expected a stop on the undecodable event, got {other:?}"),
    }
    assert_eq!(
        projections
            .live()
            .checkpoints()
            .get("stakeholders")
            .copied(),
        Some(2)
    );
    let status = projections.live().consumer_status();
    assert_eq!(status.state, ConsumerState::Stopped);
    assert_eq!(status.stopped_at, Some(("stakeholders".to_owned(), 3)));
    assert!(
        status.last_error.contains("maillage.v1.InteractionLogged"),
        "{status:?}"
    );

    // Restarted, the projection still stands before it: nothing was skipped.
    drop(projections);
    let reopened = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    assert_eq!(
        reopened.live().checkpoints().get("stakeholders").copied(),
        Some(2)
    );
    assert_eq!(
        reopened.live().consumer_status().state,
        ConsumerState::NotStarted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_feed_is_made_again_and_consumed_after_a_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    logs.append(&stakeholders_events(3)).await;
    let projections = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    let stores = logs.pairs();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    // The first two feeds cannot be made (a broker away), then it works.
    let _consumer = projections.spawn_consumer(move |checkpoints| {
        if counted.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err(FeedError::Config("broker unreachable (test)".into()));
        }
        let sources = stores
            .iter()
            .map(|(context, store)| DirectSource::new(*context, store.clone()))
            .collect();
        DirectFeed::new(sources, checkpoints)
    });
    tokio::time::timeout(GUARD, projections.live().wait_for("stakeholders", 3))
        .await
        .expect("the consumer came back and caught up");
    let status = projections.live().consumer_status();
    assert_eq!(status.state, ConsumerState::Running);
    assert_eq!(status.restarts, 2);
    assert!(
        status.last_error.contains("broker unreachable"),
        "{status:?}"
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}
