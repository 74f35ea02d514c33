//! For tests of the services that keep a replica: a real log on disk of the
//! other context, holding the events the replica folds, with ids the test
//! chooses (the stakeholders service would pick them itself). The events are
//! the real protobuf payloads, appended to a real [`EventStore`].

use std::path::Path;

use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, StoreError, StoreOptions,
};
use maillage_proto::v1::{self as pb, organisation_profile::Details};
use prost::Name;
use uuid::Uuid;

use crate::register::OrganisationType;

/// A log of one context with chosen ids, for a replica to follow.
#[derive(Clone)]
pub struct LogFixture {
    /// The log.
    pub store: EventStore,
}

impl LogFixture {
    /// A new log in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            store: EventStore::open(dir, StoreOptions::default())?,
        })
    }

    async fn append<M: Name>(&self, stream: String, event: &M) -> Result<u64, StoreError> {
        let data = EventData {
            event_id: Uuid::new_v4(),
            event_type: M::full_name(),
            payload: event.encode_to_vec(),
            metadata: EventMetadata {
                actor: "fixture".into(),
                ..EventMetadata::default()
            },
        };
        let result = self
            .store
            .append(&stream, ExpectedVersion::Any, vec![data])
            .await?;
        Ok(result.last_position)
    }

    /// Registers person `id` in `commune`; returns the log position.
    pub async fn person(&self, id: Uuid, commune: &str) -> Result<u64, StoreError> {
        let event = pb::PersonRegistered {
            stakeholder_id: id.to_string(),
            profile: Some(pb::SealedPersonProfile {
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: commune.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.append(format!("stakeholder-{id}"), &event).await
    }

    /// Registers organisation `id` of type `kind` in `commune`, named
    /// `Fixture <id>`; returns the log position.
    pub async fn organisation(
        &self,
        id: Uuid,
        kind: OrganisationType,
        commune: &str,
    ) -> Result<u64, StoreError> {
        let details = match kind {
            OrganisationType::LocalAuthority => Details::LocalAuthority(Default::default()),
            OrganisationType::Business => Details::Business(Default::default()),
            OrganisationType::Chamber => Details::Chamber(Default::default()),
            OrganisationType::Association => Details::Association(Default::default()),
            OrganisationType::PublicAdministration => {
                Details::PublicAdministration(Default::default())
            }
            OrganisationType::TiersLieu | OrganisationType::Unspecified => {
                Details::TiersLieu(Default::default())
            }
        };
        let event = pb::OrganisationRegistered {
            stakeholder_id: id.to_string(),
            profile: Some(pb::OrganisationProfile {
                name: format!("Fixture {id}"),
                commune_code: commune.into(),
                details: Some(details),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.append(format!("stakeholder-{id}"), &event).await
    }

    /// Records that person `id` was erased; returns the log position.
    pub async fn erase(&self, id: Uuid) -> Result<u64, StoreError> {
        let event = pb::PersonErased {
            stakeholder_id: id.to_string(),
            reason: "fixture".into(),
            ..Default::default()
        };
        self.append(format!("stakeholder-{id}"), &event).await
    }

    /// Defines axis `id` named `name` in the programme (engagement's log);
    /// returns the log position.
    pub async fn axis(&self, id: Uuid, name: &str) -> Result<u64, StoreError> {
        let event = pb::ProgrammeAxisDefined {
            axis_id: id.to_string(),
            name: name.into(),
            defined_by: "fixture".into(),
            ..Default::default()
        };
        self.append(format!("programme-{}", Uuid::nil()), &event)
            .await
    }

    /// Retires axis `id`; returns the log position.
    pub async fn retire_axis(&self, id: Uuid) -> Result<u64, StoreError> {
        let event = pb::ProgrammeAxisRetired {
            axis_id: id.to_string(),
            reason: "fixture".into(),
        };
        self.append(format!("programme-{}", Uuid::nil()), &event)
            .await
    }

    /// Records action `action` of `kind` as planned, then `outcomes` recorded
    /// for it (engagement's log); returns the last position.
    pub async fn action_with_outcomes(
        &self,
        action: Uuid,
        kind: pb::ActionKind,
        outcomes: &[Uuid],
    ) -> Result<u64, StoreError> {
        let stream = format!("action-{action}");
        let planned = pb::ActionPlanned {
            action_id: action.to_string(),
            kind: kind as i32,
            title: "Fixture".into(),
            ..Default::default()
        };
        self.append(stream.clone(), &planned).await?;
        let recorded = pb::ActionOutcomesRecorded {
            action_id: action.to_string(),
            outcomes: outcomes
                .iter()
                .map(|id| pb::ActionOutcome {
                    outcome_id: id.to_string(),
                    proposal: "Fixture".into(),
                    ..Default::default()
                })
                .collect(),
        };
        self.append(stream, &recorded).await
    }
}
