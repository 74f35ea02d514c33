//! Commitment RPCs: make, report progress, complete, drop, and the commitment view.
//!
//! A commitment's `axis_ids` are checked against the replica of the
//! programme's axes (from the engagement log), once it has reached what the
//! request's `maillage-after: engagement=<position>` asks (`UNAVAILABLE` if
//! it does not within the bound); without the header, an axis the replica
//! has not seen yet is `INVALID_ARGUMENT`, as an unknown one.

use std::sync::Arc;

use maillage_es::stream_id;
use maillage_proto::themes;
use maillage_proto::v1 as pv1;
use maillage_service_kit::command_reply;
use tonic::{Request, Response, Status};
use tracing::field::Empty;
use uuid::Uuid;

use super::{
    authorize_read, derive_id, handle_error, invalid, load_existing, GovernanceService, MAX_NAME,
    MAX_TEXT, WRITERS,
};
use crate::domain::commitment::{
    CommitmentChange, CommitmentCommand, CommitmentState, MakeCommitment, Origin, Status as Stage,
};
use crate::domain::Timestamp;
use maillage_service_kit::{validate, RequestContext};

/// Stream category of commitments.
pub const CATEGORY: &str = "commitment";

impl GovernanceService {
    /// Runs a command on a commitment.
    async fn on_commitment(
        &self,
        commitment_id: &Uuid,
        expected_version: Option<u64>,
        command: impl Into<CommitmentCommand>,
        context: &maillage_service_kit::RequestContext,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let handled = self
            .inner
            .commitments
            .handle(
                &stream_id(CATEGORY, commitment_id),
                &command.into(),
                expected_version,
                &context.metadata(),
            )
            .await
            .map_err(|error| handle_error(error, commitment_id))?;
        Ok(Response::new(command_reply(commitment_id, &handled)))
    }

    #[tracing::instrument(skip_all, fields(commitment_id = Empty, consortium_id = Empty))]
    pub(super) async fn handle_make_commitment(
        &self,
        request: Request<pv1::MakeCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let consortium_id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&consortium_id));
        let title = validate::required_text("title", &message.title, MAX_NAME)?;
        let owner = validate::id("owner_member_id", &message.owner_member_id)?;
        let due_at = validate::instant("due_at", message.due_at.as_ref())?;
        let (theme, topic) = commitment_theme(&message.theme, message.topic)?;
        let origin = match &message.origin {
            None => {
                return Err(invalid(
                    "origin",
                    "a resolution or a roundtable outcome is required",
                ))
            }
            Some(pv1::make_commitment_request::Origin::RoundtableOutcomeId(outcome)) => {
                let outcome = validate::id("roundtable_outcome_id", outcome)?;
                self.outcomes(&request)
                    .await?
                    .expect_roundtable_outcome("roundtable_outcome_id", &outcome)?;
                Origin::RoundtableOutcome(outcome)
            }
            Some(pv1::make_commitment_request::Origin::Resolution(resolution)) => {
                let meeting_id = validate::id("resolution.meeting_id", &resolution.meeting_id)?;
                let resolution_id =
                    validate::id("resolution.resolution_id", &resolution.resolution_id)?;
                let meeting = match self.meeting_snapshot(&meeting_id).await {
                    Ok(meeting) => meeting,
                    Err(status) if status.code() == tonic::Code::NotFound => Default::default(),
                    Err(status) => return Err(status),
                };
                Origin::Resolution {
                    meeting_id,
                    resolution_id,
                    meeting: Arc::new(meeting),
                }
            }
        };
        let axis_ids = if message.axis_ids.is_empty() {
            Vec::new()
        } else {
            self.programme(&request)
                .await?
                .expect_axes("axis_ids", &message.axis_ids)?
        };
        let consortium = Arc::new(self.consortium_snapshot(&consortium_id).await?);
        let id = derive_id(CATEGORY, &context);
        tracing::Span::current().record("commitment_id", id.to_string());
        let command = CommitmentCommand::Make(MakeCommitment {
            commitment_id: id,
            consortium_id,
            consortium,
            title,
            owner_member_id: owner,
            due_at,
            theme,
            topic,
            origin,
            axis_ids,
            now: self.now(),
        });
        self.on_commitment(&id, None, command, &context).await
    }

    #[tracing::instrument(skip_all, fields(commitment_id = Empty))]
    pub(super) async fn handle_report_progress(
        &self,
        request: Request<pv1::ReportCommitmentProgressRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("commitment_id", &message.commitment_id)?;
        tracing::Span::current().record("commitment_id", tracing::field::display(&id));
        if message.percent > 100 {
            return Err(invalid(
                "percent",
                format!("must be 0 to 100, got {}", message.percent),
            ));
        }
        let note = validate::optional_text("note", &message.note, MAX_TEXT)?;
        let command = CommitmentChange::ReportProgress {
            percent: message.percent,
            note,
            now: self.now(),
        };
        self.on_commitment(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(commitment_id = Empty))]
    pub(super) async fn handle_complete_commitment(
        &self,
        request: Request<pv1::CompleteCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("commitment_id", &message.commitment_id)?;
        tracing::Span::current().record("commitment_id", tracing::field::display(&id));
        let command = CommitmentChange::Complete { now: self.now() };
        self.on_commitment(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(commitment_id = Empty))]
    pub(super) async fn handle_drop_commitment(
        &self,
        request: Request<pv1::DropCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("commitment_id", &message.commitment_id)?;
        tracing::Span::current().record("commitment_id", tracing::field::display(&id));
        let reason = validate::required_text("reason", &message.reason, MAX_TEXT)?;
        let command = CommitmentChange::Drop {
            reason,
            now: self.now(),
        };
        self.on_commitment(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(commitment_id = Empty))]
    pub(super) async fn handle_get_commitment(
        &self,
        request: Request<pv1::GetCommitmentRequest>,
    ) -> Result<Response<pv1::CommitmentView>, Status> {
        authorize_read(&request)?;
        let id = validate::id("commitment_id", &request.get_ref().commitment_id)?;
        tracing::Span::current().record("commitment_id", tracing::field::display(&id));
        let (version, state) = load_existing(
            &self.inner.commitments,
            &stream_id(CATEGORY, &id),
            "commitment",
            &id,
        )?;
        Ok(Response::new(view(&id, version, &state, &self.now())))
    }
}

/// The commitment as its readers see it at `now`.
pub fn view(
    id: &Uuid,
    version: u64,
    state: &CommitmentState,
    now: &Timestamp,
) -> pv1::CommitmentView {
    let made = state.made.clone().unwrap_or_default();
    pv1::CommitmentView {
        commitment_id: id.to_string(),
        version,
        consortium_id: made.consortium_id,
        title: made.title,
        owner_member_id: made.owner_member_id,
        due_at: made.due_at,
        topic: if made.topic == 0 {
            themes::from_label(&made.theme) as i32
        } else {
            made.topic
        },
        theme: made.theme,
        origin: made.origin.map(|origin| match origin {
            pv1::commitment_made::Origin::Resolution(r) => {
                pv1::commitment_view::Origin::Resolution(r)
            }
            pv1::commitment_made::Origin::RoundtableOutcomeId(o) => {
                pv1::commitment_view::Origin::RoundtableOutcomeId(o)
            }
        }),
        status: match state.status {
            Stage::Open => pv1::CommitmentStatus::Open,
            Stage::Completed => pv1::CommitmentStatus::Completed,
            Stage::Dropped => pv1::CommitmentStatus::Dropped,
        } as i32,
        percent: state.percent,
        last_note: state.last_note.clone(),
        overdue: state.is_overdue(now),
        axis_ids: made.axis_ids,
    }
}

/// A commitment's theme: `topic` in the shared vocabulary, labelled by `theme`
/// (its French label when empty); or, from a client written before `topic`, the
/// free-text `theme` alone (required), read as a theme by its label.
fn commitment_theme(label: &str, topic: i32) -> Result<(String, pv1::Theme), Status> {
    let topic = match pv1::Theme::try_from(topic) {
        Ok(pv1::Theme::Unspecified) => None,
        Ok(topic) => Some(topic),
        Err(_) => return Err(invalid("topic", format!("unknown theme {topic}"))),
    };
    match topic {
        Some(topic) if label.trim().is_empty() => Ok((themes::label_fr(topic).to_owned(), topic)),
        Some(topic) => Ok((validate::required_text("theme", label, MAX_NAME)?, topic)),
        None => {
            let label = validate::required_text("theme", label, MAX_NAME)?;
            let topic = themes::from_label(&label);
            Ok((label, topic))
        }
    }
}
