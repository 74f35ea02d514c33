//! The JetStream feed against messages that anyone able to publish on NATS
//! could put in the stream, on a real nats-server and real logs: a forged
//! envelope whose hash does not match its content, one with a correct hash
//! that does not chain to the event before it (also right after a consumer
//! restart, checked against the hash stored with its checkpoint), and a
//! burst of forged future positions before the genuine events. None is
//! applied, each is counted, and the genuine events are all applied in order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::*;
use maillage_bus::{
    ensure_stream, subjects, Checkpoints, Feed as _, JetStreamFeed, JetStreamFeedConfig,
};
use maillage_envelope::to_envelope;
use maillage_eventstore::StreamId;
use maillage_nats_test::NatsServer;
use maillage_proto::v1::EventEnvelope;
use prost::Message as _;

fn feed_config(url: &str, durable: &str) -> JetStreamFeedConfig {
    let mut config = JetStreamFeedConfig::new(url, durable);
    config.ack_wait = Duration::from_secs(2);
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(500);
    config
}

/// The envelope of `position` in `log`.
fn envelope(log: &Log, position: u64) -> anyhow::Result<EventEnvelope> {
    let record = log.store.read_all(position, 1)?.remove(0);
    Ok(to_envelope(&log.context, &record))
}

/// Publishes `envelope` on the subject a relay would use, as a stranger with
/// publish rights on the stream could.
async fn publish(js: &jetstream::Context, envelope: &EventEnvelope) -> anyhow::Result<()> {
    let category = StreamId::parse(envelope.stream_id.as_str())?
        .category()
        .to_owned();
    let subject = subjects::subject(&envelope.context, &category, &envelope.event_type)?;
    js.publish(subject, envelope.encode_to_vec().into())
        .await?
        .await?;
    Ok(())
}

/// A forger's own log of `context`: real, well-hashed records, chained to
/// nothing the genuine log holds.
async fn forger(context: &str, events: usize) -> anyhow::Result<Log> {
    let log = Log::open(context)?;
    log.append(events).await?;
    Ok(log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_whose_hash_does_not_match_is_refused_and_the_feed_goes_on(
) -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open("stakeholders")?;
    let relay = spawn_relay(&log, &url)?;
    log.append(3).await?;
    wait_checkpoint(&relay, 3).await?;
    let config = feed_config(&url, "trust-hash");
    let refusals = config.refusals.clone();
    let mut feed = JetStreamFeed::new(config, &Checkpoints::new())?;
    let mut fold = Fold::default();
    fold.consume_until(&mut feed, &heads(&[&log])).await?;

    // Position 4, linked to the genuine head, but its content changed after
    // hashing: without the hash check it would chain and be applied.
    let js = jetstream::new(async_nats::connect(&url).await?);
    let mut forged = envelope(&forger("stakeholders", 4).await?, 4)?;
    forged.prev_hash = log.store.head().hash.to_vec();
    publish(&js, &forged).await?;
    // And bytes that are no envelope at all, on a subject of the stream.
    js.publish(
        "maillage.events.stakeholders.stakeholder.PersonRegistered",
        "not an envelope".into(),
    )
    .await?
    .await?;

    log.append(2).await?;
    wait_checkpoint(&relay, 5).await?;
    fold.consume_until(&mut feed, &heads(&[&log])).await?;
    assert_eq!(
        fold.checkpoints,
        heads(&[&log]),
        "the genuine head, hash included"
    );
    assert_eq!(fold.applied.len(), 5);
    fold.assert_genuine(&log)?;
    assert_eq!(refusals.count(), 2, "{:?}", refusals.last());
    relay.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_that_does_not_chain_is_refused_even_right_after_a_restart(
) -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open("engagement")?;
    let relay = spawn_relay(&log, &url)?;
    log.append(3).await?;
    wait_checkpoint(&relay, 3).await?;
    let mut fold = Fold::default();
    {
        let mut feed = JetStreamFeed::new(feed_config(&url, "trust-chain"), &Checkpoints::new())?;
        fold.consume_until(&mut feed, &heads(&[&log])).await?;
        feed.close().await?;
    }

    // While the consumer is away, a forged position 4 with a correct hash
    // of its own, chained to the forger's log.
    let js = jetstream::new(async_nats::connect(&url).await?);
    let forger = forger("engagement", 4).await?;
    publish(&js, &envelope(&forger, 4)?).await?;

    // The consumer comes back with its checkpoint and the hash stored with
    // it; the forged event is first in line, the genuine one follows.
    let config = feed_config(&url, "trust-chain");
    let refusals = config.refusals.clone();
    let mut feed = JetStreamFeed::new(config, &fold.checkpoints)?;
    log.append(2).await?;
    wait_checkpoint(&relay, 5).await?;
    fold.consume_until(&mut feed, &heads(&[&log])).await?;
    assert_eq!(fold.checkpoints, heads(&[&log]));
    assert_eq!(
        fold.applied.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    fold.assert_genuine(&log)?;
    assert_eq!(refusals.count(), 1, "{:?}", refusals.last());
    assert!(
        refusals.last().unwrap().contains("engagement position 4"),
        "{:?}",
        refusals.last()
    );
    relay.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_forged_future_positions_does_not_stop_the_feed() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open("governance")?;
    let relay = spawn_relay(&log, &url)?;
    log.append(5).await?;
    wait_checkpoint(&relay, 5).await?;
    // Two consumers: the default window, and one of 10 (so that the burst
    // also overflows it and lands beyond it).
    let mut wide = Fold::default();
    let mut wide_feed = JetStreamFeed::new(feed_config(&url, "trust-wide"), &Checkpoints::new())?;
    wide.consume_until(&mut wide_feed, &heads(&[&log])).await?;
    let mut config = feed_config(&url, "trust-narrow");
    config.max_held = 10;
    let narrow_refusals = config.refusals.clone();
    let mut narrow = Fold::default();
    let mut narrow_feed = JetStreamFeed::new(config, &Checkpoints::new())?;
    narrow
        .consume_until(&mut narrow_feed, &heads(&[&log]))
        .await?;

    // 100 forged events at positions 6 to 105, well hashed and chained
    // among themselves, published before the genuine ones.
    let js = jetstream::new(async_nats::connect(&url).await?);
    ensure_stream(&js, 1).await?;
    let forger = forger("governance", 105).await?;
    for position in 6..=105 {
        publish(&js, &envelope(&forger, position)?).await?;
    }

    log.append(25).await?;
    wait_checkpoint(&relay, 30).await?;
    wide.consume_until(&mut wide_feed, &heads(&[&log])).await?;
    narrow
        .consume_until(&mut narrow_feed, &heads(&[&log]))
        .await?;
    for fold in [&wide, &narrow] {
        assert_eq!(fold.checkpoints, heads(&[&log]));
        assert_eq!(
            fold.applied.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
            (1..=30).collect::<Vec<_>>()
        );
        assert_eq!(fold.skipped, 0);
        fold.assert_genuine(&log)?;
    }
    // The narrow window has refused every forged event by now: 6 when it
    // came (not chained), 7 to 16 when their turn came, the rest at once
    // (too far ahead).
    assert_eq!(narrow_refusals.count(), 100);
    relay.shutdown().await?;
    Ok(())
}
