//! Subject access (RGPD art. 15) in engagement, role admin: every fact of the
//! log that names the person, the interviews held with them, the survey
//! responses they gave and the concertations they took part in, decrypted.
//! A read of personal data: journalled.

use maillage_privacy::Opened;
use maillage_proto::v1::{self as pb, interview_subject, survey_answer, survey_respondent};
use maillage_service_kit::access::Subject;
use maillage_service_kit::subject_access::facts_naming;
use maillage_service_kit::{Disclosure, Reader, Role};
use prost::{Message, Name};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{interview, response_subject, traced_uuid, vault_error};
use crate::{EngagementService, CONTEXT};

/// Who may export a person's data.
const PRIVACY_OFFICERS: &[Role] = &[Role::Admin];

impl EngagementService {
    #[tracing::instrument(name = "ExportPersonData", skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_export_person_data(
        &self,
        request: Request<pb::ExportPersonFactsRequest>,
    ) -> Result<Response<pb::EngagementPersonData>, Status> {
        let reader = Reader::admit(&request, PRIVACY_OFFICERS)?;
        let person = traced_uuid("stakeholder_id", &request.get_ref().stakeholder_id)?;
        let store = self.store.clone();
        let (facts, records) =
            tokio::task::spawn_blocking(move || facts_naming(&store, CONTEXT, &person))
                .await
                .map_err(|error| Status::internal(format!("scan task: {error}")))??;
        let mine = person.to_string();
        let mut interviews = Vec::new();
        let mut responses = Vec::new();
        for record in &records {
            let name = record.event_type.strip_prefix("maillage.v1.").unwrap_or("");
            if name == pb::InterviewRecorded::NAME {
                let event = pb::InterviewRecorded::decode(record.payload.as_slice())
                    .map_err(|error| Status::internal(format!("interview event: {error}")))?;
                let with_them = matches!(
                    event.subject.and_then(|subject| subject.who),
                    Some(interview_subject::Who::StakeholderId(id)) if id == mine
                );
                if let (true, Ok(id)) = (with_them, Uuid::try_parse(&event.interview_id)) {
                    interviews.push(interview::view(self, &id, Disclosure::Full)?.0);
                }
            } else if name == pb::SurveyResponseSubmitted::NAME {
                let event = pb::SurveyResponseSubmitted::decode(record.payload.as_slice())
                    .map_err(|error| Status::internal(format!("response event: {error}")))?;
                let theirs = matches!(
                    event.respondent.as_ref().and_then(|respondent| respondent.who.as_ref()),
                    Some(survey_respondent::Who::StakeholderId(id)) if *id == mine
                );
                if theirs {
                    responses.push(opened_response(self, record.position, event)?);
                }
            }
        }
        if !facts.facts.is_empty() {
            let subject = Subject {
                kind: "person",
                id: &person,
            };
            self.journal
                .record(&reader, "Engagement.ExportPersonData", subject)
                .await?;
        }
        let concertations = super::concertation::attended_by(self, &person)?;
        Ok(Response::new(pb::EngagementPersonData {
            facts: Some(facts),
            interviews,
            responses,
            concertations,
        }))
    }
}

/// A response as given: its free-text answers opened (empty once erased).
fn opened_response(
    service: &EngagementService,
    position: u64,
    event: pb::SurveyResponseSubmitted,
) -> Result<pb::EngagementPersonResponse, Status> {
    let key = response_subject(&event.response_id).map_err(vault_error)?;
    let mut answers = Vec::with_capacity(event.answers.len());
    for mut answer in event.answers {
        if let Some(survey_answer::Value::SealedText(sealed)) = &answer.value {
            let text = if sealed.is_empty() {
                String::new()
            } else {
                match service
                    .vault
                    .open_str(&key, &format!("answers.{}", answer.question_id), sealed)
                    .map_err(vault_error)?
                {
                    Opened::Clear(text) => text,
                    Opened::Erased => String::new(),
                }
            };
            answer.value = Some(survey_answer::Value::Text(text));
        }
        answers.push(answer);
    }
    Ok(pb::EngagementPersonResponse {
        survey_id: event.survey_id,
        response_id: event.response_id,
        position,
        submitted_at: event.submitted_at,
        answers,
    })
}
