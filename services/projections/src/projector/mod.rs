//! The projector: folds one event into the read-model tables. Pure (no I/O,
//! no clock): what it writes depends only on the event and on rows of the
//! event's own context (see [`crate::model`] for why that makes the read
//! models converge whatever the interleaving of the contexts).
//!
//! One file per context; each handler reads one payload type.

mod codebook;
mod engagement;
mod governance;
mod lesson;
mod stakeholders;

use maillage_proto::v1::EventEnvelope;

use crate::model::{Applied, ReadModel};
use crate::time;

/// The event being projected, with what every handler needs from its envelope.
pub(crate) struct Event<'a> {
    pub envelope: &'a EventEnvelope,
    /// When the log recorded it (µs since the epoch; 0 if the envelope has none).
    pub at: i64,
    /// The principal that caused it (metadata actor).
    pub actor: &'a str,
}

/// Decodes the payload as the first matching type and runs its handler.
macro_rules! dispatch {
    ($model:expr, $event:expr, { $($ty:ident => $handler:path),* $(,)? }) => {{
        let envelope = $event.envelope;
        let name = envelope.event_type.strip_prefix("maillage.v1.").unwrap_or("");
        $(
            if name == <maillage_proto::v1::$ty as prost::Name>::NAME {
                return match <maillage_proto::v1::$ty as prost::Message>::decode(
                    envelope.payload.as_slice(),
                ) {
                    Ok(payload) => {
                        $handler($model, &$event, payload);
                        Applied::Applied
                    }
                    Err(error) => {
                        Applied::Undecodable(format!(
                            "{} at position {} of {}: {error}",
                            envelope.event_type, envelope.position, envelope.context
                        ))
                    }
                };
            }
        )*
    }};
}

/// Folds `envelope` into `model` (the checkpoint is the caller's business).
pub(crate) fn project(model: &mut ReadModel, envelope: &EventEnvelope) -> Applied {
    let event = Event {
        envelope,
        at: envelope.recorded_at.as_ref().map(time::micros).unwrap_or(0),
        actor: envelope
            .metadata
            .as_ref()
            .map(|metadata| metadata.actor.as_str())
            .unwrap_or(""),
    };
    dispatch!(model, event, {
        PersonRegistered => stakeholders::person_registered,
        PersonProfileUpdated => stakeholders::person_profile_updated,
        OrganisationRegistered => stakeholders::organisation_registered,
        OrganisationProfileUpdated => stakeholders::organisation_profile_updated,
        MandateStarted => stakeholders::mandate_started,
        MandateEnded => stakeholders::mandate_ended,
        StakeholderArchived => stakeholders::archived,
        StakeholderAssessed => stakeholders::assessed,
        PersonErased => stakeholders::person_erased,
        InteractionLogged => stakeholders::interaction_logged,
        InteractionCorrected => stakeholders::interaction_corrected,
        FollowUpCompleted => stakeholders::follow_up_completed,
        FollowUpReassigned => stakeholders::follow_up_reassigned,

        ActionPlanned => engagement::action_planned,
        ActionScheduled => engagement::action_scheduled,
        ActionRescheduled => engagement::action_rescheduled,
        ActionInvitationsSent => engagement::invitations_sent,
        ActionInvitationAnswered => engagement::invitation_answered,
        ActionAttendanceRecorded => engagement::attendance_recorded,
        ActionHeld => engagement::action_held,
        ActionMinutesPublished => engagement::minutes_published,
        ActionOutcomesRecorded => engagement::outcomes_recorded,
        ActionCancelled => engagement::action_cancelled,
        SurveyDrafted => engagement::survey_drafted,
        SurveyQuestionsRevised => engagement::survey_questions_revised,
        SurveyOpened => engagement::survey_opened,
        SurveyResponseSubmitted => engagement::survey_response_submitted,
        SurveyClosed => engagement::survey_closed,
        InterviewRecorded => engagement::interview_recorded,
        InterviewRecoded => engagement::interview_recoded,
        DiagnosticRecorded => engagement::diagnostic_recorded,
        DiagnosticRevised => engagement::diagnostic_revised,
        CodebookCodeDefined => codebook::code_defined,
        CodebookCodeRelabelled => codebook::code_relabelled,
        CodebookCodeRetired => codebook::code_retired,
        LessonRecorded => lesson::lesson_recorded,
        LessonWithdrawn => lesson::lesson_withdrawn,

        ConsortiumFounded => governance::consortium_founded,
        CollegeDefined => governance::college_defined,
        BodyEstablished => governance::body_established,
        MembershipApplied => governance::membership_applied,
        MemberAdmitted => governance::member_admitted,
        MembershipRefused => governance::membership_refused,
        MemberWithdrawn => governance::member_withdrawn,
        RepresentativeAppointed => governance::representative_appointed,
        MeetingConvened => governance::meeting_convened,
        MeetingAttendanceRecorded => governance::meeting_attendance_recorded,
        ResolutionTabled => governance::resolution_tabled,
        VoteRecorded => governance::vote_recorded,
        ResolutionVoteClosed => governance::vote_closed,
        MeetingMinutesApproved => governance::minutes_approved,
        CommitmentMade => governance::commitment_made,
        CommitmentProgressReported => governance::commitment_progress,
        CommitmentCompleted => governance::commitment_completed,
        CommitmentDropped => governance::commitment_dropped,
    });
    Applied::Ignored
}

/// The timeline key of a fact about `stakeholder_id`: its instant, context and
/// log position make it unique and sort the timeline.
pub(crate) fn timeline_key(stakeholder_id: &str, at: i64, context: &str, position: u64) -> String {
    use std::fmt::Write as _;
    // Flipping the sign bit orders negative instants before positive ones.
    let ordered = (at as u64) ^ (1 << 63);
    // Sized for its final length (and a `/kind` suffix): one allocation.
    let mut key = String::with_capacity(stakeholder_id.len() + context.len() + 3 * 21 + 32);
    // Writing into a `String` cannot fail.
    let _ = write!(
        key,
        "{stakeholder_id}/{ordered:020}/{context}/{position:020}"
    );
    key
}

/// Records a timeline fact about `stakeholder_id` (ignored when the id is empty).
pub(crate) fn add_timeline(
    model: &mut ReadModel,
    event: &Event<'_>,
    stakeholder_id: &str,
    at: i64,
    kind: &str,
    reference_id: &str,
    detail: String,
) {
    if stakeholder_id.is_empty() {
        return;
    }
    let key = timeline_key(
        stakeholder_id,
        at,
        &event.envelope.context,
        event.envelope.position,
    );
    let row = crate::model::TimelineRow {
        at,
        kind: kind.to_owned(),
        context: event.envelope.context.clone(),
        reference_id: reference_id.to_owned(),
        detail,
        actor: event.actor.to_owned(),
    };
    // Two facts of one event about one stakeholder (e.g. a vote as member and
    // as proxy holder) get distinct keys by kind.
    let mut key = key;
    if model.timeline.contains(&key) {
        key.push('/');
        key.push_str(kind);
    }
    model.timeline.put(key, row);
}
