//! Cheap requests must not cost a lot (issue 15, defect 7), on a real server:
//! a subscription whose filter matches nothing gives way while it scans,
//! filters are bounded, a handler that runs too long ends with
//! DEADLINE_EXCEEDED, and streams are not cut by that limit.

mod common;

use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use common::{authed, Harness, WAIT};
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::SubscribeRequest;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// On one thread, where a poll that never gives way stalls every other RPC: a
/// health check sent after a `Subscribe` whose filter matches only the last
/// of 100,000 events is answered before that event arrives (before the fix,
/// the scan ran in one poll and the health check waited for all of it). Both
/// share one connection, so the server's answers reach the client in the
/// order it sent them.
#[tokio::test(flavor = "current_thread")]
async fn a_subscription_matching_nothing_lets_a_health_check_through() -> Result<()> {
    let mut harness = Harness::start().await?;
    for _ in 0..100 {
        harness.append("noise-1", 1_000, "t.Noise").await?;
    }
    harness.append("wanted-1", 1, "t.Wanted").await?;
    let channel = harness.channel().await?;
    let mut stream = EventLogClient::new(channel.clone())
        .subscribe(authed(
            SubscribeRequest {
                categories: vec!["wanted".into()],
                ..SubscribeRequest::default()
            },
            &harness.tool,
        ))
        .await?
        .into_inner();
    let mut health = HealthClient::new(channel);

    let order = Arc::new(Mutex::new(Vec::new()));
    let event = {
        let order = order.clone();
        tokio::spawn(async move {
            let event = stream.message().await;
            order.lock().unwrap().push("event");
            event
        })
    };
    let checked = {
        let order = order.clone();
        tokio::spawn(async move {
            let reply = health.check(HealthCheckRequest::default()).await;
            order.lock().unwrap().push("health");
            reply
        })
    };
    tokio::time::timeout(WAIT, checked).await???;
    let event = tokio::time::timeout(WAIT, event)
        .await???
        .context("the stream ended")?;
    assert_eq!(event.position, 100_001);
    assert_eq!(*order.lock().unwrap(), ["health", "event"]);
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_filters_are_bounded() -> Result<()> {
    let mut harness = Harness::start().await?;
    let mut client = harness.client().await?;
    let categories = (0..65).map(|n| format!("c{n}")).collect();
    let refused = client
        .subscribe(authed(
            SubscribeRequest {
                categories,
                ..SubscribeRequest::default()
            },
            &harness.tool,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("categories: 65 entries, at most 64"),
        "{refused:?}"
    );
    let refused = client
        .subscribe(authed(
            SubscribeRequest {
                event_types: vec!["x".repeat(1 << 20)],
                ..SubscribeRequest::default()
            },
            &harness.tool,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("event_types: an event type is 1048576 bytes"),
        "{refused:?}"
    );
    harness.stop().await
}
