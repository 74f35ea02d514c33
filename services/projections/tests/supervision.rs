//! The projections' consumer under failure: an event it cannot decode stops
//! it before that event (never skipped, checkpoint kept), a feed that fails
//! is made again and consumed after a back-off, and the service's health is
//! NOT_SERVING while its consumer is down. Real stores, real direct feeds,
//! real gRPC.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{scenario, Ev, Logs};
use maillage_bus::{DirectFeed, DirectSource, FeedError};
use maillage_eventstore::SystemClock;
use maillage_projections::{
    local_sources, ConsumerError, ConsumerState, ProjectionError, Projections,
};
use maillage_service_kit::testing::{Spawned, Tokens};
use maillage_service_kit::{Server, TokenStore};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

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

/// Issue 15: the service's health is NOT_SERVING while its consumer is down
/// (its feed cannot be made: a broker away), SERVING again once it runs,
/// while the whole server (`""`) stays SERVING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_not_serving_while_the_consumer_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    logs.append(&stakeholders_events(3)).await;
    let projections = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    let stores = logs.pairs();
    let broker_up = Arc::new(AtomicBool::new(false));
    let up = broker_up.clone();
    let _consumer = projections.spawn_consumer(move |checkpoints| {
        if !up.load(Ordering::SeqCst) {
            return Err(FeedError::Config("broker unreachable (test)".into()));
        }
        let sources = stores
            .iter()
            .map(|(context, store)| DirectSource::new(*context, store.clone()))
            .collect();
        DirectFeed::new(sources, checkpoints)
    });

    let tokens = Tokens::create(dir.path().join("tokens")).unwrap();
    let server = Server::builder(TokenStore::open(tokens.path()).unwrap()).add_service_with_health(
        projections.service(Arc::new(SystemClock)).into_server(),
        projections.live().serving(),
    );
    let server = Spawned::spawn(move |listener, shutdown| {
        server.serve_with_shutdown(listener, Vec::new(), shutdown)
    })
    .await
    .unwrap();
    let mut health = HealthClient::new(server.channel().await.unwrap());

    // Down: its feed cannot be made, it restarts after back-offs.
    let mut consumer = projections.live().watch_consumer();
    consumer
        .wait_for(|status| status.state == ConsumerState::Restarting)
        .await
        .unwrap();
    wait_for_health(&mut health, ServingStatus::NotServing).await;
    assert_eq!(health_of(&mut health, "").await, ServingStatus::Serving);

    // The broker is back: the consumer runs and catches up, health follows.
    broker_up.store(true, Ordering::SeqCst);
    tokio::time::timeout(GUARD, projections.live().wait_for("stakeholders", 3))
        .await
        .expect("the consumer came back and caught up");
    assert_eq!(
        projections.live().consumer_status().state,
        ConsumerState::Running
    );
    wait_for_health(&mut health, ServingStatus::Serving).await;
}

/// The health of `service` ("" for the whole server).
async fn health_of(health: &mut HealthClient<Channel>, service: &str) -> ServingStatus {
    health
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

/// Checks the projections' health until it is `wanted` (a deadlock guard bounds the wait).
async fn wait_for_health(health: &mut HealthClient<Channel>, wanted: ServingStatus) {
    tokio::time::timeout(GUARD, async {
        while health_of(health, "maillage.v1.Projections").await != wanted {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("health never turned {wanted:?}"));
}
