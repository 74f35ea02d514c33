//! Approval RPCs: a designated officer approves a proposed thematic action, or
//! sends it back with a reason. Whether the caller is designated for the
//! programme or one of the action's axes is read from the programme and
//! passed in the command; the Action decider applies the rule (not
//! designated: PERMISSION_DENIED, nothing written).

use maillage_es::stream_id;
use maillage_proto::v1 as pb;
use maillage_service_kit::{command_error, validate, RequestContext};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{run, traced_uuid, MAX_STATEMENT, WRITERS};
use crate::category::ACTION;
use crate::domain::action::Change;
use crate::EngagementService;

/// Whether `principal` may decide on the action `id`: designated for the
/// whole programme or one of the action's axes.
fn designated(service: &EngagementService, id: &Uuid, principal: &str) -> Result<bool, Status> {
    let axes = service
        .actions
        .inspect(&stream_id(ACTION, id), |_, action| {
            action
                .planned
                .as_ref()
                .map(|planned| planned.axis_ids.clone())
                .unwrap_or_default()
        })
        .map_err(|error| command_error(error, id))?;
    super::programme::designated(service, principal, &axes)
}

impl EngagementService {
    #[tracing::instrument(name = "ApproveAction", skip_all, fields(action_id))]
    pub(super) async fn handle_approve_action(
        &self,
        request: Request<pb::ApproveActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let note = validate::optional_text("note", &r.note, MAX_STATEMENT)?;
        let command = Change::Approve {
            designated: designated(self, &id, &ctx.principal.name)?,
            by: ctx.principal.name.clone(),
            note,
            now: self.clock.now(),
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "SendBackAction", skip_all, fields(action_id))]
    pub(super) async fn handle_send_back_action(
        &self,
        request: Request<pb::SendBackActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let reason = validate::required_text("reason", &r.reason, MAX_STATEMENT)?;
        let command = Change::SendBack {
            designated: designated(self, &id, &ctx.principal.name)?,
            by: ctx.principal.name.clone(),
            reason,
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }
}
