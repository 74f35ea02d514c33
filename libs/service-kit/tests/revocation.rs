//! Tokens on a real server (issue 15, defect 5): revoking a token ends the
//! open streams of its calls within about a second, a token past its expiry
//! is refused and ends its open streams, saying it expired, and tokens files
//! written before tokens had dates still work.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};
use common::{authed, Harness};
use maillage_eventstore::FixedClock;
use maillage_proto::v1::{ReadAllRequest, SubscribeRequest};
use maillage_service_kit::auth::hash_token;
use maillage_service_kit::{Role, TokenFile};
use tonic::Code;

/// How long a test waits for a stream to end: the server checks every second.
const ENDS_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_token_ends_its_open_streams() -> Result<()> {
    let mut harness = Harness::start().await?;
    harness.append("first-1", 1, "t.First").await?;
    let mut client = harness.client().await?;
    let mut revoked = client
        .subscribe(authed(SubscribeRequest::default(), &harness.tool))
        .await?
        .into_inner();
    let mut kept = client
        .subscribe(authed(SubscribeRequest::default(), &harness.auditor))
        .await?
        .into_inner();
    for stream in [&mut revoked, &mut kept] {
        let first = stream.message().await?.context("the stream ended")?;
        assert_eq!(first.position, 1);
    }

    TokenFile::revoke(&harness.tokens_path, "bi-tool")?;
    let ended = tokio::time::timeout(ENDS_WITHIN, revoked.message())
        .await
        .context("the stream of a revoked token is still open")?
        .unwrap_err();
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
    assert_eq!(ended.message(), "unknown or revoked token");

    // The other principal's stream goes on.
    harness.append("second-1", 1, "t.Second").await?;
    let second = kept.message().await?.context("the stream ended")?;
    assert_eq!(second.position, 2);
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_and_ends_its_streams() -> Result<()> {
    let now = SystemTime::now();
    let clock = Arc::new(FixedClock::new(now));
    let mut harness = Harness::start_with_clock(clock.clone()).await?;
    let expires = now + Duration::from_secs(3_600);
    let token =
        TokenFile::add_expiring(&harness.tokens_path, "temp", &[Role::Tool], Some(expires))?;
    harness.append("first-1", 1, "t.First").await?;
    let mut client = harness.client().await?;
    let mut stream = client
        .subscribe(authed(SubscribeRequest::default(), &token))
        .await?
        .into_inner();
    assert_eq!(
        stream
            .message()
            .await?
            .context("the stream ended")?
            .position,
        1
    );

    clock.set(expires);
    let ended = tokio::time::timeout(ENDS_WITHIN, stream.message())
        .await
        .context("the stream of an expired token is still open")?
        .unwrap_err();
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
    let expired = format!(
        "token expired at {}",
        maillage_service_kit::utc::format(expires)
    );
    assert_eq!(ended.message(), expired);

    let refused = client
        .read_all(authed(ReadAllRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(refused.message(), expired);
    // Tokens without an expiry are not affected.
    client
        .read_all(authed(ReadAllRequest::default(), &harness.tool))
        .await?;
    harness.stop().await
}

/// A line written before tokens had dates (`<hash> <principal> <roles>`),
/// added to the file by hand, is accepted, and survives a rewrite by `add`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_files_without_dates_still_work() -> Result<()> {
    let mut harness = Harness::start().await?;
    let old = "mlg_an-old-token-written-by-hand-before-tokens-had-dates";
    let mut text = std::fs::read_to_string(&harness.tokens_path)?;
    text.push_str(&format!("{} old-tool tool,auditor\n", hash_token(old)));
    std::fs::write(&harness.tokens_path, text)?;
    let mut client = harness.client().await?;
    client
        .read_all(authed(ReadAllRequest::default(), old))
        .await?;

    TokenFile::add(&harness.tokens_path, "newer", &[Role::Tool])?;
    let listed = TokenFile::load(&harness.tokens_path)?.list();
    let entry = listed
        .iter()
        .find(|entry| entry.principal == "old-tool")
        .context("the old line is gone")?;
    assert_eq!(
        (entry.created, entry.expires, &entry.prefix),
        (None, None, &None)
    );
    client
        .read_all(authed(ReadAllRequest::default(), old))
        .await?;
    harness.stop().await
}
