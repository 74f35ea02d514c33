//! `ListSurveyTextAnswers`: a survey's free-text answers, opened from the
//! survey's own stream, for facilitators (and admins). They may hold
//! personal data: the read is journalled, once per call, with the survey as
//! its subject. Analysts read the counts only, in Projections.

use maillage_es::stream_id;
use maillage_eventstore::Direction;
use maillage_privacy::Opened;
use maillage_proto::v1::{self as pb, survey_answer::Value};
use maillage_service_kit::access::Subject;
use maillage_service_kit::{Reader, ServiceError};
use prost::{Message, Name};
use tonic::{Request, Response, Status};

use super::{load, response_subject, traced_uuid, vault_error, WRITERS};
use crate::category::SURVEY;
use crate::domain::survey::Survey;
use crate::EngagementService;

/// Events read from the stream at a time.
const CHUNK: usize = 1_024;

impl EngagementService {
    #[tracing::instrument(name = "ListSurveyTextAnswers", skip_all, fields(survey_id))]
    pub(super) async fn handle_list_survey_text_answers(
        &self,
        request: Request<pb::SurveyTextAnswersRequest>,
    ) -> Result<Response<pb::SurveyTextAnswers>, Status> {
        let reader = Reader::admit(&request, WRITERS)?;
        let id = traced_uuid("survey_id", &request.get_ref().survey_id)?;
        let (_, state) = load::<Survey>(&self.surveys, &id)?;
        if state.drafted.is_none() {
            return Err(ServiceError::not_found("survey", id.to_string()).into());
        }
        let store = self.store.clone();
        let stream = stream_id(SURVEY, &id);
        let responses = tokio::task::spawn_blocking(move || {
            let mut responses = Vec::new();
            let mut from = 1;
            loop {
                let records = store.read_stream(&stream, from, Direction::Forward, CHUNK)?;
                for record in &records {
                    if record.event_type.strip_prefix("maillage.v1.")
                        == Some(pb::SurveyResponseSubmitted::NAME)
                    {
                        responses.push(record.payload.clone());
                    }
                }
                match records.last() {
                    Some(last) if records.len() == CHUNK => from = last.version + 1,
                    _ => return Ok::<_, maillage_eventstore::StoreError>(responses),
                }
            }
        })
        .await
        .map_err(|error| Status::internal(format!("read task: {error}")))?
        .map_err(|error| Status::internal(format!("survey stream: {error}")))?;
        let mut answers = Vec::new();
        for payload in responses {
            let event = pb::SurveyResponseSubmitted::decode(payload.as_slice())
                .map_err(|error| Status::internal(format!("response event: {error}")))?;
            let key = response_subject(&event.response_id).map_err(vault_error)?;
            for answer in &event.answers {
                let Some(Value::SealedText(sealed)) = &answer.value else {
                    continue;
                };
                if sealed.is_empty() {
                    continue;
                }
                let field = format!("answers.{}", answer.question_id);
                if let Opened::Clear(text) = self
                    .vault
                    .open_str(&key, &field, sealed)
                    .map_err(vault_error)?
                {
                    answers.push(pb::SurveyTextAnswer {
                        question_id: answer.question_id.clone(),
                        response_id: event.response_id.clone(),
                        text,
                        submitted_at: event.submitted_at,
                    });
                }
            }
        }
        if !answers.is_empty() {
            let subject = Subject {
                kind: "survey",
                id: &id,
            };
            self.journal
                .record(&reader, "ListSurveyTextAnswers", subject)
                .await?;
        }
        Ok(Response::new(pb::SurveyTextAnswers { answers }))
    }
}
