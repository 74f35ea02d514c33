//! Test harness: the real stakeholders service on 127.0.0.1:0 over a real sled
//! directory, a tokens file and a master key file in a temp dir, and tonic
//! clients that present a token (or none).

#![allow(dead_code)]

pub mod register;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};
use maillage_privacy::MasterKey;
use maillage_proto::v1 as pb;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// Adds `authorization: Bearer <token>` when it has a token.
#[derive(Clone)]
pub struct Bearer(Option<String>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(token) = &self.0 {
            let value: MetadataValue<_> = format!("Bearer {token}")
                .parse()
                .map_err(|_| Status::internal("bad token"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

/// A stakeholders client presenting a token.
pub type Client = StakeholdersClient<InterceptedService<Channel, Bearer>>;

/// Tokens for each role, in the data dir's tokens file.
#[derive(Clone)]
pub struct Tokens {
    pub facilitator: String,
    pub analyst: String,
    pub auditor: String,
    pub admin: String,
    pub tool: String,
    pub secretary: String,
}

/// A running service and what it runs on.
pub struct Harness {
    pub address: SocketAddr,
    pub tokens: Tokens,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<()>>>,
}

fn config(dir: &std::path::Path) -> ServiceConfig {
    let mut config = ServiceConfig::for_dir(dir);
    config.master_key_file = Some(dir.join("master.key"));
    config
}

impl Harness {
    /// A fresh data dir with a master key and tokens, and the service on it.
    pub async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        MasterKey::generate_file(dir.path().join("master.key"))?;
        let tokens_path = dir.path().join("tokens");
        let tokens = Tokens {
            facilitator: TokenFile::add(&tokens_path, "fanny-facilitator", &[Role::Facilitator])?,
            analyst: TokenFile::add(&tokens_path, "ana-analyst", &[Role::Analyst])?,
            auditor: TokenFile::add(&tokens_path, "aude-auditor", &[Role::Auditor])?,
            admin: TokenFile::add(&tokens_path, "adam-admin", &[Role::Admin])?,
            tool: TokenFile::add(&tokens_path, "mailing-tool", &[Role::Tool])?,
            secretary: TokenFile::add(&tokens_path, "sam-secretary", &[Role::Secretary])?,
        };
        Self::start_in(dir, tokens).await
    }

    /// The service on an existing data dir.
    pub async fn start_in(dir: tempfile::TempDir, tokens: Tokens) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let config = config(dir.path());
        let server = tokio::spawn(async move {
            maillage_stakeholders::serve(&config, listener, async {
                let _ = stopped.await;
            })
            .await
        });
        let harness = Self {
            address,
            tokens,
            dir,
            stop: Some(stop),
            server: Some(server),
        };
        // Ready once a read answers.
        let mut client = harness.client(&harness.tokens.auditor.clone()).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let probe = client
                .get_stakeholder(pb::GetStakeholderRequest {
                    stakeholder_id: uuid::Uuid::now_v7().to_string(),
                })
                .await;
            match probe {
                Err(status) if status.code() == Code::NotFound => break,
                _ if tokio::time::Instant::now() > deadline => anyhow::bail!("service not ready"),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        Ok(harness)
    }

    /// Stops the service (graceful: the store is closed) and returns its data dir.
    pub async fn stop(mut self) -> Result<(tempfile::TempDir, Tokens)> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .context("shutdown timed out")???;
        }
        Ok((self.dir, self.tokens))
    }

    async fn channel(&self) -> Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.address))?
            .connect()
            .await?)
    }

    /// A client presenting `token`.
    pub async fn client(&self, token: &str) -> Result<Client> {
        Ok(StakeholdersClient::with_interceptor(
            self.channel().await?,
            Bearer(Some(token.to_string())),
        ))
    }

    /// A client presenting no token.
    pub async fn anonymous(&self) -> Result<Client> {
        Ok(StakeholdersClient::with_interceptor(
            self.channel().await?,
            Bearer(None),
        ))
    }

    /// The facilitator's client.
    pub async fn facilitator(&self) -> Result<Client> {
        self.client(&self.tokens.facilitator.clone()).await
    }

    /// The admin's client.
    pub async fn admin(&self) -> Result<Client> {
        self.client(&self.tokens.admin.clone()).await
    }

    /// The access journal's client, presenting `token`.
    pub async fn access_journal(
        &self,
        token: &str,
    ) -> Result<AccessJournalClient<InterceptedService<Channel, Bearer>>> {
        Ok(AccessJournalClient::with_interceptor(
            self.channel().await?,
            Bearer(Some(token.to_string())),
        ))
    }

    /// Every entry of the access journal (read by the auditor).
    pub async fn access_entries(&self) -> Result<Vec<pb::AccessEntry>> {
        Ok(self
            .access_journal(&self.tokens.auditor.clone())
            .await?
            .list_access(pb::ListAccessRequest::default())
            .await?
            .into_inner()
            .entries)
    }

    /// The event log's client (auditor).
    pub async fn event_log(&self) -> Result<EventLogClient<InterceptedService<Channel, Bearer>>> {
        Ok(EventLogClient::with_interceptor(
            self.channel().await?,
            Bearer(Some(self.tokens.auditor.clone())),
        ))
    }

    /// The log's head position, after checking the chain verifies.
    pub async fn head(&self) -> Result<u64> {
        let verified = self
            .event_log()
            .await?
            .verify(pb::VerifyRequest::default())
            .await?
            .into_inner();
        anyhow::ensure!(verified.intact, "chain broken: {}", verified.reason);
        Ok(verified.position)
    }

    /// Every event in the log.
    pub async fn all_events(&self) -> Result<Vec<pb::EventEnvelope>> {
        Ok(self
            .event_log()
            .await?
            .read_all(pb::ReadAllRequest {
                from_position: 1,
                limit: 10_000,
                ..Default::default()
            })
            .await?
            .into_inner()
            .events)
    }
}

/// `SystemTime` on the wire.
pub fn ts(at: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(at)
}

/// A timestamp `days` days ago.
pub fn days_ago(days: u64) -> prost_types::Timestamp {
    ts(SystemTime::now() - Duration::from_secs(days * 86_400))
}

/// A fresh request id.
pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A person's profile (an inhabitant of Carcassonne unless kinds say otherwise).
pub fn person(given: &str, family: &str, kinds: &[pb::PersonKind]) -> pb::PersonProfile {
    pb::PersonProfile {
        given_name: given.into(),
        family_name: family.into(),
        kinds: kinds.iter().map(|kind| *kind as i32).collect(),
        commune_code: "11069".into(),
        email: format!(
            "{}.{}@example.fr",
            given.to_lowercase(),
            family.to_lowercase()
        ),
        phone: "04 68 11 22 33".into(),
        postal_address: "1 rue de la Cité, 11000 Carcassonne".into(),
        notes: format!("{given} runs the weekly market"),
        birth_date: String::new(),
    }
}

/// A maire mandate of Carcassonne.
pub fn maire(started_days_ago: u64) -> pb::MandateInput {
    pb::MandateInput {
        office: pb::MandateOffice::Maire as i32,
        authority: Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Commune as i32,
            code: "11069".into(),
        }),
        started_at: Some(days_ago(started_days_ago)),
        ended_at: None,
    }
}

/// A TPE with a valid SIREN.
pub fn business(name: &str) -> pb::OrganisationProfile {
    pb::OrganisationProfile {
        name: name.into(),
        commune_code: "11069".into(),
        siren: "120027016".into(),
        details: Some(pb::organisation_profile::Details::Business(
            pb::BusinessDetails {
                size: pb::BusinessSize::Tpe as i32,
                sector: "menuiserie".into(),
            },
        )),
    }
}

/// Registers a person and returns their id.
pub async fn register_person(client: &mut Client, profile: pb::PersonProfile) -> Result<String> {
    Ok(client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(profile),
            mandates: vec![],
        })
        .await?
        .into_inner()
        .id)
}

/// Registers a business and returns its id.
pub async fn register_business(client: &mut Client, name: &str) -> Result<String> {
    Ok(client
        .register_organisation(pb::RegisterOrganisationRequest {
            request_id: rid(),
            profile: Some(business(name)),
        })
        .await?
        .into_inner()
        .id)
}

/// A phone call with `participants` an hour ago, with a follow-up.
pub fn phone_call(participants: &[&str], notes: &str) -> pb::LogInteractionRequest {
    pb::LogInteractionRequest {
        topics: Default::default(),
        request_id: rid(),
        participant_ids: participants.iter().map(|id| id.to_string()).collect(),
        channel: pb::InteractionChannel::Phone as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: Some(ts(SystemTime::now() - Duration::from_secs(3600))),
        subject: "Projet de tiers-lieu à la Bastide".into(),
        notes: notes.into(),
        themes: vec![pb::InteractionTheme::Telework as i32],
        follow_ups: vec![pb::FollowUpInput {
            owner: Default::default(),
            description: "Envoyer le questionnaire".into(),
            due_at: None,
        }],
    }
}
