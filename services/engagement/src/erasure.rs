//! Engagement's part of erasing a person (DESIGN.md §2 "Sagas", §6): when the
//! stakeholders log records that a person's erasure started
//! (`PersonErasureStarted`, or `PersonErased` in logs written before the
//! saga), engagement destroys the keys of what it holds about them — the notes
//! of the interviews held with them, the free-text answers of the survey
//! responses they gave, the notes of the concertations they took part in (as
//! a participant, or as the designated officer linked to them) — and records `EngagementPersonErased` in its own log,
//! stream `erasure-<person id>`, which the stakeholders service follows to
//! complete the erasure.
//!
//! The steps, each idempotent (the reaction runs again from its checkpoint
//! after a crash): wait until the register replica has applied the started
//! fact (from then on every command naming the person is refused); take the
//! person's exclusive reference guard (commands that checked before have
//! appended by then); scan the log for what names the person; destroy those
//! keys; append the fact with `NoStream` (an existing stream means an earlier
//! run recorded it).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use maillage_eventstore::{
    Clock, EventData, EventMetadata, EventStore, ExpectedVersion, StoreError,
};
use maillage_privacy::KeyVault;
use maillage_proto::v1::{self as pb, interview_subject, survey_respondent, EventEnvelope};
use maillage_replica::{React, ReactError, ReferenceGuards, Register, Replica};
use prost::{Message, Name};
use uuid::Uuid;

use crate::grpc::{
    concertation_subject as concertation_key, interview_subject as interview_key, response_subject,
};

/// Stream category of engagement's erasure facts: `erasure-<person id>`.
pub const ERASURE: &str = "erasure";
/// Records read per round trip of the scan.
const SCAN_CHUNK: usize = 4_096;
/// The longest the reaction waits for the register replica to see the fact.
const REPLICA_WAIT: Duration = Duration::from_secs(30);

/// The reaction; see the module docs.
pub struct ErasureReaction {
    store: EventStore,
    vault: Arc<KeyVault>,
    register: Arc<Replica<Register>>,
    guards: Arc<ReferenceGuards>,
    clock: Arc<dyn Clock>,
}

/// What engagement holds about a person.
#[derive(Debug, Default, PartialEq, Eq)]
struct Holdings {
    interview_ids: Vec<String>,
    /// `(survey id, response id)`.
    responses: Vec<(String, String)>,
    /// Concertations they took part in.
    concertation_ids: Vec<String>,
}

impl ErasureReaction {
    /// The reaction over engagement's `store` and `vault`, checking with
    /// `register` and `guards` (the ones the service's commands use).
    pub(crate) fn new(
        store: EventStore,
        vault: Arc<KeyVault>,
        register: Arc<Replica<Register>>,
        guards: Arc<ReferenceGuards>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            vault,
            register,
            guards,
            clock,
        }
    }

    async fn erase(&self, person: Uuid, position: u64) -> Result<(), ReactError> {
        // Recorded already (the started fact, then `PersonErased`, both come):
        // the keys are gone and nothing new could name the person since.
        let stream = maillage_es::stream_id(ERASURE, &person);
        if self.store.stream_version(&stream)? > 0 {
            return Ok(());
        }
        let reached = self.register.wait_for(position, REPLICA_WAIT).await;
        if reached < position {
            return Err(format!(
                "the register replica is at {reached}, not yet at the erasure's position {position}"
            )
            .into());
        }
        let _exclusive = self.guards.exclusive(&person).await;
        let store = self.store.clone();
        let vault = self.vault.clone();
        let now = self.clock.now();
        let holdings = tokio::task::spawn_blocking(move || -> Result<Holdings, ReactError> {
            let holdings = holdings_of(&store, &person.to_string())?;
            for id in &holdings.interview_ids {
                let Ok(interview) = Uuid::try_parse(id) else {
                    continue;
                };
                vault.erase(&interview_key(&interview)?, now)?;
            }
            for (_, response) in &holdings.responses {
                vault.erase(&response_subject(response)?, now)?;
            }
            for id in &holdings.concertation_ids {
                let Ok(concertation) = Uuid::try_parse(id) else {
                    continue;
                };
                vault.erase(&concertation_key(&concertation)?, now)?;
            }
            vault.flush()?;
            Ok(holdings)
        })
        .await??;
        tracing::info!(
            interviews = holdings.interview_ids.len(),
            responses = holdings.responses.len(),
            concertations = holdings.concertation_ids.len(),
            "engagement's keys about an erased person destroyed"
        );
        maillage_service_kit::crash::crash_point("erasure:engagement-keys-destroyed");
        self.record(person, holdings, position, now).await
    }

    async fn record(
        &self,
        person: Uuid,
        holdings: Holdings,
        position: u64,
        now: SystemTime,
    ) -> Result<(), ReactError> {
        let event = pb::EngagementPersonErased {
            stakeholder_id: person.to_string(),
            interview_ids: holdings.interview_ids,
            responses: holdings
                .responses
                .into_iter()
                .map(|(survey, response)| format!("{survey}/{response}"))
                .collect(),
            erased_at: Some(now.into()),
            stakeholders_position: position,
            concertation_ids: holdings.concertation_ids,
        };
        let data = EventData {
            event_id: Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("erasure-{person}").as_bytes()),
            event_type: pb::EngagementPersonErased::full_name(),
            payload: event.encode_to_vec(),
            metadata: EventMetadata {
                actor: "erasure".into(),
                request_id: format!("erasure-{person}"),
                correlation_id: format!("erasure-{person}"),
                causation_id: format!("stakeholders:{position}"),
            },
        };
        let stream = maillage_es::stream_id(ERASURE, &person);
        match self
            .store
            .append(&stream, ExpectedVersion::NoStream, vec![data])
            .await
        {
            Ok(_) => Ok(()),
            // Recorded by an earlier run (before a crash, or for an earlier fact).
            Err(StoreError::WrongExpectedVersion { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// The interviews held with `person`, the survey responses they gave and
/// the concertations they took part in.
fn holdings_of(store: &EventStore, person: &str) -> Result<Holdings, ReactError> {
    let mut holdings = Holdings::default();
    // The principals linked to the person, and every concertation with its
    // officers (a link may be recorded after the meeting: decided at the end).
    let mut principals: Vec<String> = Vec::new();
    let mut concertations: Vec<pb::ProgrammeConcertationRecorded> = Vec::new();
    let mut from = 1;
    loop {
        let records = store.read_all(from, SCAN_CHUNK)?;
        for record in &records {
            let name = record.event_type.strip_prefix("maillage.v1.").unwrap_or("");
            if name == pb::InterviewRecorded::NAME {
                let event = pb::InterviewRecorded::decode(record.payload.as_slice())?;
                let subject = event.subject.and_then(|subject| subject.who);
                if matches!(subject, Some(interview_subject::Who::StakeholderId(id)) if id == person)
                {
                    holdings.interview_ids.push(event.interview_id);
                }
            } else if name == pb::ProgrammeOfficerDesignated::NAME {
                let event = pb::ProgrammeOfficerDesignated::decode(record.payload.as_slice())?;
                if event.stakeholder_id == person {
                    principals.push(event.principal);
                }
            } else if name == pb::ProgrammeConcertationRecorded::NAME {
                concertations.push(pb::ProgrammeConcertationRecorded::decode(
                    record.payload.as_slice(),
                )?);
            } else if name == pb::SurveyResponseSubmitted::NAME {
                let event = pb::SurveyResponseSubmitted::decode(record.payload.as_slice())?;
                let respondent = event.respondent.and_then(|respondent| respondent.who);
                if matches!(respondent, Some(survey_respondent::Who::StakeholderId(id)) if id == person)
                {
                    holdings
                        .responses
                        .push((event.survey_id, event.response_id));
                }
            }
        }
        match records.last() {
            Some(last) if records.len() == SCAN_CHUNK => from = last.position + 1,
            _ => break,
        }
    }
    for concertation in concertations {
        if concertation.participant_ids.iter().any(|id| id == person)
            || concertation
                .officers
                .iter()
                .any(|officer| principals.contains(officer))
        {
            holdings.concertation_ids.push(concertation.concertation_id);
        }
    }
    Ok(holdings)
}

impl React for ErasureReaction {
    const CONTEXT: &'static str = "stakeholders";

    fn react<'a>(&'a self, envelope: &'a EventEnvelope) -> BoxFuture<'a, Result<(), ReactError>> {
        Box::pin(async move {
            let name = envelope
                .event_type
                .strip_prefix("maillage.v1.")
                .unwrap_or("");
            let person = if name == pb::PersonErasureStarted::NAME {
                pb::PersonErasureStarted::decode(envelope.payload.as_slice())?.stakeholder_id
            } else if name == pb::PersonErased::NAME {
                pb::PersonErased::decode(envelope.payload.as_slice())?.stakeholder_id
            } else {
                return Ok(());
            };
            let Ok(person) = Uuid::try_parse(&person) else {
                return Ok(());
            };
            self.erase(person, envelope.position).await
        })
    }
}
