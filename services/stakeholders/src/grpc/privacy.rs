//! Erasure (crypto-shredding) and subject-access export of a person (role admin).
//!
//! A person's interactions are found by scanning the `interaction` streams of
//! the log for the person's id among the participants (as logged or as
//! corrected). Both RPCs are rare, and the scan keeps `LogInteraction` a single
//! append to a single stream: no second write to each participant's stream
//! that could fail half-way, and no extra appends in the hot path. Its cost
//! grows with the log (a full read of it); a projection can take over when
//! that matters.
//!
//! Erasure destroys the person's key and the keys of every interaction they
//! took part in (the notes of a contact may speak of them), then records a
//! `PersonErased` marker listing those interactions. If the process stops in
//! between, retrying the same request finishes it: erasing is idempotent.

use maillage_es::{stream_id, EventPayload};
use maillage_eventstore::EventStore;
use maillage_privacy::SubjectId;
use maillage_proto::v1 as pb;
use maillage_service_kit::{require, RequestContext, ServiceError};
use tonic::{Request, Response, Status};

use super::{
    blocking, privacy_error, StakeholdersService, INTERACTION, PRIVACY_OFFICERS, STAKEHOLDER,
};
use crate::domain::interaction::InteractionEvent;
use crate::domain::stakeholder::{Profile, StakeholderCommand};
use crate::domain::timestamp;
use crate::validate::{self, MAX_REASON};

/// Records read per round trip of the scan.
const SCAN_CHUNK: usize = 4096;

/// The ids of every interaction `person` took part in (as logged or as corrected), in log order.
pub(super) fn interactions_of(
    store: &EventStore,
    person: &str,
) -> Result<Vec<String>, ServiceError> {
    let mut found: Vec<String> = Vec::new();
    let mut from = 1;
    loop {
        let records = store.read_all(from, SCAN_CHUNK)?;
        for record in &records {
            if record.stream_id.category() != INTERACTION {
                continue;
            }
            let participants = match InteractionEvent::decode(&record.event_type, &record.payload) {
                Ok(InteractionEvent::InteractionLogged(logged)) => logged.participants,
                Ok(InteractionEvent::InteractionCorrected(corrected)) => corrected
                    .participants
                    .map(|list| list.participants)
                    .unwrap_or_default(),
                Ok(_) => continue,
                Err(error) => {
                    return Err(ServiceError::internal(format!(
                        "event at position {}: {error}",
                        record.position
                    )))
                }
            };
            if participants
                .iter()
                .any(|participant| participant.stakeholder_id == person)
            {
                let id = record
                    .stream_id
                    .as_str()
                    .strip_prefix("interaction-")
                    .unwrap_or_default()
                    .to_string();
                if !found.contains(&id) {
                    found.push(id);
                }
            }
        }
        match records.last() {
            Some(last) if records.len() == SCAN_CHUNK => from = last.position + 1,
            _ => return Ok(found),
        }
    }
}

impl StakeholdersService {
    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_erase_person(
        &self,
        request: Request<pb::ErasePersonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        require(&request, PRIVACY_OFFICERS)?;
        let context = RequestContext::for_command(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        // Recorded in clear: bounded, single line; never logged.
        let reason = validate::required_line("reason", &message.reason, MAX_REASON)?;
        let (version, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, &id))
            .map_err(|error| super::handle_error(error, super::stakeholder_error(&id)))?;
        match &state.profile {
            None => return Err(ServiceError::not_found("stakeholder", id.to_string()).into()),
            Some(Profile::Organisation(_)) => {
                return Err(
                    ServiceError::failed_precondition("the stakeholder is not a person").into(),
                )
            }
            Some(Profile::Person(_)) => {}
        }
        if let Some(expected) = message.expected_version {
            // Checked before the keys go: a stale request destroys nothing.
            if expected != version && state.erased_at.is_none() {
                return Err(ServiceError::Aborted {
                    expected: format!("version {expected}"),
                    actual: version,
                }
                .into());
            }
        }
        let store = self.inner.store.clone();
        let vault = self.inner.vault.clone();
        let now = self.now();
        let person = id.to_string();
        let interaction_ids = blocking(move || {
            let interactions = interactions_of(&store, &person)?;
            vault
                .erase(&SubjectId::person(person.clone()), now)
                .map_err(privacy_error)?;
            for interaction in &interactions {
                vault
                    .erase(&SubjectId::interaction(interaction.clone()), now)
                    .map_err(privacy_error)?;
            }
            Ok(interactions)
        })
        .await?;
        tracing::info!(
            interactions = interaction_ids.len(),
            "person's keys destroyed"
        );
        let command = StakeholderCommand::Erase {
            reason,
            interaction_ids,
            actor: context.principal.name.clone(),
            now,
        };
        // The version was checked above; the keys are gone whatever happens now.
        self.run_stakeholder(&id, command, None, &context).await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_export_person_data(
        &self,
        request: Request<pb::ExportPersonDataRequest>,
    ) -> Result<Response<pb::PersonDataExport>, Status> {
        require(&request, PRIVACY_OFFICERS)?;
        let id = super::traced_id("stakeholder_id", &request.get_ref().stakeholder_id)?;
        let (state, view) = self.load_stakeholder(&id).await?;
        if !state.is_person() {
            return Err(
                ServiceError::failed_precondition("the stakeholder is not a person").into(),
            );
        }
        let store = self.inner.store.clone();
        let person = id.to_string();
        let stream = stream_id(STAKEHOLDER, &id);
        let (interaction_ids, history) = blocking(move || {
            let interactions = interactions_of(&store, &person)?;
            let mut history = Vec::new();
            let mut from = 1;
            loop {
                let records = store.read_stream(
                    &stream,
                    from,
                    maillage_eventstore::Direction::Forward,
                    SCAN_CHUNK,
                )?;
                for record in &records {
                    history.push(pb::PersonHistoryEntry {
                        version: record.version,
                        event_type: record.event_type.clone(),
                        actor: record.metadata.actor.clone(),
                        recorded_at: Some(timestamp(record.recorded_at)),
                    });
                }
                match records.last() {
                    Some(last) if records.len() == SCAN_CHUNK => from = last.version + 1,
                    _ => break,
                }
            }
            Ok((interactions, history))
        })
        .await?;
        let mut interactions = Vec::with_capacity(interaction_ids.len());
        for interaction in &interaction_ids {
            let interaction = super::traced_id("interaction_id", interaction)?;
            interactions.push(self.load_interaction(&interaction).await?);
        }
        Ok(Response::new(pb::PersonDataExport {
            stakeholder_id: id.to_string(),
            erased: view.erased,
            erased_at: view.erased_at,
            stakeholder: Some(view),
            interactions,
            history,
        }))
    }
}
