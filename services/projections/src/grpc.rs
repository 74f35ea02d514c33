//! The `maillage.v1.Projections` gRPC service: role checks, request
//! validation, choosing the read model (live, or replayed as of an instant,
//! within the replay limit), then the pure queries of [`crate::queries`],
//! off the async workers ([`crate::heavy`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use maillage_eventstore::Clock;
use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_server::{Projections, ProjectionsServer};
use maillage_service_kit::config::DEFAULT_MAX_REPLAYS;
use maillage_service_kit::{RequestContext, Role, ServiceError};
use maillage_territory::Territory;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::consumer::ConsumerState;
use crate::export;
use crate::heavy::{self, ReplaySlots};
use crate::model::{ReadModel, TABLES};
use crate::projection::LiveProjection;
use crate::queries::{self, audit::AuditScope, Page};
use crate::replay;
use crate::running::RunningReplays;
use crate::snapshot::Tables;
use crate::source::SharedSource;
use crate::time::{opt_micros, system_micros};

/// Roles that read the queries.
const ANALYSTS: [Role; 1] = [Role::Analyst];
/// Roles that read the contact audit.
const AUDITORS: [Role; 1] = [Role::Auditor];
/// Roles that read the working lists (follow-ups, the stakeholder map, the
/// engagement's actions, interviews, diagnostics and surveys with their
/// counts): the facilitators who act on them, and analysts.
const WORK_LIST_READERS: [Role; 2] = [Role::Analyst, Role::Facilitator];
/// "Not contacted lately" in the stakeholder map when the request says 0.
const DEFAULT_QUIET_DAYS: u32 = 60;
/// The longest "lately" a stakeholder map may ask for (ten years).
const MAX_QUIET_DAYS: u32 = 3_650;
/// Roles that read the status.
const STATUS_READERS: [Role; 3] = [Role::Analyst, Role::Auditor, Role::Tool];

/// The gRPC name of the projections service.
pub const SERVICE_NAME: &str =
    <ProjectionsServer<ProjectionsService> as tonic::server::NamedService>::NAME;

/// How long a projections RPC may take before the server ends it (when the
/// server's own request timeout is shorter): a report `as_of` an instant
/// loads a snapshot and replays a tail of the logs, or all of them when no
/// snapshot is at or before the instant — about 2 minutes for a région's
/// 1,000,000 events on a loaded machine (docs/benchmarks.md, "Région-scale
/// run"), more for longer logs. Replays are bounded by their slots
/// ([`heavy`]), not by this limit; the server-wide one, which catches stuck
/// handlers, would only waste them (the replay runs on after the call ends).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The projections service over a live projection and its source logs.
#[derive(Clone)]
pub struct ProjectionsService {
    live: Arc<LiveProjection>,
    sources: Arc<Vec<SharedSource>>,
    clock: Arc<dyn Clock>,
    territory: &'static Territory,
    replays: ReplaySlots,
    running: RunningReplays,
}

impl ProjectionsService {
    /// A service answering from `live`, replaying `sources` for `as_of`
    /// queries and rebuilds, judging "overdue" by `clock`.
    pub fn new(
        live: Arc<LiveProjection>,
        sources: Vec<SharedSource>,
        clock: Arc<dyn Clock>,
        territory: &'static Territory,
    ) -> Self {
        Self {
            live,
            sources: Arc::new(sources),
            clock,
            territory,
            replays: ReplaySlots::new(DEFAULT_MAX_REPLAYS as usize),
            running: RunningReplays::default(),
        }
    }

    /// At most `limit` `as_of` replays and rebuilds at once (default
    /// [`DEFAULT_MAX_REPLAYS`]); beyond, RESOURCE_EXHAUSTED.
    pub fn max_replays(mut self, limit: usize) -> Self {
        self.replays = ReplaySlots::new(limit);
        self
    }

    /// The tonic server to mount.
    pub fn into_server(self) -> ProjectionsServer<Self> {
        ProjectionsServer::new(self)
    }

    /// Runs `query` on the live read model (on the blocking pool), or, with
    /// `as_of`, on a fresh one replayed from the sources up to it, from the
    /// nearest snapshot when there is one, with at least the `tables` the
    /// query reads (in a replay slot, on a replay thread): never on the
    /// async workers ([`heavy`]).
    async fn with_model<T, Q>(
        &self,
        as_of: Option<i64>,
        tables: Tables,
        query: Q,
    ) -> Result<T, Status>
    where
        T: Send + 'static,
        Q: FnOnce(&ReadModel) -> Result<T, ServiceError> + Send + 'static,
    {
        match as_of {
            None => {
                let live = self.live.clone();
                Ok(heavy::run(move || query(&live.read())).await?)
            }
            Some(as_of) => {
                let slot = self.replays.take()?;
                let running = self.running.start(as_of, self.clock.now());
                let sources = running.counted(&self.sources);
                let snapshots = self.live.snapshots().cloned();
                // The sources read asynchronously (a remote EventLog); the
                // replay drives them from its own thread.
                let runtime = tokio::runtime::Handle::current();
                Ok(heavy::run_replay(slot, move || {
                    let model = runtime
                        .block_on(replay::replay_as_of_from(
                            snapshots.as_deref(),
                            &sources,
                            as_of,
                            tables,
                        ))
                        .map_err(|error| {
                            ServiceError::unavailable(
                                format!("replay failed: {error}"),
                                "La relecture de l'historique a échoué : réessayez dans un moment.",
                            )
                        })?;
                    // Listed as running until the query is answered.
                    let answer = query(&model);
                    drop(running);
                    answer
                })
                .await?)
            }
        }
    }

    /// The communes of an optional `territory` field (none: no filter).
    fn communes(
        &self,
        territory: Option<&pb::TerritoryRef>,
    ) -> Result<Option<BTreeSet<&'static str>>, Status> {
        let Some(territory) = territory else {
            return Ok(None);
        };
        let reference = queries::resolve_territory(self.territory, Some(territory), "territory")?;
        Ok(Some(queries::commune_codes(self.territory, &reference)))
    }

    fn audit_rows(
        &self,
        request: &pb::ContactAuditRequest,
    ) -> Result<(AuditTarget, Option<i64>, Option<i64>), ServiceError> {
        let target = match &request.scope {
            Some(pb::contact_audit_request::Scope::StakeholderId(id)) if !id.trim().is_empty() => {
                AuditTarget::Stakeholder(uuid_field("scope.stakeholder_id", id)?)
            }
            Some(pb::contact_audit_request::Scope::Territory(territory)) => AuditTarget::Territory(
                queries::resolve_territory(self.territory, Some(territory), "territory")?,
            ),
            _ => {
                return Err(ServiceError::invalid_argument(
                    "scope",
                    "give a stakeholder_id or a territory",
                ))
            }
        };
        let from = opt_micros(request.from.as_ref());
        let to = opt_micros(request.to.as_ref());
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(ServiceError::invalid_argument("to", "is before from"));
            }
        }
        Ok((target, from, to))
    }

    /// Each source log's last event applied to `model`, in the order of the sources.
    fn export_sources(&self) -> impl Fn(&ReadModel) -> Vec<pb::ExportSource> + Send + 'static {
        let contexts: Vec<String> = self
            .sources
            .iter()
            .map(|source| source.context().to_owned())
            .collect();
        move |model| {
            contexts
                .iter()
                .map(|context| pb::ExportSource {
                    context: context.clone(),
                    position: model.checkpoint(context),
                    hash: model
                        .head_hash(context)
                        .map(hex::encode)
                        .unwrap_or_default(),
                })
                .collect()
        }
    }

    /// The audit's rows, then `finish` applied to them and the logs' last
    /// events they were computed from, off the async workers.
    async fn audit<T: Send + 'static>(
        &self,
        request: &pb::ContactAuditRequest,
        finish: impl FnOnce(Vec<pb::ContactAuditRow>, Vec<pb::ExportSource>) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (target, from, to) = self.audit_rows(request)?;
        let territory = self.territory;
        let sources = self.export_sources();
        self.with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
            let scope = match &target {
                AuditTarget::Stakeholder(id) => {
                    let known = model.stakeholders.get(id).is_some_and(|row| row.registered)
                        || queries::joins::in_a_contact(model, id);
                    if !known {
                        return Err(ServiceError::not_found("stakeholder", id.clone()));
                    }
                    AuditScope::Stakeholder(id)
                }
                AuditTarget::Territory(reference) => AuditScope::Territory(reference),
            };
            Ok(finish(
                queries::audit::rows(model, territory, &scope, from, to),
                sources(model),
            ))
        })
        .await
    }

    /// The territory report, then `finish` applied to it and the logs' last
    /// events it was computed from, off the async workers.
    async fn territory_report<T: Send + 'static>(
        &self,
        request: &pb::TerritoryEngagementRequest,
        page: Page,
        finish: impl FnOnce(pb::TerritoryEngagementReport, Vec<pb::ExportSource>) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let sources = self.export_sources();
        let reference =
            queries::resolve_territory(self.territory, request.territory.as_ref(), "territory")?;
        let territory = self.territory;
        let as_of = request.as_of;
        let at = opt_micros(as_of.as_ref());
        let now = at.unwrap_or_else(|| system_micros(self.clock.now()));
        self.with_model(at, queries::territory::TABLES, move |model| {
            let mut report = queries::territory::report_at(model, territory, &reference, page, now);
            report.as_of = as_of;
            Ok(finish(report, sources(model)))
        })
        .await
    }
}

enum AuditTarget {
    Stakeholder(String),
    Territory(maillage_territory::TerritoryRef),
}

/// Checks the caller holds one of `roles` (admin passes).
fn admit<T>(request: &Request<T>, roles: &[Role]) -> Result<(), Status> {
    let context = RequestContext::from_request(request, "")?;
    context.principal.require(roles)?;
    Ok(())
}

fn checkpoints(map: &std::collections::BTreeMap<String, u64>) -> Vec<pb::ProjectionCheckpoint> {
    map.iter()
        .map(|(context, position)| pb::ProjectionCheckpoint {
            context: context.clone(),
            position: *position,
        })
        .collect()
}

#[tonic::async_trait]
impl Projections for ProjectionsService {
    #[tracing::instrument(skip_all)]
    async fn get_territory_engagement(
        &self,
        request: Request<pb::TerritoryEngagementRequest>,
    ) -> Result<Response<pb::TerritoryEngagementReport>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        Ok(Response::new(
            self.territory_report(&request, page, |report, _| report)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id = tracing::field::Empty))]
    async fn get_stakeholder_timeline(
        &self,
        request: Request<pb::StakeholderTimelineRequest>,
    ) -> Result<Response<pb::StakeholderTimeline>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let id = uuid_field("stakeholder_id", &request.stakeholder_id)?;
        maillage_service_kit::telemetry::record_uuid("stakeholder_id", &id);
        let timeline = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::timeline::timeline(model, &id, page))
            })
            .await?;
        Ok(Response::new(timeline))
    }

    #[tracing::instrument(skip_all)]
    async fn get_contact_audit(
        &self,
        request: Request<pb::ContactAuditRequest>,
    ) -> Result<Response<pb::ContactAuditReport>, Status> {
        admit(&request, &AUDITORS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let report = self
            .audit(&request, move |rows, _| {
                let total = rows.len() as u64;
                let (rows, page) = page.slice(rows);
                pb::ContactAuditReport {
                    rows,
                    total,
                    page: Some(page),
                }
            })
            .await?;
        Ok(Response::new(report))
    }

    #[tracing::instrument(skip_all)]
    async fn export_report(
        &self,
        request: Request<pb::ExportReportRequest>,
    ) -> Result<Response<pb::ReportExport>, Status> {
        let format = pb::ExportFormat::try_from(request.get_ref().format)
            .ok()
            .filter(|format| *format != pb::ExportFormat::Unspecified)
            .ok_or_else(|| ServiceError::invalid_argument("format", "CSV or JSON"))?;
        let csv = format == pb::ExportFormat::Csv;
        let request_report = match &request.get_ref().report {
            Some(report @ pb::export_report_request::Report::ContactAudit(_)) => {
                admit(&request, &AUDITORS)?;
                report.clone()
            }
            Some(report @ pb::export_report_request::Report::TerritoryEngagement(_)) => {
                admit(&request, &ANALYSTS)?;
                report.clone()
            }
            None => {
                admit(&request, &ANALYSTS)?;
                return Err(ServiceError::invalid_argument("report", "is required").into());
            }
        };
        // The documents are written off the async workers too: an audit can
        // hold hundreds of thousands of contacts.
        let request = request.into_inner();
        let provenance = move |sources: Vec<pb::ExportSource>| {
            request.with_provenance.then(|| export::Provenance {
                request: request.encode_to_vec(),
                sources,
            })
        };
        let extension = if csv { "csv" } else { "json" };
        let document =
            move |sources: Vec<pb::ExportSource>,
                  name: &str,
                  rows: usize,
                  to_csv: &dyn Fn() -> Result<Vec<u8>, csv::Error>,
                  to_json: &dyn Fn(Option<&export::Provenance>) -> Vec<u8>| {
                let provenance = provenance(sources.clone());
                Ok::<_, csv::Error>(pb::ReportExport {
                    content: match csv {
                        true => export::with_csv_provenance(to_csv()?, provenance.as_ref()),
                        false => to_json(provenance.as_ref()),
                    },
                    content_type: if csv { export::CSV } else { export::JSON }.into(),
                    filename: format!("{name}.{extension}"),
                    rows: rows as u64,
                    sources,
                })
            };
        let export = match request_report {
            pb::export_report_request::Report::ContactAudit(audit) => self
                .audit(&audit, move |rows, sources| {
                    document(
                        sources,
                        "contact-audit",
                        rows.len(),
                        &|| export::audit_csv(&rows),
                        &|provenance| export::audit_json(&rows, provenance),
                    )
                })
                .await?
                .map_err(csv_error)?,
            pb::export_report_request::Report::TerritoryEngagement(territory) => self
                .territory_report(&territory, Page::ALL, move |report, sources| {
                    document(
                        sources,
                        "territory-engagement",
                        report.communes.len(),
                        &|| export::territory_csv(&report),
                        &|provenance| export::territory_json(&report, provenance),
                    )
                })
                .await?
                .map_err(csv_error)?,
        };
        Ok(Response::new(export))
    }

    #[tracing::instrument(skip_all, fields(survey_id = tracing::field::Empty))]
    async fn get_survey_results(
        &self,
        request: Request<pb::SurveyResultsRequest>,
    ) -> Result<Response<pb::SurveyResults>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let id = uuid_field("survey_id", &request.survey_id)?;
        maillage_service_kit::telemetry::record_uuid("survey_id", &id);
        let results = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                queries::surveys::results(model, &id)
                    .ok_or_else(|| ServiceError::not_found("survey", id.clone()))
            })
            .await?;
        Ok(Response::new(results))
    }

    #[tracing::instrument(skip_all)]
    async fn list_surveys(
        &self,
        request: Request<pb::SurveyListRequest>,
    ) -> Result<Response<pb::SurveyList>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let status = match pb::SurveyStatus::try_from(request.status) {
            Ok(pb::SurveyStatus::Unspecified) => None,
            Ok(status) => Some(status as i32),
            Err(_) => {
                return Err(ServiceError::invalid_argument("status", "not a SurveyStatus").into())
            }
        };
        let items = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::surveys::list(model, status))
            })
            .await?;
        let total = items.len() as u64;
        let (items, page) = page.slice(items);
        Ok(Response::new(pb::SurveyList {
            items,
            total,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_action_statistics(
        &self,
        request: Request<pb::ActionStatisticsRequest>,
    ) -> Result<Response<pb::ActionStatistics>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let communes = self.communes(request.territory.as_ref())?;
        let statistics = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::actions::statistics(model, communes.as_ref()))
            })
            .await?;
        Ok(Response::new(statistics))
    }

    #[tracing::instrument(skip_all)]
    async fn get_diagnostic_synthesis(
        &self,
        request: Request<pb::DiagnosticSynthesisRequest>,
    ) -> Result<Response<pb::DiagnosticSynthesis>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let communes = self.communes(request.territory.as_ref())?;
        let synthesis = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::coding::diagnostic_synthesis(
                    model,
                    communes.as_ref(),
                ))
            })
            .await?;
        Ok(Response::new(synthesis))
    }

    #[tracing::instrument(skip_all)]
    async fn list_lessons(
        &self,
        request: Request<pb::LessonListRequest>,
    ) -> Result<Response<pb::LessonList>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let filter = lesson_filter(&request)?;
        let lessons = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::lessons::list(model, &filter))
            })
            .await?;
        let total = lessons.len() as u64;
        let (lessons, page) = page.slice(lessons);
        Ok(Response::new(pb::LessonList {
            lessons,
            page: Some(page),
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(consortium_id = tracing::field::Empty))]
    async fn get_consortium_state(
        &self,
        request: Request<pb::ConsortiumStateRequest>,
    ) -> Result<Response<pb::ConsortiumState>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let id = uuid_field("consortium_id", &request.consortium_id)?;
        maillage_service_kit::telemetry::record_uuid("consortium_id", &id);
        let as_of = opt_micros(request.as_of.as_ref());
        let now = as_of.unwrap_or_else(|| system_micros(self.clock.now()));
        let state = self
            .with_model(as_of, TABLES, move |model| {
                queries::consortium::state(model, &id, now)
                    .ok_or_else(|| ServiceError::not_found("consortium", id.clone()))
            })
            .await?;
        Ok(Response::new(state))
    }

    #[tracing::instrument(skip_all)]
    async fn list_follow_ups(
        &self,
        request: Request<pb::FollowUpListRequest>,
    ) -> Result<Response<pb::FollowUpList>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        if !request.owner.is_empty() {
            maillage_service_kit::auth::check_principal(&request.owner).map_err(|_| {
                ServiceError::invalid_argument(
                    "owner",
                    "a principal name: 1 to 128 of A-Z a-z 0-9 . _ @ -",
                )
            })?;
        }
        let reference = request
            .territory
            .as_ref()
            .map(|territory| {
                queries::resolve_territory(self.territory, Some(territory), "territory")
            })
            .transpose()?;
        let as_of = opt_micros(request.as_of.as_ref());
        let now = as_of.unwrap_or_else(|| system_micros(self.clock.now()));
        let territory = self.territory;
        let items = self
            .with_model(as_of, TABLES, move |model| {
                let filter = queries::follow_ups::Filter {
                    owner: Some(request.owner.as_str()).filter(|owner| !owner.is_empty()),
                    territory: reference.as_ref(),
                    due_before: opt_micros(request.due_before.as_ref()),
                    overdue_only: request.overdue_only,
                    include_completed: request.include_completed,
                };
                Ok(queries::follow_ups::list(model, territory, &filter, now))
            })
            .await?;
        let total = items.len() as u64;
        let (items, page) = page.slice(items);
        Ok(Response::new(pb::FollowUpList {
            items,
            total,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_stakeholder_map(
        &self,
        request: Request<pb::StakeholderMapRequest>,
    ) -> Result<Response<pb::StakeholderMap>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let reference =
            queries::resolve_territory(self.territory, request.territory.as_ref(), "territory")?;
        let quiet_days = match request.quiet_days {
            0 => DEFAULT_QUIET_DAYS,
            days if days > MAX_QUIET_DAYS => {
                return Err(ServiceError::invalid_argument(
                    "quiet_days",
                    format!("at most {MAX_QUIET_DAYS}"),
                )
                .into())
            }
            days => days,
        };
        let as_of = opt_micros(request.as_of.as_ref());
        let now = as_of.unwrap_or_else(|| system_micros(self.clock.now()));
        let territory = self.territory;
        let mut map = self
            .with_model(as_of, TABLES, move |model| {
                Ok(queries::stakeholder_map::map(
                    model, territory, &reference, quiet_days, now,
                ))
            })
            .await?;
        map.as_of = request.as_of;
        Ok(Response::new(map))
    }

    #[tracing::instrument(skip_all)]
    async fn get_projection_status(
        &self,
        request: Request<pb::ProjectionStatusRequest>,
    ) -> Result<Response<pb::ProjectionStatus>, Status> {
        admit(&request, &STATUS_READERS)?;
        let consumer = self.live.consumer_status();
        let state = match consumer.state {
            ConsumerState::NotStarted => pb::ProjectionConsumerState::NotStarted,
            ConsumerState::Running => pb::ProjectionConsumerState::Running,
            ConsumerState::Restarting => pb::ProjectionConsumerState::Restarting,
            ConsumerState::Stopped => pb::ProjectionConsumerState::Stopped,
        };
        let (stopped_context, stopped_position) = consumer.stopped_at.unwrap_or_default();
        let refusals = self.live.feed_refusals();
        Ok(Response::new(pb::ProjectionStatus {
            checkpoints: checkpoints(&self.live.checkpoints()),
            consumer: Some(pb::ProjectionConsumerStatus {
                state: state as i32,
                restarts: consumer.restarts,
                last_error: consumer.last_error,
                stopped_context,
                stopped_position,
                refused_messages: refusals.count(),
                last_refusal: refusals.last().unwrap_or_default(),
            }),
            rebuild: Some({
                let progress = self.live.rebuild_progress();
                pb::ProjectionRebuildProgress {
                    running: progress.running,
                    events_replayed: progress.replayed,
                    events_expected: progress.expected,
                }
            }),
            replays: self.running.list(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_actions(
        &self,
        request: Request<pb::ActionListRequest>,
    ) -> Result<Response<pb::ActionList>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let status = match pb::ActionStatus::try_from(request.status) {
            Ok(pb::ActionStatus::Unspecified) => None,
            Ok(status) => Some(status as i32),
            Err(_) => {
                return Err(
                    ServiceError::invalid_argument("status", "not an ActionStatus value").into(),
                )
            }
        };
        let items = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, move |model| {
                Ok(queries::engagement_lists::actions(model, status))
            })
            .await?;
        let total = items.len() as u64;
        let (items, page) = page.slice(items);
        Ok(Response::new(pb::ActionList {
            items,
            total,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_interviews(
        &self,
        request: Request<pb::InterviewListRequest>,
    ) -> Result<Response<pb::InterviewList>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let items = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, |model| {
                Ok(queries::engagement_lists::interviews(model))
            })
            .await?;
        let total = items.len() as u64;
        let (items, page) = page.slice(items);
        Ok(Response::new(pb::InterviewList {
            items,
            total,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_diagnostics(
        &self,
        request: Request<pb::DiagnosticListRequest>,
    ) -> Result<Response<pb::DiagnosticList>, Status> {
        admit(&request, &WORK_LIST_READERS)?;
        let request = request.into_inner();
        let page = Page::from_request(request.page.as_ref())?;
        let items = self
            .with_model(opt_micros(request.as_of.as_ref()), TABLES, |model| {
                Ok(queries::engagement_lists::diagnostics(model))
            })
            .await?;
        let total = items.len() as u64;
        let (items, page) = page.slice(items);
        Ok(Response::new(pb::DiagnosticList {
            items,
            total,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn compare_territory(
        &self,
        request: Request<pb::TerritoryComparisonRequest>,
    ) -> Result<Response<pb::TerritoryComparison>, Status> {
        admit(&request, &ANALYSTS)?;
        let request = request.into_inner();
        let reference =
            queries::resolve_territory(self.territory, request.territory.as_ref(), "territory")?;
        let from = opt_micros(request.from.as_ref())
            .ok_or_else(|| ServiceError::invalid_argument("from", "is required"))?;
        let to = opt_micros(request.to.as_ref());
        if to.is_some_and(|to| to < from) {
            return Err(ServiceError::invalid_argument("to", "is before from").into());
        }
        let now = system_micros(self.clock.now());
        let side = |at: Option<i64>| {
            let (territory, reference) = (self.territory, reference.clone());
            let sources = self.export_sources();
            let judged_at = at.unwrap_or(now);
            self.with_model(at, queries::comparison::TABLES, move |model| {
                Ok((
                    queries::comparison::side(model, territory, &reference, judged_at),
                    sources(model),
                ))
            })
        };
        let (before, sources_before) = side(Some(from)).await?;
        let (after, sources_after) = side(to).await?;
        Ok(Response::new(pb::TerritoryComparison {
            from: request.from,
            to: request.to,
            sources_before,
            sources_after,
            ..queries::comparison::compare(before, after)
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn rebuild(
        &self,
        request: Request<pb::ProjectionRebuildRequest>,
    ) -> Result<Response<pb::ProjectionRebuildResponse>, Status> {
        admit(&request, &[Role::Admin])?;
        let slot = self.replays.take()?;
        let (live, sources) = (self.live.clone(), self.sources.clone());
        let runtime = tokio::runtime::Handle::current();
        let replayed = heavy::run_replay(slot, move || {
            runtime.block_on(live.rebuild(&sources)).map_err(|error| {
                ServiceError::unavailable(
                    format!("rebuild failed: {error}"),
                    "La reconstruction des projections a échoué : réessayez dans un moment.",
                )
            })
        })
        .await?;
        Ok(Response::new(pb::ProjectionRebuildResponse {
            checkpoints: checkpoints(&self.live.checkpoints()),
            events_replayed: replayed,
        }))
    }
}

/// A required id field: a UUID, in its canonical form. Checked before any
/// replay, and never echoed back when malformed (a refusal stays short).
fn uuid_field(field: &str, value: &str) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid_argument(field, "is required"));
    }
    uuid::Uuid::try_parse(value)
        .map(|id| id.to_string())
        .map_err(|_| ServiceError::invalid_argument(field, "must be a UUID"))
}

/// A CSV document that could not be written (a bug: it is written to memory).
fn csv_error(error: csv::Error) -> Status {
    ServiceError::internal(format!("CSV export: {error}")).into()
}

/// The filters of a `ListLessons` request, each checked (INVALID_ARGUMENT
/// naming the field).
fn lesson_filter(
    request: &pb::LessonListRequest,
) -> Result<queries::lessons::Filter, ServiceError> {
    use maillage_service_kit::validate;
    let known = |field: &str, value: i32, known: bool| {
        if known {
            Ok(Some(value).filter(|value| *value != 0))
        } else {
            Err(ServiceError::invalid_argument(
                field,
                format!("unknown value {value}"),
            ))
        }
    };
    let source_kind = match request.source_kind.as_str() {
        "" => None,
        "action" | "interview" | "diagnostic" => Some(request.source_kind.clone()),
        _ => {
            return Err(ServiceError::invalid_argument(
                "source_kind",
                "one of action, interview, diagnostic",
            ))
        }
    };
    let text = validate::optional_text("text", &request.text, 200)?;
    Ok(queries::lessons::Filter {
        topic: known(
            "topic",
            request.topic,
            pb::Theme::try_from(request.topic).is_ok(),
        )?,
        axis_id: validate::optional_id("axis_id", &request.axis_id)?.map(|id| id.to_string()),
        outcome: known(
            "outcome",
            request.outcome,
            pb::LessonOutcome::try_from(request.outcome).is_ok(),
        )?,
        source_kind,
        words: text
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        include_withdrawn: request.include_withdrawn,
    })
}
