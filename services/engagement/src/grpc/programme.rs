//! Programme RPCs: define, rename, reorder and retire the collectivité's axes,
//! designate and revoke its officers, read the programme; the facts the
//! approval of actions needs ([`has_officer_for`], [`designated`]); and
//! [`axes`], the check of the `axis_ids` that actions,
//! surveys and interviews are tagged with (each an axis of the programme in
//! use, read from the programme's command loop before the tagged command runs).
//!
//! Writers are engagement's (facilitator or admin): the accompanying team
//! records the axes the collectivité decided, and each event says who did.
//!
//! An officer may be linked to the person they are in the register
//! (`stakeholder_id`, checked against the register replica). Erasing that
//! person neutralises the link: the read shows it no more
//! (`stakeholder_erased`), whatever the log keeps.

use maillage_es::stream_id;
use maillage_proto::v1 as pb;
use maillage_replica::Expected;
use maillage_service_kit::{command_error, validate, Refusal, RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    creation_id, instant, invalid, load, reader, references, run, traced_uuid, Aggregate,
    MAX_DESCRIPTION, MAX_STATEMENT, MAX_TITLE, WRITERS,
};
use crate::category::PROGRAMME;
use crate::domain::programme::{Command, Error, Officer, Programme, MAX_AXES, PROGRAMME_ID};
use crate::domain::programme_plan::{Mission, Objective};
use crate::domain::timestamp;
use crate::EngagementService;

/// The category of new axes' creation ids.
const AXIS: &str = "axis";

impl Aggregate for Programme {
    const CATEGORY: &'static str = PROGRAMME;
}

impl Refusal for Error {
    fn service_error(self, _id: &Uuid) -> ServiceError {
        match self {
            Error::UnknownAxis(axis) => ServiceError::not_found("axis", axis.to_string()),
            Error::AxisExists(axis) => ServiceError::already_exists("axis", axis.to_string()),
            Error::NameTaken(name) => ServiceError::already_exists("axis named", name),
            Error::NotAPermutation(message) => ServiceError::invalid_argument("axis_ids", message),
            Error::NotDesignated(principal) => {
                ServiceError::not_found("officer designation of", principal)
            }
            Error::UnknownObjective(id) => ServiceError::not_found("objective", id.to_string()),
            Error::ObjectiveExists(id) => ServiceError::already_exists("objective", id.to_string()),
            Error::MissionExists(id) => ServiceError::already_exists("mission", id.to_string()),
            Error::MissionNameTaken(name) => ServiceError::already_exists("mission named", name),
            Error::UnknownMission(id) => ServiceError::not_found("mission", id.to_string()),
            Error::DeliverableExists(id) => {
                ServiceError::already_exists("deliverable", id.to_string())
            }
            Error::UnknownDeliverable(id) => ServiceError::not_found("deliverable", id.to_string()),
            Error::ConcertationExists(id) => {
                ServiceError::already_exists("concertation", id.to_string())
            }
            Error::HeldInTheFuture => ServiceError::invalid_argument("held_at", "is in the future"),
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

/// The axes named by `values` (field `field`): each the id of an axis of
/// the programme in use, none twice; INVALID_ARGUMENT naming `field[i]` otherwise.
pub(crate) fn axes(
    service: &EngagementService,
    field: &str,
    values: &[String],
) -> Result<Vec<Uuid>, Status> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let ids = validate::ids(field, values, MAX_AXES, false)?;
    let unknown = service
        .programme
        .inspect(&stream_id(PROGRAMME, &PROGRAMME_ID), |_, programme| {
            ids.iter()
                .enumerate()
                .find_map(|(i, id)| match programme.axis(id) {
                    None => Some((i, format!("no such axis {id} in the programme"))),
                    Some(axis) if axis.retired.is_some() => {
                        Some((i, format!("axis {id} ({}) is retired", axis.name)))
                    }
                    Some(_) => None,
                })
        })
        .map_err(|error| command_error(error, &PROGRAMME_ID))?;
    match unknown {
        Some((i, message)) => Err(invalid(format!("{field}[{i}]"), message)),
        None => Ok(ids),
    }
}

/// Whether an officer is designated for the whole programme or one of `axes`
/// (a thematic action planned then needs one's approval).
pub(crate) fn has_officer_for(service: &EngagementService, axes: &[Uuid]) -> Result<bool, Status> {
    service
        .programme
        .inspect(&stream_id(PROGRAMME, &PROGRAMME_ID), |_, programme| {
            programme.has_officer_for(axes)
        })
        .map_err(|error| command_error(error, &PROGRAMME_ID).into())
}

/// Whether `principal` is designated for the whole programme or one of `axes`.
pub(crate) fn designated(
    service: &EngagementService,
    principal: &str,
    axes: &[String],
) -> Result<bool, Status> {
    service
        .programme
        .inspect(&stream_id(PROGRAMME, &PROGRAMME_ID), |_, programme| {
            programme.designated(principal, axes)
        })
        .map_err(|error| command_error(error, &PROGRAMME_ID).into())
}

/// A request's designated axis: empty for the whole programme, else an id.
fn officer_axis(value: &str) -> Result<Option<Uuid>, Status> {
    Ok(validate::optional_id("axis_id", value)?)
}

impl EngagementService {
    #[tracing::instrument(name = "DesignateProgrammeOfficer", skip_all)]
    pub(super) async fn handle_designate_programme_officer(
        &self,
        request: Request<pb::DesignateProgrammeOfficerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let now = self.clock.now();
        let from = match r.designated_from {
            None => now,
            Some(_) => instant("designated_from", &r.designated_from)?,
        };
        if from > now {
            return Err(invalid("designated_from", "is in the future"));
        }
        let stakeholder = validate::optional_id("stakeholder_id", &r.stakeholder_id)?;
        let named: Vec<Uuid> = stakeholder.into_iter().collect();
        let (_guards, register) = references(self, &request, &named).await?;
        if let Some(id) = &stakeholder {
            register.expect("stakeholder_id", id, Expected::Person)?;
        }
        let officer = Officer {
            principal: validate::required_text("principal", &r.principal, MAX_TITLE)?,
            axis: officer_axis(&r.axis_id)?,
            title: validate::optional_text("title", &r.title, MAX_TITLE)?,
            designated_by: ctx.principal.name.clone(),
            stakeholder,
            from,
        };
        let command = Command::DesignateOfficer(officer);
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "RevokeProgrammeOfficer", skip_all)]
    pub(super) async fn handle_revoke_programme_officer(
        &self,
        request: Request<pb::RevokeProgrammeOfficerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let command = Command::RevokeOfficer {
            principal: validate::required_text("principal", &r.principal, MAX_TITLE)?,
            axis: officer_axis(&r.axis_id)?,
            now: self.clock.now(),
        };
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

/// A request's `name` and `description` of an axis.
fn naming(name: &str, description: &str) -> Result<(String, String), Status> {
    Ok((
        validate::required_text("name", name, MAX_TITLE)?,
        validate::optional_text("description", description, MAX_DESCRIPTION)?,
    ))
}

impl EngagementService {
    #[tracing::instrument(name = "DefineProgrammeAxis", skip_all, fields(axis_id))]
    pub(super) async fn handle_define_programme_axis(
        &self,
        request: Request<pb::DefineProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let (name, description) = naming(&r.name, &r.description)?;
        let axis_id = creation_id(self, AXIS, "axis_id", &ctx)?;
        let command = Command::DefineAxis {
            axis_id,
            name,
            description,
            actor: ctx.principal.name.clone(),
        };
        let mut reply = run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names what was created: the axis.
        reply.get_mut().id = axis_id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(name = "RenameProgrammeAxis", skip_all, fields(axis_id))]
    pub(super) async fn handle_rename_programme_axis(
        &self,
        request: Request<pb::RenameProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let axis_id = traced_uuid("axis_id", &r.axis_id)?;
        let (name, description) = naming(&r.name, &r.description)?;
        let command = Command::RenameAxis {
            axis_id,
            name,
            description,
        };
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "ReorderProgrammeAxes", skip_all)]
    pub(super) async fn handle_reorder_programme_axes(
        &self,
        request: Request<pb::ReorderProgrammeAxesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let axis_ids = validate::ids("axis_ids", &r.axis_ids, MAX_AXES, false)?;
        let command = Command::ReorderAxes { axis_ids };
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "RetireProgrammeAxis", skip_all, fields(axis_id))]
    pub(super) async fn handle_retire_programme_axis(
        &self,
        request: Request<pb::RetireProgrammeAxisRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let axis_id = traced_uuid("axis_id", &r.axis_id)?;
        let reason = validate::required_text("reason", &r.reason, MAX_STATEMENT)?;
        let command = Command::RetireAxis { axis_id, reason };
        run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "GetProgramme", skip_all)]
    pub(super) async fn handle_get_programme(
        &self,
        request: Request<pb::GetProgrammeRequest>,
    ) -> Result<Response<pb::ProgrammeView>, Status> {
        reader(&request)?;
        let (version, state) = load(&self.programme, &PROGRAMME_ID)?;
        let mut rank = 0;
        let axes = state
            .axes
            .iter()
            .map(|axis| pb::ProgrammeAxis {
                axis_id: axis.id.to_string(),
                name: axis.name.clone(),
                description: axis.description.clone(),
                order: match axis.retired {
                    None => {
                        rank += 1;
                        rank
                    }
                    Some(_) => 0,
                },
                retired: axis.retired.is_some(),
                retirement_reason: axis.retired.clone().unwrap_or_default(),
            })
            .collect();
        let mut officers = Vec::with_capacity(state.officers.len());
        for officer in &state.officers {
            // An erased person's link is neutralised (the register says so).
            let erased = match &officer.stakeholder {
                Some(id) => self.register.get(id)?.is_some_and(|entry| entry.erased),
                None => false,
            };
            officers.push(pb::ProgrammeOfficer {
                principal: officer.principal.clone(),
                axis_id: officer.axis.map(|a| a.to_string()).unwrap_or_default(),
                title: officer.title.clone(),
                stakeholder_id: match (erased, officer.stakeholder) {
                    (false, Some(id)) => id.to_string(),
                    _ => String::new(),
                },
                stakeholder_erased: erased,
                designated_from: Some(timestamp(officer.from)),
            });
        }
        Ok(Response::new(pb::ProgrammeView {
            version,
            axes,
            officers,
            objectives: state.objectives.iter().map(objective_view).collect(),
            missions: state.missions.iter().map(mission_view).collect(),
        }))
    }
}

/// An objective as the API shows it.
fn objective_view(objective: &Objective) -> pb::ProgrammeObjective {
    pb::ProgrammeObjective {
        objective_id: objective.id.to_string(),
        axis_id: objective.axis.to_string(),
        label: objective.label.clone(),
        measure: objective.measure.into(),
        action_kinds: objective.action_kinds.iter().map(|k| *k as i32).collect(),
        audiences: objective.audiences.iter().map(|a| *a as i32).collect(),
        target: objective.target,
        every_commune: objective.every_commune,
        due_at: Some(timestamp(objective.due_at)),
        withdrawn: objective.withdrawn.is_some(),
        withdrawal_reason: objective.withdrawn.clone().unwrap_or_default(),
    }
}

/// A mission and its deliverables as the API shows them.
fn mission_view(mission: &Mission) -> pb::ProgrammeMission {
    pb::ProgrammeMission {
        mission_id: mission.id.to_string(),
        name: mission.name.clone(),
        description: mission.description.clone(),
        deliverables: mission
            .deliverables
            .iter()
            .map(|deliverable| pb::MissionDeliverable {
                deliverable_id: deliverable.id.to_string(),
                label: deliverable.label.clone(),
                due_at: Some(timestamp(deliverable.due_at)),
                delivered_at: deliverable.delivered.as_ref().map(|(at, _)| timestamp(*at)),
                reference: deliverable
                    .delivered
                    .as_ref()
                    .map(|(_, reference)| reference.clone())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}
