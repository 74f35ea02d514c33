//! Test harness: the real engagement server (`maillage_engagement::serve`) on
//! 127.0.0.1:0 over a real sled directory, with a tokens file and a master key
//! in a temp dir, called through tonic clients with bearer tokens.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Result;
use maillage_engagement::StakeholdersFeeds;
use maillage_privacy::MasterKey;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::{EventEnvelope, ReadAllRequest};
use maillage_replica::fixtures::LogFixture;
use maillage_replica::OrganisationType;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use uuid::Uuid;

/// Adds `authorization: Bearer <token>` to every request, and
/// `maillage-after: stakeholders=<position>` (the register fixture's head when
/// the client was made), so that the server's replica has seen every
/// stakeholder the fixture registered before it checks a request.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>, Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        // A request that carries its own `maillage-after` keeps it.
        let asked = request
            .metadata()
            .contains_key(maillage_replica::AFTER_HEADER);
        if let (Some(value), false) = (&self.1, asked) {
            request
                .metadata_mut()
                .insert(maillage_replica::AFTER_HEADER, value.clone());
        }
        Ok(request)
    }
}

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

pub type Client = EngagementClient<InterceptedService<Channel, Bearer>>;

/// Tokens of the test principals.
#[derive(Clone)]
pub struct Tokens {
    pub facilitator: String,
    pub other_facilitator: String,
    pub analyst: String,
    pub tool: String,
    pub secretary: String,
    pub auditor: String,
    pub admin: String,
}

impl Tokens {
    /// Writes a tokens file and a master key in `dir`.
    pub fn create(dir: &Path) -> Result<Self> {
        let path = dir.join("tokens");
        MasterKey::generate_file(dir.join("master.key"))?;
        Ok(Self {
            facilitator: TokenFile::add(&path, "alice", &[Role::Facilitator])?,
            other_facilitator: TokenFile::add(&path, "bruno", &[Role::Facilitator])?,
            analyst: TokenFile::add(&path, "ana", &[Role::Analyst])?,
            tool: TokenFile::add(&path, "bi-tool", &[Role::Tool])?,
            secretary: TokenFile::add(&path, "sec", &[Role::Secretary])?,
            auditor: TokenFile::add(&path, "aude", &[Role::Auditor])?,
            admin: TokenFile::add(&path, "adam", &[Role::Admin])?,
        })
    }
}

/// A running engagement server.
pub struct Server {
    pub address: SocketAddr,
    pub tokens: Tokens,
    /// The stakeholders log the server's register replica follows.
    pub register: LogFixture,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
}

impl Server {
    /// Starts the server on the data in `dir` (tokens and master key already there).
    pub async fn start(dir: &Path, tokens: Tokens) -> Result<Self> {
        let mut config = ServiceConfig::for_dir(dir);
        config.master_key_file = Some(dir.join("master.key"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let register = register_fixture(dir).await?;
        let feeds = StakeholdersFeeds::direct(register.store.clone());
        let task = tokio::spawn(maillage_engagement::serve_with(
            config,
            listener,
            async {
                let _ = stopped.await;
            },
            Some(feeds),
        ));
        let server = Self {
            address,
            tokens,
            register,
            stop: Some(stop),
            task: Some(task),
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

    async fn channel(&self) -> Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.address))?
            .connect()
            .await?)
    }

    /// The header asking the server to have seen the whole register fixture.
    fn after(&self) -> Result<Option<MetadataValue<Ascii>>> {
        let head = self.register.store.head().position;
        Ok(Some(format!("stakeholders={head}").parse()?))
    }

    /// An Engagement client presenting `token` (None: no token).
    pub async fn client_with(&self, token: Option<&str>) -> Result<Client> {
        let bearer = Bearer(
            match token {
                Some(token) => Some(format!("Bearer {token}").parse()?),
                None => None,
            },
            self.after()?,
        );
        Ok(EngagementClient::with_interceptor(
            self.channel().await?,
            bearer,
        ))
    }

    /// An Engagement client as the facilitator alice.
    pub async fn client(&self) -> Result<Client> {
        let token = self.tokens.facilitator.clone();
        self.client_with(Some(&token)).await
    }

    /// An AccessJournal client presenting `token`.
    pub async fn access_journal(
        &self,
        token: &str,
    ) -> Result<AccessJournalClient<InterceptedService<Channel, Bearer>>> {
        let bearer = Bearer(Some(format!("Bearer {token}").parse()?), None);
        Ok(AccessJournalClient::with_interceptor(
            self.channel().await?,
            bearer,
        ))
    }

    /// An EventLog client as the tool.
    pub async fn event_log(&self) -> Result<EventLogClient<InterceptedService<Channel, Bearer>>> {
        let bearer = Bearer(Some(format!("Bearer {}", self.tokens.tool).parse()?), None);
        Ok(EventLogClient::with_interceptor(
            self.channel().await?,
            bearer,
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
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}
