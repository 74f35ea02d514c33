//! Test harness, on the workspace's test kit (`maillage_service_kit::testing`):
//! the real engagement server (`maillage_engagement::serve_with`) on a
//! listener the kit holds, over a real sled directory with a tokens file (one
//! principal per role) and a master key, its register replica following a
//! fixture log; tonic clients with bearer tokens.

#![allow(dead_code)]

use std::path::Path;

use anyhow::Result;
use maillage_engagement::StakeholdersFeeds;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::{EventEnvelope, ReadAllRequest};
use maillage_replica::fixtures::LogFixture;
use maillage_replica::OrganisationType;
use maillage_service_kit::testing::{Authed, Bearer, Spawned};
pub use maillage_service_kit::testing::{TestData, Tokens};
pub use maillage_service_kit::Role;
use uuid::Uuid;

/// Persons of the register fixture.
pub const ORGANISER: &str = "0190a1b2-0000-7000-8000-000000000001";
pub const STAKEHOLDER: &str = "0190a1b2-0000-7000-8000-0000000000aa";
/// A tiers-lieu of the register fixture.
pub const OTHER_STAKEHOLDER: &str = "0190a1b2-0000-7000-8000-0000000000bb";
/// A business of the register fixture.
pub const BUSINESS: &str = "0190a1b2-0000-7000-8000-0000000000cc";
/// A person of the register fixture who was erased.
pub const ERASED: &str = "0190a1b2-0000-7000-8000-0000000000dd";

/// The stakeholders log the server's register replica follows (a real log
/// on disk in `<dir>/stakeholders-log`), holding the fixture's stakeholders.
async fn register_fixture(dir: &Path) -> Result<LogFixture> {
    let log = LogFixture::open(&dir.join("stakeholders-log"))?;
    if log.store.head().position == 0 {
        let id = |text: &str| Uuid::parse_str(text);
        log.person(id(ORGANISER)?, "37018").await?;
        log.person(id(STAKEHOLDER)?, "37018").await?;
        log.organisation(id(OTHER_STAKEHOLDER)?, OrganisationType::TiersLieu, "37050")
            .await?;
        log.organisation(id(BUSINESS)?, OrganisationType::Business, "37050")
            .await?;
        log.person(id(ERASED)?, "37018").await?;
        log.erase(id(ERASED)?).await?;
    }
    Ok(log)
}

/// An Engagement client; its requests carry a token and ask the server's
/// replica to have seen the register fixture (`maillage-after`) unless they
/// say otherwise.
pub type Client = EngagementClient<Authed>;

/// A running engagement server.
pub struct Server {
    server: Spawned,
    pub tokens: Tokens,
    /// The stakeholders log the server's register replica follows.
    pub register: LogFixture,
}

impl Server {
    /// Starts the server on the data in `data`.
    pub async fn start(data: &TestData) -> Result<Self> {
        let config = data.config();
        let register = register_fixture(data.path()).await?;
        let feeds = StakeholdersFeeds::direct(register.store.clone());
        let server = Spawned::spawn(move |listener, shutdown| {
            maillage_engagement::serve_with(config, listener, shutdown, Some(feeds))
        })
        .await?;
        let server = Self {
            server,
            tokens: data.tokens().clone(),
            register,
        };
        server.wait_for_the_fixture_erasure().await?;
        Ok(server)
    }

    /// Waits (bounded) until engagement has recorded its part of the
    /// fixture's erased person, which it does in the background when it
    /// starts: tests that compare log heads then see a still log.
    async fn wait_for_the_fixture_erasure(&self) -> Result<()> {
        let stream = format!("erasure-{ERASED}");
        for _ in 0..500 {
            if let Ok(events) = self.all_events().await {
                if events.iter().any(|event| event.stream_id == stream) {
                    return Ok(());
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        anyhow::bail!("engagement never recorded its part of the fixture's erasure")
    }

    /// A bearer presenting `token` (None: no token) and asking for the whole register fixture.
    fn bearer(&self, token: Option<&str>) -> Bearer {
        let head = self.register.store.head().position;
        token.map_or_else(Bearer::anonymous, Bearer::token).with(
            maillage_replica::AFTER_HEADER,
            &format!("stakeholders={head}"),
        )
    }

    /// An Engagement client presenting `token` (None: no token).
    pub async fn client_with(&self, token: Option<&str>) -> Result<Client> {
        Ok(EngagementClient::new(
            self.server.client(self.bearer(token)).await?,
        ))
    }

    /// An Engagement client as the facilitator.
    pub async fn client(&self) -> Result<Client> {
        self.client_with(Some(self.tokens.of(Role::Facilitator)))
            .await
    }

    /// An AccessJournal client presenting `token`.
    pub async fn access_journal(&self, token: &str) -> Result<AccessJournalClient<Authed>> {
        Ok(AccessJournalClient::new(
            self.server.client(Bearer::token(token)).await?,
        ))
    }

    /// An EventLog client as the tool.
    pub async fn event_log(&self) -> Result<EventLogClient<Authed>> {
        Ok(EventLogClient::new(
            self.server
                .client(Bearer::token(self.tokens.of(Role::Tool)))
                .await?,
        ))
    }

    /// The log's head position.
    pub async fn head(&self) -> Result<u64> {
        let response = self
            .event_log()
            .await?
            .read_all(ReadAllRequest {
                from_position: 1,
                limit: 1,
                ..Default::default()
            })
            .await?;
        Ok(response.into_inner().head_position)
    }

    /// Every event in the log.
    pub async fn all_events(&self) -> Result<Vec<EventEnvelope>> {
        let mut log = self.event_log().await?;
        let mut events = Vec::new();
        loop {
            let page = log
                .read_all(ReadAllRequest {
                    from_position: events.len() as u64 + 1,
                    limit: 1000,
                    ..Default::default()
                })
                .await?
                .into_inner();
            let done = page.events.is_empty();
            events.extend(page.events);
            if done {
                return Ok(events);
            }
        }
    }

    /// Stops the server gracefully and waits until its database is closed.
    pub async fn stop(self) -> Result<()> {
        self.server.stop().await
    }
}

/// Checks that `result` was refused with `code`, and, for INVALID_ARGUMENT,
/// that the message names `field` first.
pub fn refused<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    field: &str,
    case: &str,
) {
    let status = result.expect_err(case);
    assert_eq!(status.code(), code, "{case}: {status:?}");
    if code == tonic::Code::InvalidArgument {
        assert!(
            status.message().starts_with(&format!("{field}: ")),
            "{case}: expected field {field}, got {:?}",
            status.message()
        );
    }
}
