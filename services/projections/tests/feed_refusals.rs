//! The projections' JetStream consumer against a forged message, on a real
//! nats-server: the relay publishes the stakeholders log, a stranger
//! publishes an envelope whose hash does not match its content, and the
//! projections apply every genuine event, none of the forged one, and count
//! it where `GetProjectionStatus` reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::Duration;

use common::{scenario, Logs};
use maillage_bus::{JetStreamFeed, JetStreamFeedConfig, Relay, RelayConfig};
use maillage_nats_test::NatsServer;
use maillage_projections::{local_sources, Projections};
use prost::Message as _;
use tokio_util::sync::CancellationToken;

/// A deadlock guard, not a timing assertion.
const GUARD: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_envelope_is_refused_counted_and_never_applied() {
    let nats = NatsServer::start().await.unwrap();
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    let events: Vec<_> = scenario()
        .into_iter()
        .filter(|event| event.context == "stakeholders")
        .take(4)
        .collect();
    logs.append(&events[..2]).await;
    let relay_db = sled::open(dir.path().join("relay")).unwrap();
    let relay = Relay::spawn(
        logs.stakeholders.clone(),
        &relay_db,
        RelayConfig::new("stakeholders", url.as_str()),
        CancellationToken::new(),
    )
    .unwrap();
    assert!(relay.wait_for_checkpoint(2, GUARD).await);

    let projections = Projections::open(
        &dir.path().join("projections"),
        local_sources(&logs.pairs()),
    )
    .unwrap();
    let mut config = JetStreamFeedConfig::new(url.as_str(), "projections");
    config.refusals = projections.live().feed_refusals();
    let consumer = projections
        .spawn_consumer(move |checkpoints| JetStreamFeed::new(config.clone(), checkpoints));
    tokio::time::timeout(GUARD, projections.live().wait_for("stakeholders", 2))
        .await
        .unwrap();

    // Position 3 as a stranger makes it: the genuine position 2's hash as its
    // link, a content of its own, and the hash of position 2 as its "hash".
    let genuine = logs.stakeholders.read_all(2, 1).unwrap().remove(0);
    let mut forged = maillage_envelope::to_envelope("stakeholders", &genuine);
    forged.position = 3;
    forged.prev_hash = genuine.hash.to_vec();
    let client = async_nats::connect(&url).await.unwrap();
    async_nats::jetstream::new(client)
        .publish(
            maillage_bus::event_subject("stakeholders", &genuine).unwrap(),
            forged.encode_to_vec().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    logs.append(&events[2..]).await;
    tokio::time::timeout(GUARD, projections.live().wait_for("stakeholders", 4))
        .await
        .unwrap();
    let refusals = projections.live().feed_refusals();
    assert_eq!(refusals.count(), 1);
    assert!(
        refusals
            .last()
            .unwrap()
            .contains("stakeholders position 3: its hash does not match its content"),
        "{:?}",
        refusals.last()
    );
    // The genuine position 4 chained to the genuine 3: the forged one was never applied.
    let checkpoints = projections.checkpoints();
    assert_eq!(
        checkpoints.hash("stakeholders"),
        Some(logs.stakeholders.head().hash)
    );
    consumer.abort();
    relay.shutdown().await.unwrap();
}
