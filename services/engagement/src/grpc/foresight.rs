//! Foresight RPCs: record the outputs of a foresight workshop (scenarios with
//! a horizon, signals, recommendations) and read them. The workshop is an
//! action of this log of kind `ACTION_KIND_FORESIGHT_WORKSHOP`, read from its
//! command loop: whether it was held goes into the command.

use maillage_es::stream_id;
use maillage_proto::v1::{self as pb, ActionKind, ActionStatus};
use maillage_service_kit::{command_error, validate, Refusal, RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    invalid, load, reader, run, statements, traced_uuid, Aggregate, MAX_DESCRIPTION, MAX_ITEMS,
    MAX_TITLE, WRITERS,
};
use crate::category::{ACTION, FORESIGHT};
use crate::domain::foresight::{Command, Error, Foresight, Outputs};
use crate::EngagementService;

/// The years a scenario's horizon may name.
const HORIZONS: std::ops::RangeInclusive<u32> = 2000..=2200;

impl Aggregate for Foresight {
    const CATEGORY: &'static str = FORESIGHT;
}

impl Refusal for Error {
    fn service_error(self, _id: &Uuid) -> ServiceError {
        match self {
            Error::NotHeld => ServiceError::failed_precondition(self.to_string()),
            Error::Empty => ServiceError::invalid_argument("scenarios", self.to_string()),
        }
    }
}

/// Validated scenarios: a title, a horizon in [`HORIZONS`], a narrative.
fn scenarios(values: &[pb::ForesightScenario]) -> Result<Vec<pb::ForesightScenario>, Status> {
    if values.len() > MAX_ITEMS {
        return Err(invalid("scenarios", format!("at most {MAX_ITEMS}")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, scenario)| {
            let field = |name: &str| format!("scenarios[{i}].{name}");
            if !HORIZONS.contains(&scenario.horizon_year) {
                return Err(invalid(
                    field("horizon_year"),
                    format!("a year from {} to {}", HORIZONS.start(), HORIZONS.end()),
                ));
            }
            Ok(pb::ForesightScenario {
                title: validate::required_text(&field("title"), &scenario.title, MAX_TITLE)?,
                horizon_year: scenario.horizon_year,
                narrative: validate::optional_text(
                    &field("narrative"),
                    &scenario.narrative,
                    MAX_DESCRIPTION,
                )?,
            })
        })
        .collect()
}

impl EngagementService {
    #[tracing::instrument(name = "RecordForesightOutputs", skip_all, fields(action_id))]
    pub(super) async fn handle_record_foresight_outputs(
        &self,
        request: Request<pb::RecordForesightOutputsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let action_id = traced_uuid("action_id", &r.action_id)?;
        let scenarios = scenarios(&r.scenarios)?;
        let signals = statements("signals", &r.signals)?;
        let recommendations = statements("recommendations", &r.recommendations)?;
        let (kind, status) = self
            .actions
            .inspect(&stream_id(ACTION, &action_id), |_, action| {
                (action.planned.as_ref().map(|p| p.kind), action.status)
            })
            .map_err(|error| command_error(error, &action_id))?;
        let Some(kind) = kind else {
            return Err(ServiceError::not_found("action", action_id.to_string()).into());
        };
        if kind != ActionKind::ForesightWorkshop as i32 {
            return Err(invalid("action_id", "not a foresight workshop"));
        }
        let command = Command::Record(Outputs {
            action_id,
            held: matches!(status, ActionStatus::Held | ActionStatus::Reported),
            scenarios,
            signals,
            recommendations,
            recorded_by: ctx.principal.name.clone(),
            now: self.clock.now(),
        });
        run(
            &self.foresight,
            &action_id,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "GetForesightOutputs", skip_all, fields(action_id))]
    pub(super) async fn handle_get_foresight_outputs(
        &self,
        request: Request<pb::GetForesightOutputsRequest>,
    ) -> Result<Response<pb::ForesightOutputsView>, Status> {
        reader(&request)?;
        let id = traced_uuid("action_id", &request.get_ref().action_id)?;
        let (version, state) = load(&self.foresight, &id)?;
        let Some(recorded) = state.recorded else {
            return Err(
                ServiceError::not_found("foresight outputs of action", id.to_string()).into(),
            );
        };
        Ok(Response::new(pb::ForesightOutputsView {
            action_id: recorded.action_id,
            version,
            scenarios: recorded.scenarios,
            signals: recorded.signals,
            recommendations: recorded.recommendations,
            recorded_by: recorded.recorded_by,
            recorded_at: recorded.recorded_at,
        }))
    }
}
