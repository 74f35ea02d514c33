//! Test harness, on the workspace's test kit (`maillage_service_kit::testing`):
//! the real stakeholders service on a listener the kit holds, over a real sled
//! directory with a tokens file (one principal per role) and a master key file
//! in a temp dir, and tonic clients that present a token (or none).

#![allow(dead_code)]

pub mod register;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use maillage_proto::v1 as pb;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_service_kit::testing::{Authed, Bearer, Spawned};
pub use maillage_service_kit::testing::{TestData, Tokens};
pub use maillage_service_kit::Role;
use tonic::Code;

/// A stakeholders client presenting a token.
pub type Client = StakeholdersClient<Authed>;

/// A running service and what it runs on.
pub struct Harness {
    pub tokens: Tokens,
    pub dir: TestData,
    server: Spawned,
}

impl Harness {
    /// A fresh data dir with a master key and tokens, and the service on it.
    pub async fn start() -> Result<Self> {
        Self::start_in(TestData::new()?).await
    }

    /// The service on an existing data dir.
    pub async fn start_in(dir: TestData) -> Result<Self> {
        Self::start_with(dir, None).await
    }

    /// A fresh data dir, and the service on it following the engagement log
    /// `engagement` (its erasure facts and the programme's axes).
    pub async fn start_following(engagement: maillage_eventstore::EventStore) -> Result<Self> {
        let feeds = maillage_stakeholders::EngagementFeeds::direct(engagement);
        Self::start_with(TestData::new()?, Some(feeds)).await
    }

    async fn start_with(
        dir: TestData,
        feeds: Option<maillage_stakeholders::EngagementFeeds>,
    ) -> Result<Self> {
        let config = dir.config();
        let server = Spawned::spawn(move |listener, shutdown| async move {
            maillage_stakeholders::serve_with(&config, listener, shutdown, feeds).await
        })
        .await?;
        let harness = Self {
            tokens: dir.tokens().clone(),
            dir,
            server,
        };
        // Ready once a read answers.
        let mut client = harness.client(harness.tokens.of(Role::Auditor)).await?;
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
    pub async fn stop(self) -> Result<TestData> {
        self.server.stop().await?;
        Ok(self.dir)
    }

    /// A client presenting `token`.
    pub async fn client(&self, token: &str) -> Result<Client> {
        Ok(StakeholdersClient::new(
            self.server.client(Bearer::token(token)).await?,
        ))
    }

    /// A client presenting no token.
    pub async fn anonymous(&self) -> Result<Client> {
        Ok(StakeholdersClient::new(
            self.server.client(Bearer::anonymous()).await?,
        ))
    }

    /// The facilitator's client.
    pub async fn facilitator(&self) -> Result<Client> {
        self.client(self.tokens.of(Role::Facilitator)).await
    }

    /// The admin's client.
    pub async fn admin(&self) -> Result<Client> {
        self.client(self.tokens.of(Role::Admin)).await
    }

    /// The access journal's client, presenting `token`.
    pub async fn access_journal(&self, token: &str) -> Result<AccessJournalClient<Authed>> {
        Ok(AccessJournalClient::new(
            self.server.client(Bearer::token(token)).await?,
        ))
    }

    /// Every entry of the access journal (read by the auditor).
    pub async fn access_entries(&self) -> Result<Vec<pb::AccessEntry>> {
        Ok(self
            .access_journal(self.tokens.of(Role::Auditor))
            .await?
            .list_access(pb::ListAccessRequest::default())
            .await?
            .into_inner()
            .entries)
    }

    /// The event log's client (auditor).
    pub async fn event_log(&self) -> Result<EventLogClient<Authed>> {
        Ok(EventLogClient::new(
            self.server
                .client(Bearer::token(self.tokens.of(Role::Auditor)))
                .await?,
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
        axis_ids: Vec::new(),
    }
}
