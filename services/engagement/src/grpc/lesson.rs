//! Lessons-learned RPCs: record and withdraw a lesson, read one (the
//! register is searched in the projections: `ListLessons`). A lesson's source
//! must be an action, interview or diagnostic of this log, checked from its
//! command loop before the lesson is recorded.

use maillage_es::stream_id;
use maillage_proto::v1::{self as pb, lesson_source::Of};
use maillage_service_kit::{command_error, validate, Refusal, RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    creation_id, invalid, load, reader, run, traced_uuid, Aggregate, MAX_DESCRIPTION,
    MAX_STATEMENT, MAX_TITLE, WRITERS,
};
use crate::category::{ACTION, DIAGNOSTIC, INTERVIEW, LESSON};
use crate::domain::lesson::{Command, Error, Lesson, Record};
use crate::EngagementService;

impl Aggregate for Lesson {
    const CATEGORY: &'static str = LESSON;
}

impl Refusal for Error {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            Error::NotFound => ServiceError::not_found("lesson", id.to_string()),
            Error::AlreadyExists => ServiceError::already_exists("lesson", id.to_string()),
            Error::Withdrawn => ServiceError::failed_precondition(self.to_string()),
        }
    }
}

/// A lesson's required source: an action, interview or diagnostic of this
/// log; INVALID_ARGUMENT naming `source` or `source.<kind>_id` otherwise.
fn source(service: &EngagementService, source: &Option<pb::LessonSource>) -> Result<Of, Status> {
    let Some(of) = source.as_ref().and_then(|source| source.of.as_ref()) else {
        return Err(invalid(
            "source",
            "an action, interview or diagnostic is required",
        ));
    };
    let (field, kind, value) = match of {
        Of::ActionId(id) => ("source.action_id", "action", id),
        Of::InterviewId(id) => ("source.interview_id", "interview", id),
        Of::DiagnosticId(id) => ("source.diagnostic_id", "diagnostic", id),
    };
    let id = validate::id(field, value)?;
    let exists = match of {
        Of::ActionId(_) => service
            .actions
            .inspect(&stream_id(ACTION, &id), |_, action| {
                action.planned.is_some()
            })
            .map_err(|error| command_error(error, &id))?,
        Of::InterviewId(_) => service
            .interviews
            .inspect(&stream_id(INTERVIEW, &id), |_, interview| {
                interview.recorded.is_some()
            })
            .map_err(|error| command_error(error, &id))?,
        Of::DiagnosticId(_) => service
            .diagnostics
            .inspect(&stream_id(DIAGNOSTIC, &id), |_, diagnostic| {
                diagnostic.recorded.is_some()
            })
            .map_err(|error| command_error(error, &id))?,
    };
    if !exists {
        return Err(invalid(field, format!("no such {kind} {id}")));
    }
    Ok(match of {
        Of::ActionId(_) => Of::ActionId(id.to_string()),
        Of::InterviewId(_) => Of::InterviewId(id.to_string()),
        Of::DiagnosticId(_) => Of::DiagnosticId(id.to_string()),
    })
}

impl EngagementService {
    #[tracing::instrument(name = "RecordLesson", skip_all, fields(lesson_id))]
    pub(super) async fn handle_record_lesson(
        &self,
        request: Request<pb::RecordLessonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let outcome = validate::enum_value("outcome", r.outcome)?;
        let title = validate::required_text("title", &r.title, MAX_TITLE)?;
        let detail = validate::optional_text("detail", &r.detail, MAX_DESCRIPTION)?;
        let topics = maillage_proto::themes::requested("topics", &r.topics, "topics", Vec::new())
            .map_err(|error| invalid(error.field, error.reason))?;
        if topics.is_empty() {
            return Err(invalid("topics", "at least one theme is required"));
        }
        let axes = super::programme::axes(self, "axis_ids", &r.axis_ids)?;
        let source = source(self, &r.source)?;
        let id = creation_id(self, LESSON, "lesson_id", &ctx)?;
        let command = Command::Record(Record {
            lesson_id: id,
            outcome,
            title,
            detail,
            topics,
            axes,
            source,
            recorded_by: ctx.principal.name.clone(),
            now: self.clock.now(),
        });
        run(&self.lessons, &id, command, None, &ctx).await
    }

    #[tracing::instrument(name = "WithdrawLesson", skip_all, fields(lesson_id))]
    pub(super) async fn handle_withdraw_lesson(
        &self,
        request: Request<pb::WithdrawLessonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("lesson_id", &r.lesson_id)?;
        let command = Command::Withdraw {
            reason: validate::required_text("reason", &r.reason, MAX_STATEMENT)?,
        };
        run(&self.lessons, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "GetLesson", skip_all, fields(lesson_id))]
    pub(super) async fn handle_get_lesson(
        &self,
        request: Request<pb::GetLessonRequest>,
    ) -> Result<Response<pb::LessonView>, Status> {
        reader(&request)?;
        let id = traced_uuid("lesson_id", &request.get_ref().lesson_id)?;
        let (version, state) = load(&self.lessons, &id)?;
        let Some(recorded) = state.recorded else {
            return Err(ServiceError::not_found("lesson", id.to_string()).into());
        };
        Ok(Response::new(pb::LessonView {
            lesson_id: recorded.lesson_id,
            version,
            outcome: recorded.outcome,
            title: recorded.title,
            detail: recorded.detail,
            topics: recorded.topics,
            axis_ids: recorded.axis_ids,
            source: recorded.source,
            recorded_by: recorded.recorded_by,
            recorded_at: recorded.recorded_at,
            withdrawn: state.withdrawn.is_some(),
            withdrawal_reason: state.withdrawn.unwrap_or_default(),
        }))
    }
}
