//! Survey RPCs: draft, revise questions, open, submit a response, close, and
//! the read. The questionnaire and the answers are checked by the domain
//! (`domain::survey::check_questions` / `check_answers`), whose errors name the
//! request field; this file checks the rest of each request. Free-text answers
//! are sealed under the response's own key before the command runs (after the
//! same checks `decide` makes): the log only ever holds them sealed.

use std::collections::BTreeMap;

use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::v1::{self as pb, survey_answer::Value, survey_respondent::Who};
use maillage_replica::Expected;
use maillage_service_kit::{command_error, Refusal, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    anonymous, creation_id, invalid, load, references, run, stored_topics, themes, traced_uuid,
    vault_error, Aggregate, MAX_DESCRIPTION, MAX_TITLE, READERS, SUBMITTERS, WRITERS,
};
use crate::category::SURVEY;
use crate::domain::survey::{
    check_submission, token_hash, Command, Draft, Error, Respondent, Submission, Survey,
};
use crate::domain::timestamp;
use crate::EngagementService;
use maillage_service_kit::{validate, RequestContext, Role};

/// Longest respondent token.
const MAX_TOKEN: usize = 256;

/// Key-vault subject kind of a survey response (its free-text answers).
const RESPONSE_SUBJECT: &str = "survey-response";

/// The vault subject of a survey response's free-text answers.
pub(crate) fn response_subject(
    response_id: &str,
) -> Result<SubjectId, maillage_privacy::PrivacyError> {
    SubjectId::new(RESPONSE_SUBJECT, response_id.to_owned())
}

impl Aggregate for Survey {
    const CATEGORY: &'static str = SURVEY;
}

impl Refusal for Error {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            Error::NotFound => ServiceError::not_found("survey", id.to_string()),
            Error::AlreadyExists => ServiceError::already_exists("survey", id.to_string()),
            Error::TokenAlreadyUsed => {
                ServiceError::already_exists("survey response for respondent token", "(hidden)")
            }
            Error::AlreadyResponded(stakeholder) => ServiceError::already_exists(
                "survey response of stakeholder",
                stakeholder.to_string(),
            ),
            Error::TextNotSealed(_) => ServiceError::Unavailable {
                message: "the survey opened while the response was being prepared; retry".into(),
            },
            Error::InvalidQuestion { field, message } | Error::InvalidAnswer { field, message } => {
                ServiceError::invalid_argument(field, message)
            }
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

#[tracing::instrument(name = "DraftSurvey", skip_all, fields(survey_id))]
pub(super) async fn draft(
    service: &EngagementService,
    request: Request<pb::DraftSurveyRequest>,
) -> Result<Response<pb::CommandReply>, Status> {
    let ctx = RequestContext::authorize(
        &request,
        &request.get_ref().request_id,
        &service.fingerprints,
        WRITERS,
    )?;
    let r = request.get_ref();
    let title = validate::required_text("title", &r.title, MAX_TITLE)?;
    let description = validate::optional_text("description", &r.description, MAX_DESCRIPTION)?;
    let campaign_action_id = validate::optional_id("campaign_action_id", &r.campaign_action_id)?;
    let themes = themes("topics", &r.topics, "themes", &r.themes, false)?;
    // Questions are checked by the domain, before anything is appended.
    crate::domain::survey::check_questions(&r.questions)
        .map_err(|error| Status::from(error.service_error(&Uuid::nil())))?;
    let id = creation_id(service, SURVEY, "survey_id", &ctx)?;
    let command = Command::Draft(Draft {
        survey_id: id,
        title,
        description,
        campaign_action_id,
        themes,
        questions: r.questions.clone(),
    });
    run(&service.surveys, &id, command, None, &ctx).await
}

#[tracing::instrument(name = "ReviseSurveyQuestions", skip_all, fields(survey_id))]
pub(super) async fn revise_questions(
    service: &EngagementService,
    request: Request<pb::ReviseSurveyQuestionsRequest>,
) -> Result<Response<pb::CommandReply>, Status> {
    let ctx = RequestContext::authorize(
        &request,
        &request.get_ref().request_id,
        &service.fingerprints,
        WRITERS,
    )?;
    let r = request.get_ref();
    let id = traced_uuid("survey_id", &r.survey_id)?;
    let command = Command::ReviseQuestions {
        questions: r.questions.clone(),
    };
    run(&service.surveys, &id, command, r.expected_version, &ctx).await
}

#[tracing::instrument(name = "OpenSurvey", skip_all, fields(survey_id))]
pub(super) async fn open(
    service: &EngagementService,
    request: Request<pb::OpenSurveyRequest>,
) -> Result<Response<pb::CommandReply>, Status> {
    let ctx = RequestContext::authorize(
        &request,
        &request.get_ref().request_id,
        &service.fingerprints,
        WRITERS,
    )?;
    let r = request.get_ref();
    let id = traced_uuid("survey_id", &r.survey_id)?;
    let command = Command::Open {
        now: service.clock.now(),
    };
    run(&service.surveys, &id, command, r.expected_version, &ctx).await
}

#[tracing::instrument(
    name = "SubmitSurveyResponse",
    skip_all,
    fields(survey_id, response_id)
)]
pub(super) async fn submit(
    service: &EngagementService,
    request: Request<pb::SubmitSurveyResponseRequest>,
) -> Result<Response<pb::CommandReply>, Status> {
    let ctx = RequestContext::authorize(
        &request,
        &request.get_ref().request_id,
        &service.fingerprints,
        SUBMITTERS,
    )?;
    let r = request.get_ref();
    let id = traced_uuid("survey_id", &r.survey_id)?;
    let respondent = match r.respondent.as_ref().and_then(|who| who.who.as_ref()) {
        None => {
            return Err(invalid(
                "respondent",
                "a stakeholder or anonymous respondent is required",
            ))
        }
        Some(Who::StakeholderId(stakeholder)) => {
            Respondent::Stakeholder(validate::id("respondent.stakeholder_id", stakeholder)?)
        }
        Some(Who::Anonymous(participant)) => {
            let (audience, commune_code) = anonymous(service, "respondent.anonymous", participant)?;
            Respondent::Anonymous {
                audience,
                commune_code,
            }
        }
    };
    let named = match &respondent {
        Respondent::Stakeholder(stakeholder) => vec![*stakeholder],
        Respondent::Anonymous { .. } => Vec::new(),
    };
    let (_guards, register) = references(service, &request, &named).await?;
    if let Some(id) = named.first() {
        register.expect("respondent.stakeholder_id", id, Expected::Any)?;
    }
    let token_hash = if r.respondent_token.is_empty() {
        None
    } else {
        if r.respondent_token.len() > MAX_TOKEN
            || !r.respondent_token.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(invalid(
                "respondent_token",
                format!("at most {MAX_TOKEN} printable ASCII characters"),
            ));
        }
        Some(token_hash(&id, &r.respondent_token))
    };
    if r.answers.len() > crate::domain::survey::MAX_QUESTIONS {
        return Err(invalid(
            "answers",
            "more answers than a survey has questions",
        ));
    }
    // A retry gets the same response id, hence the same key.
    let response_id = creation_id(service, RESPONSE_SUBJECT, "response_id", &ctx)?;
    let mut submission = Submission {
        response_id,
        respondent,
        token_hash,
        answers: r.answers.clone(),
        sealed_texts: BTreeMap::new(),
        now: service.clock.now(),
    };
    submission.sealed_texts = seal_free_texts(service, &id, &submission)?;
    run(
        &service.surveys,
        &id,
        Command::Submit(submission),
        None,
        &ctx,
    )
    .await
}

/// Seals each non-empty free-text answer under the response's own key
/// (subject `survey-response:<response id>`, field `answers.<question id>`);
/// an empty answer's sealed form is empty. The submission is first checked
/// as `decide` will check it, so a refused response makes no key (only a
/// survey closed in between leaves one unused; one opened in between makes
/// `decide` refuse the unsealed text, UNAVAILABLE: the caller retries).
fn seal_free_texts(
    service: &EngagementService,
    survey_id: &Uuid,
    submission: &Submission,
) -> Result<BTreeMap<String, Vec<u8>>, Status> {
    let texts: Vec<(&str, &str)> = submission
        .answers
        .iter()
        .filter_map(|answer| match &answer.value {
            Some(Value::Text(text)) => Some((answer.question_id.as_str(), text.as_str())),
            _ => None,
        })
        .collect();
    if texts.is_empty() {
        return Ok(BTreeMap::new());
    }
    let accepted = service
        .surveys
        .inspect(&stream_id(SURVEY, survey_id), |_, state| {
            check_submission(state, submission).is_ok()
        })
        .map_err(|error| command_error(error, survey_id))?;
    // Nothing is sealed for a submission `decide` will refuse, nor for a
    // retry (the command loop answers it with its original outcome).
    if !accepted {
        return Ok(BTreeMap::new());
    }
    let subject = response_subject(&submission.response_id.to_string()).map_err(vault_error)?;
    texts
        .into_iter()
        .map(|(question, text)| {
            let sealed = if text.is_empty() {
                Vec::new()
            } else {
                service
                    .vault
                    .seal_str(&subject, &format!("answers.{question}"), text)
                    .map_err(vault_error)?
            };
            Ok((question.to_string(), sealed))
        })
        .collect()
}

#[tracing::instrument(name = "CloseSurvey", skip_all, fields(survey_id))]
pub(super) async fn close(
    service: &EngagementService,
    request: Request<pb::CloseSurveyRequest>,
) -> Result<Response<pb::CommandReply>, Status> {
    let ctx = RequestContext::authorize(
        &request,
        &request.get_ref().request_id,
        &service.fingerprints,
        WRITERS,
    )?;
    let r = request.get_ref();
    let id = traced_uuid("survey_id", &r.survey_id)?;
    let command = Command::Close {
        now: service.clock.now(),
    };
    run(&service.surveys, &id, command, r.expected_version, &ctx).await
}

#[tracing::instrument(name = "GetSurvey", skip_all, fields(survey_id))]
pub(super) async fn get(
    service: &EngagementService,
    request: Request<pb::GetSurveyRequest>,
) -> Result<Response<pb::SurveyView>, Status> {
    // A respondent (the public survey page) reads open surveys only: to it,
    // a draft or closed survey does not exist.
    let principal =
        maillage_service_kit::require(&request, &[READERS, &[Role::Respondent]].concat())?;
    let respondent_only = principal.require(READERS).is_err();
    let id = traced_uuid("survey_id", &request.get_ref().survey_id)?;
    let (version, state) = load(&service.surveys, &id)?;
    let Some(drafted) = state
        .drafted
        .as_deref()
        .filter(|_| !respondent_only || state.status == pb::SurveyStatus::Open)
    else {
        return Err(ServiceError::not_found("survey", id.to_string()).into());
    };
    Ok(Response::new(pb::SurveyView {
        survey_id: drafted.survey_id.clone(),
        version,
        title: drafted.title.clone(),
        description: drafted.description.clone(),
        campaign_action_id: drafted.campaign_action_id.clone(),
        themes: drafted.themes.clone(),
        topics: stored_topics(&drafted.topics, &drafted.themes),
        questions: state.questions.as_ref().clone(),
        status: state.status as i32,
        response_count: state.response_count,
        opened_at: state.opened_at.map(timestamp),
        closed_at: state.closed_at.map(timestamp),
    }))
}
