//! The `Engagement` gRPC service: request validation into commands, role
//! checks, the command loop, and errors mapped to gRPC statuses.
//!
//! Every handler follows the same steps: check the caller's role and build
//! the request's context with `RequestContext::authorize` (facilitator or admin
//! to write; facilitator, analyst, auditor or admin to read), validate every
//! field into a command with the kit's rules (a bad field is INVALID_ARGUMENT
//! naming it, before anything is appended), run the command through
//! `Aggregates::handle`, and reply with a `CommandReply`. One file per
//! aggregate holds its handlers (methods `handle_<rpc>` of the service, as in
//! stakeholders and governance) and implements `Aggregate` (its stream
//! category) and `Refusal` (how its domain errors read) for it; this file
//! holds what they share: `run` and `load`, the sealing of notes, and the
//! tonic trait impl that dispatches to the handlers.

mod action;
mod approval;
mod codebook;
mod concertation;
mod diagnostic;
mod foresight;
mod french;
mod interview;
mod lesson;
mod programme;
mod programme_plan;
mod subject_access;
mod survey;
mod survey_slug;
mod survey_text;

pub(crate) use concertation::notes_subject as concertation_subject;
pub(crate) use interview::notes_subject as interview_subject;
pub(crate) use survey::response_subject;
pub(crate) use survey_slug::Slugs;

use std::time::SystemTime;

use maillage_es::{stream_id, Aggregates, Decider};
use maillage_privacy::{Opened, SubjectId};
use maillage_proto::v1::{
    self as pb, engagement_server::Engagement, EngagementAudience, EngagementTheme, Theme,
};
use maillage_replica::{Positions, Register, Replica, SharedGuards};
use maillage_service_kit::{
    command_error, command_reply, validate, Disclosure, Reader, Refusal, RequestContext, Role,
    ServiceError,
};
use tonic::{Request, Response, Status};
use tracing::Span;
use uuid::Uuid;

use crate::EngagementService;

/// Roles that may change engagement aggregates (admin always may).
pub(crate) const WRITERS: &[Role] = &[Role::Facilitator];
/// Roles that may read them (admin always may).
pub(crate) const READERS: &[Role] = &[Role::Facilitator, Role::Analyst, Role::Auditor];
/// Roles that may answer a survey: the writers, and `respondent` (the
/// console's public survey page), which may do nothing else but read an
/// open survey's questionnaire.
pub(crate) const SUBMITTERS: &[Role] = &[Role::Facilitator, Role::Respondent];

/// Longest title.
pub(crate) const MAX_TITLE: usize = 200;
/// Longest description.
pub(crate) const MAX_DESCRIPTION: usize = 4_000;
/// Longest short statement (reason, key point, motivation, proposal...).
pub(crate) const MAX_STATEMENT: usize = 1_000;
/// Most items in a list of statements or ids.
pub(crate) const MAX_ITEMS: usize = 100;
/// Longest notes, minutes summary.
pub(crate) const MAX_NOTES: usize = 20_000;

/// Shared reference guards on the stakeholders `named` by a command, and the
/// register replica once it has reached the positions the request's
/// `maillage-after` header asks for: check them with
/// [`Replica::<Register>::expect`], and hold the guards until the command's
/// append is done (an erasure of one of them waits for it; see
/// [`crate::erasure`]).
pub(crate) async fn references<'s, T>(
    service: &'s EngagementService,
    request: &Request<T>,
    named: &[Uuid],
) -> Result<(SharedGuards, &'s Replica<Register>), Status> {
    let positions = Positions::from_metadata(request.metadata())?;
    service.register.reach(&positions).await?;
    let guards = service.guards.shared(named).await;
    Ok((guards, &service.register))
}

/// The caller of a read, checked against [`READERS`].
pub(crate) fn reader<T>(request: &Request<T>) -> Result<(), Status> {
    maillage_service_kit::require(request, READERS).map(|_| ())
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Status {
    ServiceError::invalid_argument(field, message).into()
}

/// A list of statements (reasons, key points, motivations): at most
/// [`MAX_ITEMS`], each a required text of at most [`MAX_STATEMENT`] characters.
pub(crate) fn statements(field: &str, values: &[String]) -> Result<Vec<String>, Status> {
    Ok(validate::texts(field, values, MAX_ITEMS, MAX_STATEMENT)?)
}

/// Themes: `topics` (the shared vocabulary) or, from a client written before
/// them, the older `themes` (each a known value other than UNSPECIFIED, given
/// once); both given must agree. `required` asks for at least one.
pub(crate) fn themes(
    topics_field: &str,
    topics: &[i32],
    older_field: &str,
    older: &[i32],
    required: bool,
) -> Result<Vec<Theme>, Status> {
    let mut mapped = Vec::with_capacity(older.len());
    for (i, value) in older.iter().enumerate() {
        let field = format!("{older_field}[{i}]");
        let theme = match EngagementTheme::try_from(value.to_owned()) {
            Ok(EngagementTheme::Unspecified) => return Err(invalid(field, "is required")),
            Ok(older) => Theme::from(older),
            Err(_) => return Err(invalid(field, format!("unknown theme {value}"))),
        };
        if mapped.contains(&theme) {
            return Err(invalid(field, "appears twice"));
        }
        mapped.push(theme);
    }
    let themes = maillage_proto::themes::requested(topics_field, topics, older_field, mapped)
        .map_err(|error| invalid(error.field, error.reason))?;
    if required && themes.is_empty() {
        return Err(invalid(
            topics_field,
            format!("at least one theme is required (or `{older_field}` from an older client)"),
        ));
    }
    Ok(themes)
}

/// One required theme: `topic`, or, from a client written before it, the
/// older `theme`.
pub(crate) fn theme(at: &str, topic: i32, older: i32) -> Result<Theme, Status> {
    let given = |value: i32| if value == 0 { vec![] } else { vec![value] };
    let themes = themes(
        &format!("{at}.topic"),
        &given(topic),
        &format!("{at}.theme"),
        &given(older),
        true,
    )?;
    Ok(themes[0])
}

/// The older field's values for `topics`, for consumers written before them.
pub(crate) fn older_themes(topics: &[Theme]) -> Vec<i32> {
    maillage_proto::themes::older_values(topics, maillage_proto::themes::as_engagement_theme)
}

/// The themes of a stored event: its `topics`, else its older `themes` mapped.
pub(crate) fn stored_topics(topics: &[i32], older: &[i32]) -> Vec<i32> {
    maillage_proto::themes::topics_or_older(
        topics,
        older,
        maillage_proto::themes::from_engagement_value,
    )
}

/// A current commune's INSEE code, checked against the COG.
pub(crate) fn commune(
    service: &EngagementService,
    field: &str,
    code: &str,
) -> Result<String, Status> {
    if code.is_empty() {
        return Err(invalid(field, "is required"));
    }
    service
        .territory
        .validate_commune(code)
        .map(|commune| commune.code.clone())
        .map_err(|error| {
            ServiceError::invalid_argument(field, error.to_string())
                .with_french(error.french())
                .into()
        })
}

/// An anonymous participant: a known audience and a current commune.
pub(crate) fn anonymous(
    service: &EngagementService,
    field: &str,
    participant: &pb::AnonymousParticipant,
) -> Result<(EngagementAudience, String), Status> {
    let audience = validate::enum_value(&format!("{field}.audience"), participant.audience)?;
    let code = commune(
        service,
        &format!("{field}.commune_code"),
        &participant.commune_code,
    )?;
    Ok((audience, code))
}

/// A required instant, as the domain's [`SystemTime`].
pub(crate) fn instant(
    field: &str,
    value: &Option<prost_types::Timestamp>,
) -> Result<SystemTime, Status> {
    let at = validate::instant(field, value.as_ref())?;
    SystemTime::try_from(at).map_err(|_| invalid(field, "out of range"))
}

/// A required id field of a request, recorded on the RPC's span as `field`.
pub(crate) fn traced_uuid(field: &str, value: &str) -> Result<Uuid, Status> {
    let id = validate::id(field, value)?;
    Span::current().record(field, tracing::field::display(&id));
    Ok(id)
}

/// The id of a new aggregate of `category` created by `ctx`'s request (the
/// same for a retry of that request), recorded on the RPC's span as `field`.
pub(crate) fn creation_id(
    service: &EngagementService,
    category: &str,
    field: &str,
    ctx: &RequestContext,
) -> Result<Uuid, Status> {
    let id = service
        .ids
        .id_for(category, &ctx.principal.name, &ctx.request_id)
        .map_err(|error| ServiceError::internal(format!("creation ids: {error}")))?;
    Span::current().record(field, tracing::field::display(&id));
    Ok(id)
}

/// An engagement aggregate as the handlers run it: its stream category, and
/// domain refusals that read for the caller as their [`Refusal`] says. Each
/// handler file implements both for its aggregate.
pub(crate) trait Aggregate: Decider<Error: Refusal> {
    /// The category of its streams.
    const CATEGORY: &'static str;
}

/// Runs `command` on the aggregate `id` for `ctx`'s request (its ids recorded
/// with the events) and replies with the aggregate's new version and the
/// position of its last event.
pub(crate) async fn run<D: Aggregate>(
    aggregates: &Aggregates<D>,
    id: &Uuid,
    command: impl Into<D::Command>,
    expected: Option<u64>,
    ctx: &RequestContext,
) -> Result<Response<pb::CommandReply>, Status> {
    let handled = aggregates
        .handle(
            &stream_id(D::CATEGORY, id),
            &command.into(),
            expected,
            &ctx.metadata(),
        )
        .await
        .map_err(|error| command_error(error, id))?;
    Ok(Response::new(command_reply(id, &handled)))
}

/// The version and state of the aggregate `id` (version 0 and the default
/// state when it has no event).
pub(crate) fn load<D: Aggregate>(
    aggregates: &Aggregates<D>,
    id: &Uuid,
) -> Result<(u64, D::State), Status> {
    aggregates
        .load(&stream_id(D::CATEGORY, id))
        .map_err(|error| command_error(error, id).into())
}

/// Maps errors of the key vault (sealing or opening notes).
pub(crate) fn vault_error(error: maillage_privacy::PrivacyError) -> Status {
    match error {
        maillage_privacy::PrivacyError::Erased { .. } => {
            ServiceError::failed_precondition("the notes' subject was erased").into()
        }
        other => ServiceError::internal(format!("key vault: {other}")).into(),
    }
}

/// Seals `notes` under `subject`'s key, field `notes` (empty notes stay
/// empty, and no key is made for them).
pub(crate) fn seal_notes(
    service: &EngagementService,
    subject: &SubjectId,
    notes: &str,
) -> Result<Vec<u8>, Status> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    service
        .vault
        .seal_str(subject, "notes", notes)
        .map_err(vault_error)
}

/// Notes sealed by [`seal_notes`], as `disclosure` allows: (clear text,
/// erased, opened). Only [`Disclosure::Full`] opens them; for any other
/// reader they are left empty (and `erased` still says whether the key is
/// gone). `opened`: text was opened from the vault (the read is journalled).
pub(crate) fn disclosed_notes(
    service: &EngagementService,
    disclosure: Disclosure,
    subject: &SubjectId,
    sealed: &[u8],
) -> Result<(String, bool, bool), Status> {
    if !disclosure.is_full() {
        let erased = !sealed.is_empty() && service.vault.is_erased(subject).map_err(vault_error)?;
        return Ok((String::new(), erased, false));
    }
    let (notes, erased) = open_notes(service, subject, sealed)?;
    Ok((notes, erased, !sealed.is_empty() && !erased))
}

/// The reader of a read (checked against [`READERS`]): who, for what purpose,
/// and what they may see.
pub(crate) fn purposed_reader<T>(request: &Request<T>) -> Result<Reader, Status> {
    Reader::admit(request, READERS)
}

/// Opens notes sealed by [`seal_notes`]: (clear text, erased).
pub(crate) fn open_notes(
    service: &EngagementService,
    subject: &SubjectId,
    sealed: &[u8],
) -> Result<(String, bool), Status> {
    if sealed.is_empty() {
        return Ok((String::new(), false));
    }
    match service
        .vault
        .open_str(subject, "notes", sealed)
        .map_err(vault_error)?
    {
        Opened::Clear(notes) => Ok((notes, false)),
        Opened::Erased => Ok((String::new(), true)),
    }
}

#[tonic::async_trait]
impl Engagement for EngagementService {
    async fn export_person_data(
        &self,
        request: Request<pb::ExportPersonFactsRequest>,
    ) -> Result<Response<pb::EngagementPersonData>, Status> {
        self.handle_export_person_data(request).await
    }

    async fn plan_action(
        &self,
        request: Request<pb::PlanActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_plan_action(request).await
    }

    async fn schedule_action(
        &self,
        request: Request<pb::ScheduleActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_schedule_action(request).await
    }

    async fn reschedule_action(
        &self,
        request: Request<pb::RescheduleActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_reschedule_action(request).await
    }

    async fn invite_to_action(
        &self,
        request: Request<pb::InviteToActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_invite_to_action(request).await
    }

    async fn record_invitation_answer(
        &self,
        request: Request<pb::RecordInvitationAnswerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_invitation_answer(request).await
    }

    async fn record_attendance(
        &self,
        request: Request<pb::RecordAttendanceRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_attendance(request).await
    }

    async fn mark_action_held(
        &self,
        request: Request<pb::MarkActionHeldRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_mark_action_held(request).await
    }

    async fn publish_minutes(
        &self,
        request: Request<pb::PublishMinutesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_publish_minutes(request).await
    }

    async fn record_outcomes(
        &self,
        request: Request<pb::RecordOutcomesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_outcomes(request).await
    }

    async fn cancel_action(
        &self,
        request: Request<pb::CancelActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_cancel_action(request).await
    }

    async fn get_action(
        &self,
        request: Request<pb::GetActionRequest>,
    ) -> Result<Response<pb::ActionView>, Status> {
        self.handle_get_action(request).await
    }

    async fn draft_survey(
        &self,
        request: Request<pb::DraftSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_draft_survey(request).await
    }

    async fn revise_survey_questions(
        &self,
        request: Request<pb::ReviseSurveyQuestionsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_revise_survey_questions(request).await
    }

    async fn open_survey(
        &self,
        request: Request<pb::OpenSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_open_survey(request).await
    }

    async fn submit_survey_response(
        &self,
        request: Request<pb::SubmitSurveyResponseRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_submit_survey_response(request).await
    }

    async fn close_survey(
        &self,
        request: Request<pb::CloseSurveyRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_close_survey(request).await
    }

    async fn get_survey(
        &self,
        request: Request<pb::GetSurveyRequest>,
    ) -> Result<Response<pb::SurveyView>, Status> {
        self.handle_get_survey(request).await
    }

    async fn list_survey_text_answers(
        &self,
        request: Request<pb::SurveyTextAnswersRequest>,
    ) -> Result<Response<pb::SurveyTextAnswers>, Status> {
        self.handle_list_survey_text_answers(request).await
    }

    async fn record_interview(
        &self,
        request: Request<pb::RecordInterviewRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_interview(request).await
    }

    async fn revise_interview_notes(
        &self,
        request: Request<pb::ReviseInterviewNotesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_revise_interview_notes(request).await
    }

    async fn recode_interview(
        &self,
        request: Request<pb::RecodeInterviewRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_recode_interview(request).await
    }

    async fn get_interview(
        &self,
        request: Request<pb::GetInterviewRequest>,
    ) -> Result<Response<pb::InterviewView>, Status> {
        self.handle_get_interview(request).await
    }

    async fn record_diagnostic(
        &self,
        request: Request<pb::RecordDiagnosticRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_diagnostic(request).await
    }

    async fn revise_diagnostic(
        &self,
        request: Request<pb::ReviseDiagnosticRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_revise_diagnostic(request).await
    }

    async fn get_diagnostic(
        &self,
        request: Request<pb::GetDiagnosticRequest>,
    ) -> Result<Response<pb::DiagnosticView>, Status> {
        self.handle_get_diagnostic(request).await
    }

    async fn define_programme_axis(
        &self,
        request: Request<pb::DefineProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_define_programme_axis(request).await
    }

    async fn rename_programme_axis(
        &self,
        request: Request<pb::RenameProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_rename_programme_axis(request).await
    }

    async fn reorder_programme_axes(
        &self,
        request: Request<pb::ReorderProgrammeAxesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_reorder_programme_axes(request).await
    }

    async fn retire_programme_axis(
        &self,
        request: Request<pb::RetireProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_retire_programme_axis(request).await
    }

    async fn designate_programme_officer(
        &self,
        request: Request<pb::DesignateProgrammeOfficerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_designate_programme_officer(request).await
    }

    async fn revoke_programme_officer(
        &self,
        request: Request<pb::RevokeProgrammeOfficerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_revoke_programme_officer(request).await
    }

    async fn record_concertation(
        &self,
        request: Request<pb::RecordConcertationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_concertation(request).await
    }

    async fn list_concertations(
        &self,
        request: Request<pb::ListConcertationsRequest>,
    ) -> Result<Response<pb::ConcertationList>, Status> {
        self.handle_list_concertations(request).await
    }

    async fn set_programme_objective(
        &self,
        request: Request<pb::SetProgrammeObjectiveRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_set_programme_objective(request).await
    }

    async fn withdraw_programme_objective(
        &self,
        request: Request<pb::WithdrawProgrammeObjectiveRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_withdraw_programme_objective(request).await
    }

    async fn define_programme_mission(
        &self,
        request: Request<pb::DefineProgrammeMissionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_define_programme_mission(request).await
    }

    async fn add_mission_deliverable(
        &self,
        request: Request<pb::AddMissionDeliverableRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_add_mission_deliverable(request).await
    }

    async fn deliver_mission_deliverable(
        &self,
        request: Request<pb::DeliverMissionDeliverableRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_deliver_mission_deliverable(request).await
    }

    async fn approve_action(
        &self,
        request: Request<pb::ApproveActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_approve_action(request).await
    }

    async fn send_back_action(
        &self,
        request: Request<pb::SendBackActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_send_back_action(request).await
    }

    async fn define_code(
        &self,
        request: Request<pb::DefineCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_define_code(request).await
    }

    async fn relabel_code(
        &self,
        request: Request<pb::RelabelCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_relabel_code(request).await
    }

    async fn retire_code(
        &self,
        request: Request<pb::RetireCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_retire_code(request).await
    }

    async fn get_codebook(
        &self,
        request: Request<pb::GetCodebookRequest>,
    ) -> Result<Response<pb::CodebookView>, Status> {
        self.handle_get_codebook(request).await
    }

    async fn record_lesson(
        &self,
        request: Request<pb::RecordLessonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_lesson(request).await
    }

    async fn withdraw_lesson(
        &self,
        request: Request<pb::WithdrawLessonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_withdraw_lesson(request).await
    }

    async fn get_lesson(
        &self,
        request: Request<pb::GetLessonRequest>,
    ) -> Result<Response<pb::LessonView>, Status> {
        self.handle_get_lesson(request).await
    }

    async fn record_foresight_outputs(
        &self,
        request: Request<pb::RecordForesightOutputsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_foresight_outputs(request).await
    }

    async fn get_foresight_outputs(
        &self,
        request: Request<pb::GetForesightOutputsRequest>,
    ) -> Result<Response<pb::ForesightOutputsView>, Status> {
        self.handle_get_foresight_outputs(request).await
    }

    async fn get_programme(
        &self,
        request: Request<pb::GetProgrammeRequest>,
    ) -> Result<Response<pb::ProgrammeView>, Status> {
        self.handle_get_programme(request).await
    }
}
