//! Survey RPCs: draft, revise questions, open, submit a response, close, and
//! the read. The questionnaire and the answers are checked by the domain
//! (`domain::survey::check_questions` / `check_answers`), whose errors name the
//! request field; this file checks the rest of each request. Free-text answers
//! are sealed under the response's own key before the command runs (after the
//! same checks `decide` makes): the log only ever holds them sealed.
//!
//! The information campaign is checked against the Action aggregates of this
//! same log: drafting, that each campaign action exists, is an awareness
//! action and was not cancelled; opening, which of them were held — a fact
//! passed in the command, for the decider to apply the rule.

use std::collections::BTreeMap;

use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::v1::{
    self as pb, survey_answer::Value, survey_respondent::Who, ActionKind, ActionStatus,
};
use maillage_replica::Expected;
use maillage_service_kit::{command_error, Refusal, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    anonymous, creation_id, invalid, load, references, run, stored_topics, themes, traced_uuid,
    vault_error, Aggregate, MAX_DESCRIPTION, MAX_STATEMENT, MAX_TITLE, READERS, SUBMITTERS,
    WRITERS,
};
use crate::category::{ACTION, SURVEY};
use crate::domain::survey::{
    check_submission, token_hash, CampaignOverride, Change, Command, Draft, Error, Respondent,
    Submission, Survey,
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
                french: None,
            },
            Error::InvalidQuestion { field, message, .. }
            | Error::InvalidAnswer { field, message, .. } => {
                ServiceError::invalid_argument(field, message)
            }
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

impl EngagementService {
    #[tracing::instrument(name = "DraftSurvey", skip_all, fields(survey_id))]
    pub(super) async fn handle_draft_survey(
        &self,
        request: Request<pb::DraftSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let title = validate::required_text("title", &r.title, MAX_TITLE)?;
        let description = validate::optional_text("description", &r.description, MAX_DESCRIPTION)?;
        let campaign = campaign(self, r)?;
        let axes = super::programme::axes(self, "axis_ids", &r.axis_ids)?;
        let themes = themes("topics", &r.topics, "themes", &r.themes, false)?;
        // Questions are checked by the domain, before anything is appended.
        crate::domain::survey::check_questions(&r.questions)
            .map_err(|error| Status::from(error.refused(&Uuid::nil())))?;
        let slug = super::survey_slug::checked("slug", &r.slug)?;
        let id = creation_id(self, SURVEY, "survey_id", &ctx)?;
        // A slug is taken under the index's lock, held until the append.
        let mut slugs = match &slug {
            Some(slug) => {
                let slugs = self.slugs.lock(&self.store).await?;
                if slugs.survey(slug).is_some_and(|owner| owner != id) {
                    return Err(
                        ServiceError::already_exists("survey with slug", slug.clone()).into(),
                    );
                }
                Some(slugs)
            }
            None => None,
        };
        let command = Command::Draft(Draft {
            survey_id: id,
            title,
            description,
            campaign,
            axes,
            themes,
            questions: r.questions.clone(),
            slug: slug.clone().unwrap_or_default(),
        });
        let reply = run(&self.surveys, &id, command, None, &ctx).await?;
        if let (Some(slug), Some(slugs)) = (slug, slugs.as_mut()) {
            slugs.insert(slug, id);
        }
        Ok(reply)
    }

    #[tracing::instrument(name = "ReviseSurveyQuestions", skip_all, fields(survey_id))]
    pub(super) async fn handle_revise_survey_questions(
        &self,
        request: Request<pb::ReviseSurveyQuestionsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("survey_id", &r.survey_id)?;
        let command = Change::ReviseQuestions {
            questions: r.questions.clone(),
        };
        run(&self.surveys, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "OpenSurvey", skip_all, fields(survey_id))]
    pub(super) async fn handle_open_survey(
        &self,
        request: Request<pb::OpenSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("survey_id", &r.survey_id)?;
        let campaign_override = match &r.campaign_override {
            None => None,
            Some(decision) => Some(CampaignOverride {
                reason: validate::required_text(
                    "campaign_override.reason",
                    &decision.reason,
                    MAX_STATEMENT,
                )?,
                by: ctx.principal.name.clone(),
            }),
        };
        let campaign = self
            .surveys
            .inspect(&stream_id(SURVEY, &id), |_, state| state.campaign())
            .map_err(|error| command_error(error, &id))?;
        let command = Change::Open {
            now: self.clock.now(),
            campaign_held: held(self, &campaign)?,
            campaign_override,
        };
        run(&self.surveys, &id, command, r.expected_version, &ctx).await
    }
}

/// Most actions in an information campaign.
const MAX_CAMPAIGN: usize = 100;

/// The information campaign a draft names: `campaign_action_id`, then
/// `campaign_action_ids`, each an awareness action of this log not cancelled,
/// none twice.
fn campaign(service: &EngagementService, r: &pb::DraftSurveyRequest) -> Result<Vec<Uuid>, Status> {
    if r.campaign_action_ids.len() > MAX_CAMPAIGN {
        return Err(invalid(
            "campaign_action_ids",
            format!("at most {MAX_CAMPAIGN} actions"),
        ));
    }
    let first = (!r.campaign_action_id.is_empty())
        .then(|| ("campaign_action_id".to_owned(), &r.campaign_action_id));
    let others = r
        .campaign_action_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("campaign_action_ids[{i}]"), id));
    let mut campaign = Vec::new();
    for (field, value) in first.into_iter().chain(others) {
        let id = validate::id(&field, value)?;
        if campaign.contains(&id) {
            return Err(invalid(field, "appears twice in the campaign"));
        }
        let (kind, status) = service
            .actions
            .inspect(&stream_id(ACTION, &id), |_, action| {
                (action.planned.as_ref().map(|p| p.kind), action.status)
            })
            .map_err(|error| command_error(error, &id))?;
        let Some(kind) = kind else {
            return Err(invalid(field, format!("no such action {id}")));
        };
        if !is_awareness(kind) {
            return Err(invalid(
                field,
                format!("action {id} is not an awareness action (ACTION_KIND_AWARENESS_*)"),
            ));
        }
        if status == ActionStatus::Cancelled {
            return Err(ServiceError::failed_precondition(format!(
                "{field}: action {id} was cancelled and will never be held"
            ))
            .into());
        }
        campaign.push(id);
    }
    Ok(campaign)
}

/// Whether an action kind informs the public (ACTION_KIND_AWARENESS_*).
fn is_awareness(kind: i32) -> bool {
    matches!(
        ActionKind::try_from(kind),
        Ok(ActionKind::AwarenessPublicMeeting
            | ActionKind::AwarenessWebinar
            | ActionKind::AwarenessStand
            | ActionKind::AwarenessSiteVisit
            | ActionKind::AwarenessNewsletter)
    )
}

/// The actions of `campaign` already held (an action once held stays held).
fn held(service: &EngagementService, campaign: &[String]) -> Result<Vec<Uuid>, Status> {
    let mut held = Vec::new();
    for id in campaign {
        // Ids were checked when drafted; one that does not parse was never an action.
        let Ok(id) = id.parse::<Uuid>() else {
            continue;
        };
        let was_held = service
            .actions
            .inspect(&stream_id(ACTION, &id), |_, action| {
                action.held_at.is_some()
            })
            .map_err(|error| command_error(error, &id))?;
        if was_held {
            held.push(id);
        }
    }
    Ok(held)
}

impl EngagementService {
    #[tracing::instrument(
        name = "SubmitSurveyResponse",
        skip_all,
        fields(survey_id, response_id)
    )]
    pub(super) async fn handle_submit_survey_response(
        &self,
        request: Request<pb::SubmitSurveyResponseRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
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
                let (audience, commune_code) =
                    anonymous(self, "respondent.anonymous", participant)?;
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
        let (_guards, register) = references(self, &request, &named).await?;
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
        let response_id = creation_id(self, RESPONSE_SUBJECT, "response_id", &ctx)?;
        let mut submission = Submission {
            response_id,
            respondent,
            token_hash,
            answers: r.answers.clone(),
            sealed_texts: BTreeMap::new(),
            now: self.clock.now(),
        };
        submission.sealed_texts = seal_free_texts(self, &id, &submission)?;
        run(&self.surveys, &id, Change::Submit(submission), None, &ctx).await
    }
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

impl EngagementService {
    #[tracing::instrument(name = "CloseSurvey", skip_all, fields(survey_id))]
    pub(super) async fn handle_close_survey(
        &self,
        request: Request<pb::CloseSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("survey_id", &r.survey_id)?;
        let command = Change::Close {
            now: self.clock.now(),
        };
        run(&self.surveys, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "GetSurvey", skip_all, fields(survey_id))]
    pub(super) async fn handle_get_survey(
        &self,
        request: Request<pb::GetSurveyRequest>,
    ) -> Result<Response<pb::SurveyView>, Status> {
        // A respondent (the public survey page) reads open surveys only: to it,
        // a draft or closed survey does not exist.
        let principal =
            maillage_service_kit::require(&request, &[READERS, &[Role::Respondent]].concat())?;
        let respondent_only = principal.require(READERS).is_err();
        let r = request.get_ref();
        let id = match super::survey_slug::checked("slug", &r.slug)? {
            Some(slug) if r.survey_id.is_empty() => {
                let id = self
                    .slugs
                    .lock(&self.store)
                    .await?
                    .survey(&slug)
                    .ok_or_else(|| ServiceError::not_found("survey with slug", slug))?;
                tracing::Span::current().record("survey_id", tracing::field::display(&id));
                id
            }
            _ => traced_uuid("survey_id", &r.survey_id)?,
        };
        let (version, state) = load(&self.surveys, &id)?;
        let Some(drafted) = state
            .drafted
            .as_deref()
            .filter(|_| !respondent_only || state.status == pb::SurveyStatus::Open)
        else {
            return Err(ServiceError::not_found("survey", id.to_string()).into());
        };
        let opened = state.opened.as_deref();
        Ok(Response::new(pb::SurveyView {
            survey_id: drafted.survey_id.clone(),
            version,
            title: drafted.title.clone(),
            description: drafted.description.clone(),
            campaign_action_id: drafted.campaign_action_id.clone(),
            campaign_action_ids: drafted.campaign_action_ids.clone(),
            axis_ids: drafted.axis_ids.clone(),
            slug: drafted.slug.clone(),
            campaign_held_action_ids: opened
                .map(|opened| opened.campaign_held_action_ids.clone())
                .unwrap_or_default(),
            campaign_override_reason: opened
                .map(|opened| opened.campaign_override_reason.clone())
                .unwrap_or_default(),
            campaign_overridden_by: opened
                .map(|opened| opened.campaign_overridden_by.clone())
                .unwrap_or_default(),
            themes: drafted.themes.clone(),
            topics: stored_topics(&drafted.topics, &drafted.themes),
            questions: state.questions.as_ref().clone(),
            status: state.status as i32,
            response_count: state.response_count,
            opened_at: state.opened_at.map(timestamp),
            closed_at: state.closed_at.map(timestamp),
        }))
    }
}
