//! Programme plan RPCs: set and withdraw the objectives of the axes, define
//! the missions of the contract, add their deliverables and record their
//! delivery. Each request is checked for form here (the field named); the
//! Programme decider applies the rules (`domain/programme_plan.rs`).
//!
//! Writers are engagement's (facilitator or admin), as for the axes.

use maillage_proto::v1 as pb;
use maillage_service_kit::{validate, RequestContext};
use tonic::{Request, Response, Status};

use super::{
    creation_id, instant, invalid, run, traced_uuid, MAX_DESCRIPTION, MAX_STATEMENT, MAX_TITLE,
    WRITERS,
};
use crate::domain::programme::{Command, PROGRAMME_ID};
use crate::domain::programme_plan::{Objective, PlanCommand};
use crate::EngagementService;

/// The category of new objectives' creation ids.
const OBJECTIVE: &str = "objective";
/// The category of new missions' creation ids.
const MISSION: &str = "mission";
/// The category of new deliverables' creation ids.
const DELIVERABLE: &str = "deliverable";

/// The largest count an objective may aim at.
const MAX_TARGET: u32 = 100_000;

/// The measure, target and filters of an objective request, checked
/// together: `every_commune` only with COMMUNES_REACHED (and then no
/// `target`); otherwise a target of 1 to [`MAX_TARGET`]; filters of actions
/// only on the measures that count actions.
fn aim(
    r: &pb::SetProgrammeObjectiveRequest,
) -> Result<
    (
        pb::ObjectiveMeasure,
        Vec<pb::ActionKind>,
        Vec<pb::EngagementAudience>,
    ),
    Status,
> {
    let measure: pb::ObjectiveMeasure = validate::enum_value("measure", r.measure)?;
    let action_kinds = validate::enum_values("action_kinds", &r.action_kinds, false)?;
    let audiences = validate::enum_values("audiences", &r.audiences, false)?;
    let counts_people = matches!(
        measure,
        pb::ObjectiveMeasure::Interviews | pb::ObjectiveMeasure::SurveyResponses
    );
    let filtered = !action_kinds.is_empty() || !audiences.is_empty();
    if counts_people && filtered {
        return Err(invalid(
            if action_kinds.is_empty() {
                "audiences"
            } else {
                "action_kinds"
            },
            format!(
                "filters actions: not with the measure {}",
                measure
                    .as_str_name()
                    .trim_start_matches("OBJECTIVE_MEASURE_")
            ),
        ));
    }
    match (r.every_commune, measure) {
        (true, pb::ObjectiveMeasure::CommunesReached) if r.target != 0 => Err(invalid(
            "target",
            "must be 0 when the target is every commune",
        )),
        (true, pb::ObjectiveMeasure::CommunesReached) => Ok(()),
        (true, _) => Err(invalid(
            "every_commune",
            "only with the measure COMMUNES_REACHED",
        )),
        (false, _) if !(1..=MAX_TARGET).contains(&r.target) => Err(invalid(
            "target",
            format!("must be 1 to {MAX_TARGET} (or every_commune)"),
        )),
        (false, _) => Ok(()),
    }?;
    Ok((measure, action_kinds, audiences))
}

impl EngagementService {
    #[tracing::instrument(name = "SetProgrammeObjective", skip_all, fields(objective_id))]
    pub(super) async fn handle_set_programme_objective(
        &self,
        request: Request<pb::SetProgrammeObjectiveRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let axis = validate::id("axis_id", &r.axis_id)?;
        let label = validate::required_line("label", &r.label, MAX_TITLE)?;
        let (measure, action_kinds, audiences) = aim(r)?;
        let due_at = instant("due_at", &r.due_at)?;
        let replaces = !r.objective_id.is_empty();
        let id = match replaces {
            true => traced_uuid("objective_id", &r.objective_id)?,
            false => creation_id(self, OBJECTIVE, "objective_id", &ctx)?,
        };
        let command = Command::Plan(PlanCommand::SetObjective {
            objective: Objective {
                id,
                axis,
                label,
                measure,
                action_kinds,
                audiences,
                target: r.target,
                every_commune: r.every_commune,
                due_at,
                withdrawn: None,
            },
            replaces,
            actor: ctx.principal.name.clone(),
        });
        let mut reply = run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names the objective set.
        reply.get_mut().id = id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(name = "WithdrawProgrammeObjective", skip_all, fields(objective_id))]
    pub(super) async fn handle_withdraw_programme_objective(
        &self,
        request: Request<pb::WithdrawProgrammeObjectiveRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let command = Command::Plan(PlanCommand::WithdrawObjective {
            objective_id: traced_uuid("objective_id", &r.objective_id)?,
            reason: validate::required_text("reason", &r.reason, MAX_STATEMENT)?,
        });
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "DefineProgrammeMission", skip_all, fields(mission_id))]
    pub(super) async fn handle_define_programme_mission(
        &self,
        request: Request<pb::DefineProgrammeMissionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let name = validate::required_line("name", &r.name, MAX_TITLE)?;
        let description = validate::optional_text("description", &r.description, MAX_DESCRIPTION)?;
        let mission_id = creation_id(self, MISSION, "mission_id", &ctx)?;
        let command = Command::Plan(PlanCommand::DefineMission {
            mission_id,
            name,
            description,
            actor: ctx.principal.name.clone(),
        });
        let mut reply = run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names what was created: the mission.
        reply.get_mut().id = mission_id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(
        name = "AddMissionDeliverable",
        skip_all,
        fields(mission_id, deliverable_id)
    )]
    pub(super) async fn handle_add_mission_deliverable(
        &self,
        request: Request<pb::AddMissionDeliverableRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let mission_id = traced_uuid("mission_id", &r.mission_id)?;
        let label = validate::required_line("label", &r.label, MAX_TITLE)?;
        let due_at = instant("due_at", &r.due_at)?;
        let deliverable_id = creation_id(self, DELIVERABLE, "deliverable_id", &ctx)?;
        let command = Command::Plan(PlanCommand::AddDeliverable {
            mission_id,
            deliverable_id,
            label,
            due_at,
        });
        let mut reply = run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names what was created: the deliverable.
        reply.get_mut().id = deliverable_id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(name = "DeliverMissionDeliverable", skip_all, fields(deliverable_id))]
    pub(super) async fn handle_deliver_mission_deliverable(
        &self,
        request: Request<pb::DeliverMissionDeliverableRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let deliverable_id = traced_uuid("deliverable_id", &r.deliverable_id)?;
        let delivered_at = instant("delivered_at", &r.delivered_at)?;
        if delivered_at > self.clock.now() {
            return Err(invalid("delivered_at", "is in the future"));
        }
        let reference = validate::optional_text("reference", &r.reference, MAX_STATEMENT)?;
        let command = Command::Plan(PlanCommand::Deliver {
            deliverable_id,
            delivered_at,
            reference,
            actor: ctx.principal.name.clone(),
        });
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }
}
