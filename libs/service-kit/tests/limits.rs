//! Cheap requests must not cost a lot (issue 15, defect 7), on a real server:
//! a subscription whose filter matches nothing gives way while it scans,
//! filters are bounded, a handler that runs too long ends with
//! DEADLINE_EXCEEDED, and streams are not cut by that limit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result};
use common::{authed, Harness, WAIT};
use maillage_proto::v1::admin_client::AdminClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::{ListTokensRequest, SubscribeRequest};
use tonic::body::Body;
use tonic::server::NamedService;
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
        refused
            .message()
            .starts_with("categories: 65 entries, at most 64"),
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
        refused
            .message()
            .starts_with("event_types: an event type is 1048576 bytes"),
        "{refused:?}"
    );
    harness.stop().await
}

/// A service whose handlers never answer, mounted under the name of the Admin
/// service (not otherwise mounted here) so that its generated client calls it.
#[derive(Clone)]
struct Stalled;

impl NamedService for Stalled {
    const NAME: &'static str = "maillage.v1.Admin";
}

impl tower_service::Service<http::Request<Body>> for Stalled {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = futures::future::Pending<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        futures::future::pending()
    }
}

/// The server's request timeout of these tests.
const TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_does_not_answer_in_time_ends_with_deadline_exceeded() -> Result<()> {
    let mut harness =
        Harness::start_with(|server| server.request_timeout(TIMEOUT).add_service(Stalled)).await?;
    let mut admin = AdminClient::new(harness.channel().await?);
    let ended = tokio::time::timeout(
        WAIT,
        admin.list_tokens(authed(ListTokensRequest {}, &harness.admin)),
    )
    .await?
    .unwrap_err();
    assert_eq!(ended.code(), Code::DeadlineExceeded, "{ended:?}");
    assert_eq!(
        ended.message(),
        "no answer within the server's request timeout (300ms)"
    );
    harness.stop().await
}

/// A service given a longer request timeout of its own (as the projections
/// are, whose reports `as_of` an instant replay the logs) is not cut at the
/// server's: the stalled call ends at the service's limit, not before; the
/// other services keep the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_a_longer_timeout_of_its_own_is_not_cut_at_the_servers() -> Result<()> {
    let longer = TIMEOUT * 4;
    let mut harness = Harness::start_with(|server| {
        server
            .request_timeout(TIMEOUT)
            .request_timeout_of(<Stalled as NamedService>::NAME, longer)
            .add_service(Stalled)
    })
    .await?;
    let mut admin = AdminClient::new(harness.channel().await?);
    let started = std::time::Instant::now();
    let ended = tokio::time::timeout(
        WAIT,
        admin.list_tokens(authed(ListTokensRequest {}, &harness.admin)),
    )
    .await?
    .unwrap_err();
    let waited = started.elapsed();
    assert_eq!(ended.code(), Code::DeadlineExceeded, "{ended:?}");
    assert_eq!(
        ended.message(),
        "no answer within the server's request timeout (1.2s)"
    );
    assert!(waited >= longer, "ended after {waited:?}");
    harness.stop().await
}

/// The timeout counts until a stream opens, not while it runs: a live
/// subscription still gets an event appended after several timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_outlives_the_request_timeout() -> Result<()> {
    let mut harness = Harness::start_with(|server| server.request_timeout(TIMEOUT)).await?;
    let mut stream = harness
        .client()
        .await?
        .subscribe(authed(SubscribeRequest::default(), &harness.tool))
        .await?
        .into_inner();
    tokio::time::sleep(TIMEOUT * 3).await;
    harness.append("late-1", 1, "t.Late").await?;
    let event = tokio::time::timeout(WAIT, stream.message())
        .await??
        .context("the stream ended")?;
    assert_eq!(event.position, 1);
    harness.stop().await
}

/// With one request per connection, a health check sent on a connection
/// whose earlier call has not been answered waits for that call to end (here
/// by the request timeout); without the limit it would be answered first. On
/// one thread, so that the server takes the two calls in the order they came.
#[tokio::test(flavor = "current_thread")]
async fn requests_of_one_connection_beyond_the_limit_wait_their_turn() -> Result<()> {
    let mut harness = Harness::start_with(|server| {
        server
            .request_timeout(TIMEOUT)
            .requests_per_connection(1)
            .add_service(Stalled)
    })
    .await?;
    let channel = harness.channel().await?;
    let mut admin = AdminClient::new(channel.clone());
    let mut stalled = Box::pin(admin.list_tokens(authed(ListTokensRequest {}, &harness.admin)));
    // One poll sends the call: it reaches the server before the health check.
    assert!(futures::poll!(&mut stalled).is_pending());
    let mut health = HealthClient::new(channel);
    let order = Mutex::new(Vec::new());
    let (ended, checked) = tokio::time::timeout(WAIT, async {
        tokio::join!(
            async {
                let ended = stalled.await;
                order.lock().unwrap().push("stalled call");
                ended
            },
            async {
                let checked = health.check(HealthCheckRequest::default()).await;
                order.lock().unwrap().push("health check");
                checked
            }
        )
    })
    .await?;
    assert_eq!(ended.unwrap_err().code(), Code::DeadlineExceeded);
    checked?;
    assert_eq!(*order.lock().unwrap(), ["stalled call", "health check"]);
    harness.stop().await
}
