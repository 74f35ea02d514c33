//! Both feeds against real logs and a real nats-server: per-context order,
//! resumption after consumer and NATS restarts, re-sequencing of out-of-order
//! messages, and identical read models from both implementations.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::*;
use maillage_bus::{
    ensure_stream, event_subject, headers, Checkpoints, DirectFeed, DirectSource, Feed, FeedError,
    JetStreamFeed, JetStreamFeedConfig,
};
use maillage_envelope::to_envelope;
use maillage_nats_test::NatsServer;
use prost::Message as _;

fn feed_config(url: &str, durable: &str) -> JetStreamFeedConfig {
    let mut config = JetStreamFeedConfig::new(url, durable);
    // Unacked deliveries to a consumer that went away come back soon.
    config.ack_wait = Duration::from_secs(2);
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(500);
    config
}

/// Positions applied for `context`, in application order.
fn applied(fold: &Fold, context: &str) -> Vec<u64> {
    fold.applied
        .iter()
        .filter(|(c, _)| c == context)
        .map(|(_, p)| *p)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_feed_is_ordered_per_context_and_resumes_after_restarts() -> anyhow::Result<()> {
    let mut nats = NatsServer::start().await?;
    let url = nats.url();
    let stakeholders = Log::open("stakeholders")?;
    let engagement = Log::open("engagement")?;
    let relays = [
        spawn_relay(&stakeholders, &url)?,
        spawn_relay(&engagement, &url)?,
    ];
    stakeholders.append(40).await?;
    engagement.append(40).await?;
    wait_checkpoint(&relays[0], 40).await?;
    wait_checkpoint(&relays[1], 40).await?;

    // A first run of the consumer, stopped half-way.
    let mut fold = Fold::default();
    {
        let mut feed = JetStreamFeed::new(feed_config(&url, "timeline"), &Checkpoints::new())?;
        let half: Checkpoints = [
            ("stakeholders".to_owned(), 20),
            ("engagement".to_owned(), 20),
        ]
        .into_iter()
        .collect();
        fold.consume_until(&mut feed, &half).await?;
        feed.close().await?;
    }
    // Its acks reached JetStream: the durable consumer's ack floor is where it stopped
    // (no failure so far, so the stream holds the events in relay order).
    let client = async_nats::connect(&url).await?;
    let js = jetstream::new(client);
    let stream = js.get_stream("MAILLAGE_EVENTS").await?;
    let acked = fold.applied.len() as u64;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let info = stream.consumer_info("timeline").await?;
        if info.ack_floor.stream_sequence == acked {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "ack floor stuck (wanted {acked}): {info:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(js);
    drop(stream);

    // The consumer restarts from its stored checkpoints and continues.
    let mut feed = JetStreamFeed::new(feed_config(&url, "timeline"), &fold.checkpoints)?;
    fold.consume_until(&mut feed, &heads(&[&stakeholders, &engagement]))
        .await?;

    // NATS restarts while events keep coming; the same feed goes on.
    nats.stop().await?;
    stakeholders.append(10).await?;
    engagement.append(15).await?;
    nats.restart().await?;
    fold.consume_until(&mut feed, &heads(&[&stakeholders, &engagement]))
        .await?;

    assert_eq!(applied(&fold, "stakeholders"), (1..=50).collect::<Vec<_>>());
    assert_eq!(applied(&fold, "engagement"), (1..=55).collect::<Vec<_>>());
    assert_eq!(fold.counts.values().sum::<u64>(), 105);
    for relay in relays {
        relay.shutdown().await?;
    }
    Ok(())
}

/// Publishes `position` of `log` straight to the stream, as a relay would,
/// under `msg_id` (a distinct id lets a duplicate past JetStream's de-duplication).
async fn publish_raw(
    js: &jetstream::Context,
    log: &Log,
    position: u64,
    msg_id: String,
) -> anyhow::Result<()> {
    let record = log.store.read_all(position, 1)?.remove(0);
    let mut headers = headers::event_headers(&log.context, &record);
    headers.insert(headers::MSG_ID, msg_id.as_str());
    let payload = to_envelope(&log.context, &record).encode_to_vec();
    js.publish_with_headers(
        event_subject(&log.context, &record)?,
        headers,
        payload.into(),
    )
    .await?
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_feed_restores_position_order_and_drops_duplicates() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let governance = Log::open("governance")?;
    let engagement = Log::open("engagement")?;
    governance.append(6).await?;
    engagement.append(2).await?;
    let js = jetstream::new(async_nats::connect(&url).await?);
    ensure_stream(&js, 1).await?;
    // What a relay interrupted by a failure can leave in the stream.
    let id = |log: &Log, position: u64| {
        log.store.read_all(position, 1).unwrap()[0]
            .event_id
            .to_string()
    };
    for (log, position, msg_id) in [
        (&governance, 3, id(&governance, 3)),
        (&governance, 4, id(&governance, 4)),
        (&engagement, 1, id(&engagement, 1)),
        (&governance, 1, id(&governance, 1)),
        (&governance, 5, id(&governance, 5)),
        (&governance, 2, id(&governance, 2)),
        (&governance, 2, "republished-later".to_owned()),
        (&engagement, 2, id(&engagement, 2)),
        (&governance, 6, id(&governance, 6)),
        (&governance, 1, "republished-much-later".to_owned()),
    ] {
        publish_raw(&js, log, position, msg_id).await?;
    }

    let mut feed = JetStreamFeed::new(feed_config(&url, "reorder"), &Checkpoints::new())?;
    let mut fold = Fold::default();
    fold.consume_until(&mut feed, &heads(&[&governance, &engagement]))
        .await?;
    // A sentinel after the late duplicates: whatever comes before it would be
    // a duplicate, which the fold would count as skipped.
    governance.append(1).await?;
    publish_raw(&js, &governance, 7, id(&governance, 7)).await?;
    fold.consume_until(&mut feed, &heads(&[&governance, &engagement]))
        .await?;
    assert_eq!(applied(&fold, "governance"), (1..=7).collect::<Vec<_>>());
    assert_eq!(applied(&fold, "engagement"), [1, 2]);
    assert_eq!(fold.skipped, 0, "the feed itself drops duplicates");

    // A position that never comes: the feed says so once later events have
    // waited for it longer than the gap timeout.
    let mut config = feed_config(&url, "gap");
    config.max_held = 3; // governance above holds up to 3 (positions 3, 4, 5)
    config.gap_timeout = Duration::from_secs(1);
    let stakeholders = Log::open("stakeholders")?;
    stakeholders.append(5).await?;
    // 2 to 4 are held; 5 is more than max_held ahead of 1, so it is refused.
    for position in 2..=5 {
        publish_raw(&js, &stakeholders, position, id(&stakeholders, position)).await?;
    }
    let mut feed = JetStreamFeed::new(config, &Checkpoints::new())?;
    let error = loop {
        match tokio::time::timeout(PATIENCE, feed.next()).await? {
            Ok(delivery) => {
                assert_ne!(delivery.context(), "stakeholders");
                delivery.ack().await?;
            }
            Err(error) => break error,
        }
    };
    assert!(
        matches!(
            &error,
            FeedError::Gap { context, expected: 1, held: 3 } if context == "stakeholders"
        ),
        "{error}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_feed_merges_logs_in_order_and_follows_live_appends() -> anyhow::Result<()> {
    let stakeholders = Log::open("stakeholders")?;
    let engagement = Log::open("engagement")?;
    stakeholders.append(20).await?;
    engagement.append(25).await?;
    let start: Checkpoints = [("stakeholders".to_owned(), 5)].into_iter().collect();
    let mut feed = DirectFeed::new(
        vec![
            DirectSource::new("stakeholders", stakeholders.store.clone()),
            DirectSource::new("engagement", engagement.store.clone()),
        ],
        &start,
    )?;
    let mut fold = Fold::starting_at(start);
    fold.consume_until(&mut feed, &heads(&[&stakeholders, &engagement]))
        .await?;

    // Live appends, on both logs at once.
    let (a, b) = tokio::join!(stakeholders.append(10), engagement.append(10));
    a?;
    b?;
    fold.consume_until(&mut feed, &heads(&[&stakeholders, &engagement]))
        .await?;
    assert_eq!(applied(&fold, "stakeholders"), (6..=30).collect::<Vec<_>>());
    assert_eq!(applied(&fold, "engagement"), (1..=35).collect::<Vec<_>>());
    assert_eq!(fold.skipped, 0);

    // Closing the logs ends the feed.
    stakeholders.store.close().await?;
    engagement.store.close().await?;
    let end = tokio::time::timeout(PATIENCE, feed.next()).await?;
    assert!(matches!(end, Err(FeedError::Closed)), "{end:?}");

    // A context given twice is refused.
    let twice = DirectFeed::new(
        vec![
            DirectSource::new("engagement", engagement.store.clone()),
            DirectSource::new("engagement", engagement.store.clone()),
        ],
        &Checkpoints::new(),
    );
    assert!(matches!(twice, Err(FeedError::Config(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_feeds_fold_the_same_events_into_the_same_read_model() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let stakeholders = Log::open("stakeholders")?;
    let governance = Log::open("governance")?;
    let relays = [
        spawn_relay(&stakeholders, &url)?,
        spawn_relay(&governance, &url)?,
    ];
    let (a, b) = tokio::join!(stakeholders.append(60), governance.append(45));
    a?;
    b?;
    let target = heads(&[&stakeholders, &governance]);

    let mut over_jetstream = Fold::default();
    let mut feed: Box<dyn Feed> = Box::new(JetStreamFeed::new(
        feed_config(&url, "compare"),
        &Checkpoints::new(),
    )?);
    over_jetstream.consume_until(feed.as_mut(), &target).await?;

    let mut direct = Fold::default();
    let mut feed: Box<dyn Feed> = Box::new(DirectFeed::new(
        vec![
            DirectSource::new("stakeholders", stakeholders.store.clone()),
            DirectSource::new("governance", governance.store.clone()),
        ],
        &Checkpoints::new(),
    )?);
    direct.consume_until(feed.as_mut(), &target).await?;

    assert_eq!(over_jetstream.result(), direct.result());
    // And both agree with the logs themselves.
    let mut expected = std::collections::BTreeMap::<String, u64>::new();
    for log in [&stakeholders, &governance] {
        for record in log.store.read_all(1, 1000)? {
            *expected.entry(record.event_type).or_default() += 1;
        }
    }
    assert_eq!(direct.counts, expected);
    assert_eq!(direct.checkpoints, target, "the same positions and hashes");
    for relay in relays {
        relay.shutdown().await?;
    }
    Ok(())
}
