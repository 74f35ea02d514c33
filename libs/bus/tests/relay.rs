//! The relay against a real nats-server and real sled logs: order, subjects,
//! headers, checkpoint, NATS outages, and restarts with de-duplication.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeSet;

use common::*;
use maillage_bus::{headers, read_checkpoint, CHECKPOINT_TREE};
use maillage_eventstore::SubscriptionFilter;
use maillage_nats_test::NatsServer;
use maillage_proto::v1::EventEnvelope;
use prost::Message as _;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_every_event_in_order_with_subjects_and_headers() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let log = Log::open("stakeholders")?;
    let last = log.append(50).await?;
    assert_eq!(last, 50);
    let relay = spawn_relay(&log, &nats.url())?;
    wait_checkpoint(&relay, last).await?;
    assert_eq!(relay.lag(), 0);

    let records = log.store.read_all(1, 1000)?;
    let messages = stream_messages(&nats.url()).await?;
    assert_eq!(messages.len(), records.len());
    for (record, message) in records.iter().zip(&messages) {
        let short = record.event_type.rsplit('.').next().unwrap();
        assert_eq!(
            message.subject.as_str(),
            format!(
                "maillage.events.stakeholders.{}.{short}",
                record.stream_id.category()
            )
        );
        let event_id = record.event_id.to_string();
        let position = record.position.to_string();
        let version = record.version.to_string();
        assert_eq!(header(message, headers::MSG_ID), Some(event_id.as_str()));
        assert_eq!(header(message, headers::CONTEXT), Some("stakeholders"));
        assert_eq!(header(message, headers::POSITION), Some(position.as_str()));
        assert_eq!(
            header(message, headers::STREAM),
            Some(record.stream_id.as_str())
        );
        assert_eq!(header(message, headers::VERSION), Some(version.as_str()));
        let traceparent = header(message, headers::TRACEPARENT).expect("a traceparent");
        let correlation = uuid::Uuid::parse_str(&record.metadata.correlation_id)?;
        assert!(traceparent.starts_with(&format!("00-{}-", correlation.simple())));
        let envelope = EventEnvelope::decode(message.payload.clone())?;
        assert_eq!(
            envelope,
            maillage_envelope::to_envelope("stakeholders", record)
        );
    }

    // Live events too, and the checkpoint is durable after shutdown.
    let last = log.append(7).await?;
    wait_checkpoint(&relay, last).await?;
    relay.shutdown().await?;
    assert_eq!(read_checkpoint(&log.db, "stakeholders")?, last);
    assert_eq!(stream_messages(&nats.url()).await?.len(), last as usize);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_nats_outage_and_ends_with_every_event_once() -> anyhow::Result<()> {
    let mut nats = NatsServer::start().await?;
    let log = Log::open("engagement")?;
    let relay = spawn_relay(&log, &nats.url())?;
    let before = log.append(30).await?;
    wait_checkpoint(&relay, before).await?;

    // NATS goes away while commands keep coming: every append succeeds.
    nats.stop().await?;
    let during = log.append(40).await?;
    assert_eq!(during, 70);
    let mut status = relay.status();
    tokio::time::timeout(PATIENCE, status.wait_for(|s| s.interruptions > 0)).await??;
    assert!(
        relay.checkpoint() < during,
        "nothing can be acked while NATS is down"
    );
    assert!(relay.lag() > 0);

    // Back on the same port and store: the relay catches up.
    nats.restart().await?;
    let after = log.append(10).await?;
    wait_checkpoint(&relay, after).await?;
    relay.shutdown().await?;

    let messages = stream_messages(&nats.url()).await?;
    let records = log.store.read_all(1, 1000)?;
    assert_eq!(messages.len(), records.len(), "each event exactly once");
    let ids: BTreeSet<String> = messages
        .iter()
        .map(|m| header(m, headers::MSG_ID).unwrap().to_owned())
        .collect();
    let expected_ids: BTreeSet<String> = records.iter().map(|r| r.event_id.to_string()).collect();
    assert_eq!(ids, expected_ids);
    let positions: BTreeSet<u64> = messages
        .iter()
        .map(|m| headers::position(&m.headers).unwrap())
        .collect();
    assert_eq!(positions, (1..=after).collect());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relay_resumes_from_its_checkpoint_and_duplicates_are_dropped(
) -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let log = Log::open("governance")?;
    let first = log.append(20).await?;
    let relay = spawn_relay(&log, &nats.url())?;
    wait_checkpoint(&relay, first).await?;
    relay.shutdown().await?;
    assert_eq!(read_checkpoint(&log.db, "governance")?, first);

    // A crash lost some checkpoint progress: back to 10.
    log.db
        .open_tree(CHECKPOINT_TREE)?
        .insert("governance", &10u64.to_be_bytes())?;
    let second = log.append(15).await?;
    let relay = spawn_relay(&log, &nats.url())?;
    assert_eq!(relay.checkpoint(), 10);
    wait_checkpoint(&relay, second).await?;
    let status = relay.status().borrow().clone();
    assert_eq!(status.acked, second - 10);
    assert_eq!(
        status.duplicates,
        first - 10,
        "11..=20 were already in the stream"
    );
    relay.shutdown().await?;

    let messages = stream_messages(&nats.url()).await?;
    let positions: Vec<u64> = messages
        .iter()
        .map(|m| headers::position(&m.headers).unwrap())
        .collect();
    assert_eq!(
        positions,
        (1..=second).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_waits_for_nats_that_is_not_there_yet_and_stops_cleanly() -> anyhow::Result<()> {
    let mut nats = NatsServer::start().await?;
    nats.stop().await?;
    let log = Log::open("stakeholders")?;
    let relay = spawn_relay(&log, &nats.url())?;
    log.append(5).await?;
    let mut status = relay.status();
    tokio::time::timeout(PATIENCE, status.wait_for(|s| s.interruptions >= 2)).await??;
    assert_eq!(relay.checkpoint(), 0);
    assert_eq!(relay.lag(), 5);
    nats.restart().await?;
    wait_checkpoint(&relay, 5).await?;
    relay.shutdown().await?;
    assert_eq!(read_checkpoint(&log.db, "stakeholders")?, 5);
    // The log itself was never disturbed.
    let mut subscription = log.store.subscribe(1, SubscriptionFilter::All);
    assert_eq!(subscription.next().await.unwrap()?.position, 1);
    Ok(())
}
