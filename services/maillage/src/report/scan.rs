//! What the report needs that no projection query answers, read from the event logs
//! (the EventLog API, as any internal tool would): when contacts and actions took
//! place (for the monthly series), which surveys and consortia exist, the names
//! of organisations (public, never personal data), the élus' mandates with
//! who is archived or erased (for the re-engagement counts), the programme's
//! axes with what is tagged with them (for the progress per axis), and its
//! objectives and missions (for the progress per objective and deliverable). Events
//! recorded after `as_of` are ignored, as the projections' replay ignores them.
//! A terminal sees the reading's progress.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use prost::Message;

use super::data::LogSource;
use crate::cli::client::{explain, Authed};

/// Events read per call.
const PAGE: u32 = 5_000;

/// A contact: when it took place and with whom.
#[derive(Debug, Clone, Default)]
pub struct ContactFact {
    /// When the contact took place, in seconds since the epoch (UTC), after corrections.
    pub occurred_at: i64,
    /// Stakeholder ids of its participants, after corrections.
    pub participants: Vec<String>,
}

/// An action: where, when it started, and whether it was held.
#[derive(Debug, Clone, Default)]
pub struct ActionFact {
    /// None: online.
    pub commune: Option<String>,
    /// When it is scheduled to start, in seconds since the epoch (UTC) (`None`: not scheduled).
    pub starts_at: Option<i64>,
    /// Whether it was held.
    pub held: bool,
    /// The territory it is for, when not held in it.
    pub target: Option<pb::TerritoryRef>,
    /// The programme's axes it serves.
    pub axis_ids: Vec<String>,
    /// Its kind (`ActionKind`).
    pub kind: i32,
    /// The audiences it is for (`EngagementAudience`).
    pub audiences: Vec<i32>,
}

/// An objective of the programme, as last set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectiveFact {
    /// Its id.
    pub id: String,
    /// The event as last set (its axis, measure, filters, target, due date).
    pub set: pb::ProgrammeObjectiveSet,
    /// Why it was withdrawn (`None`: in force).
    pub withdrawn: Option<String>,
}

/// A deliverable of a mission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverableFact {
    /// Its id.
    pub id: String,
    /// What it is.
    pub label: String,
    /// When it is due, in seconds since the epoch (UTC).
    pub due_at: i64,
    /// When it was delivered, in seconds since the epoch (UTC), and what.
    pub delivered: Option<(i64, String)>,
}

/// A mission of the contract and its deliverables, in the order added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissionFact {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its deliverables.
    pub deliverables: Vec<DeliverableFact>,
}

/// An axis of the programme, as its events made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AxisFact {
    /// Its id.
    pub id: String,
    /// Its current name.
    pub name: String,
    /// Whether it was retired.
    pub retired: bool,
}

/// An interview: where its subject lives, and the axes it serves.
#[derive(Debug, Clone, Default)]
pub struct InterviewFact {
    /// An anonymous subject's commune.
    pub commune: Option<String>,
    /// A known subject (their commune is in [`LogFacts::communes`]).
    pub stakeholder_id: Option<String>,
    /// The programme's axes it serves.
    pub axis_ids: Vec<String>,
}

/// A mandate: office, authority, dates (seconds).
#[derive(Debug, Clone, Default)]
pub struct MandateFact {
    /// The office (`MandateOffice`).
    pub office: i32,
    /// The authority the mandate is held in (a commune, an EPCI...).
    pub authority: pb::TerritoryRef,
    /// When it started, in seconds since the epoch (UTC).
    pub started_at: i64,
    /// None: running.
    pub ended_at: Option<i64>,
}

/// The facts gathered from the three logs.
#[derive(Debug, Default)]
pub struct LogFacts {
    /// Stakeholder id → commune code.
    pub communes: BTreeMap<String, String>,
    /// Organisation id → name.
    pub organisation_names: BTreeMap<String, String>,
    /// Contacts by interaction id.
    pub contacts: BTreeMap<String, ContactFact>,
    /// Actions by action id.
    pub actions: BTreeMap<String, ActionFact>,
    /// Survey ids, in log order.
    pub surveys: Vec<String>,
    /// The programme's axes: those in use in their order, then the retired.
    pub axes: Vec<AxisFact>,
    /// The programme's objectives, in the order first set.
    pub objectives: Vec<ObjectiveFact>,
    /// The missions of the contract, in the order defined.
    pub missions: Vec<MissionFact>,
    /// Survey id → the axes it serves.
    pub survey_axes: BTreeMap<String, Vec<String>>,
    /// Survey id → the actions of its information campaign.
    pub survey_campaigns: BTreeMap<String, Vec<String>>,
    /// Interviews, in log order.
    pub interviews: Vec<InterviewFact>,
    /// Survey responses, in log order: the respondent as an interview's
    /// subject, the axes those of the response's survey.
    pub responses: Vec<InterviewFact>,
    /// Concertation meetings with the designated officers, in log order
    /// (their sealed notes dropped: the report never shows them).
    pub concertations: Vec<pb::ProgrammeConcertationRecorded>,
    /// Officers' principals → the title of their latest designation.
    pub officer_titles: BTreeMap<String, String>,
    /// Foresight workshop (action id) → its latest outputs.
    pub foresight: BTreeMap<String, pb::ForesightOutputsRecorded>,
    /// Consortium id → its territory.
    pub consortia: Vec<(String, Vec<pb::TerritoryRef>)>,
    /// Person id → mandate id → mandate.
    pub mandates: BTreeMap<String, BTreeMap<String, MandateFact>>,
    /// Stakeholders archived, or persons whose erasure started: no longer to contact.
    pub gone: BTreeSet<String>,
    /// The last event read of each log, in [`crate::CONTEXTS`] order.
    pub sources: Vec<LogSource>,
}

fn seconds(timestamp: Option<&prost_types::Timestamp>) -> i64 {
    timestamp.map_or(0, |t| t.seconds)
}

fn venue_commune(venue: Option<&pb::ActionVenue>) -> Option<String> {
    match venue.and_then(|v| v.place.as_ref()) {
        Some(pb::action_venue::Place::CommuneCode(code)) => Some(code.clone()),
        _ => None,
    }
}

impl LogFacts {
    fn apply(&mut self, envelope: &pb::EventEnvelope) -> Result<(), prost::DecodeError> {
        let payload = envelope.payload.as_slice();
        match envelope.event_type.as_str() {
            "maillage.v1.PersonRegistered" => {
                let event = pb::PersonRegistered::decode(payload)?;
                let commune = event.profile.map(|p| p.commune_code).unwrap_or_default();
                self.communes.insert(event.stakeholder_id, commune);
            }
            "maillage.v1.PersonProfileUpdated" => {
                let event = pb::PersonProfileUpdated::decode(payload)?;
                let commune = event.profile.map(|p| p.commune_code).unwrap_or_default();
                self.communes.insert(event.stakeholder_id, commune);
            }
            "maillage.v1.OrganisationRegistered" => {
                let event = pb::OrganisationRegistered::decode(payload)?;
                self.organisation(event.stakeholder_id, event.profile);
            }
            "maillage.v1.OrganisationProfileUpdated" => {
                let event = pb::OrganisationProfileUpdated::decode(payload)?;
                self.organisation(event.stakeholder_id, event.profile);
            }
            "maillage.v1.MandateStarted" => {
                let event = pb::MandateStarted::decode(payload)?;
                self.mandates
                    .entry(event.stakeholder_id)
                    .or_default()
                    .insert(
                        event.mandate_id,
                        MandateFact {
                            office: event.office,
                            authority: event.authority.unwrap_or_default(),
                            started_at: seconds(event.started_at.as_ref()),
                            ended_at: event.ended_at.as_ref().map(|at| at.seconds),
                        },
                    );
            }
            "maillage.v1.MandateEnded" => {
                let event = pb::MandateEnded::decode(payload)?;
                if let Some(mandate) = self
                    .mandates
                    .get_mut(&event.stakeholder_id)
                    .and_then(|mandates| mandates.get_mut(&event.mandate_id))
                {
                    mandate.ended_at = Some(seconds(event.ended_at.as_ref()));
                }
            }
            "maillage.v1.StakeholderArchived" => {
                let event = pb::StakeholderArchived::decode(payload)?;
                self.gone.insert(event.stakeholder_id);
            }
            "maillage.v1.PersonErasureStarted" => {
                let event = pb::PersonErasureStarted::decode(payload)?;
                self.gone.insert(event.stakeholder_id);
            }
            "maillage.v1.PersonErased" => {
                let event = pb::PersonErased::decode(payload)?;
                self.gone.insert(event.stakeholder_id);
            }
            "maillage.v1.InteractionLogged" => {
                let event = pb::InteractionLogged::decode(payload)?;
                self.contacts.insert(
                    event.interaction_id,
                    ContactFact {
                        occurred_at: seconds(event.occurred_at.as_ref()),
                        participants: event
                            .participants
                            .into_iter()
                            .map(|p| p.stakeholder_id)
                            .collect(),
                    },
                );
            }
            "maillage.v1.InteractionCorrected" => {
                let event = pb::InteractionCorrected::decode(payload)?;
                if let Some(contact) = self.contacts.get_mut(&event.interaction_id) {
                    if let Some(at) = event.occurred_at.as_ref() {
                        contact.occurred_at = at.seconds;
                    }
                    if let Some(list) = event.participants {
                        contact.participants = list
                            .participants
                            .into_iter()
                            .map(|p| p.stakeholder_id)
                            .collect();
                    }
                }
            }
            "maillage.v1.ActionPlanned" => {
                let event = pb::ActionPlanned::decode(payload)?;
                let fact = ActionFact {
                    commune: venue_commune(event.venue.as_ref()),
                    target: event.target_territory,
                    axis_ids: event.axis_ids,
                    kind: event.kind,
                    audiences: event.audiences,
                    ..ActionFact::default()
                };
                self.actions.insert(event.action_id, fact);
            }
            "maillage.v1.ActionScheduled" => {
                let event = pb::ActionScheduled::decode(payload)?;
                if let Some(action) = self.actions.get_mut(&event.action_id) {
                    action.starts_at = Some(seconds(event.starts_at.as_ref()));
                }
            }
            "maillage.v1.ActionRescheduled" => {
                let event = pb::ActionRescheduled::decode(payload)?;
                if let Some(action) = self.actions.get_mut(&event.action_id) {
                    action.starts_at = Some(seconds(event.starts_at.as_ref()));
                    if event.venue.is_some() {
                        action.commune = venue_commune(event.venue.as_ref());
                    }
                }
            }
            "maillage.v1.ActionHeld" => {
                let event = pb::ActionHeld::decode(payload)?;
                if let Some(action) = self.actions.get_mut(&event.action_id) {
                    action.held = true;
                }
            }
            "maillage.v1.SurveyDrafted" => {
                let event = pb::SurveyDrafted::decode(payload)?;
                self.survey_campaigns.insert(
                    event.survey_id.clone(),
                    maillage_engagement::domain::survey::campaign_of(&event),
                );
                self.survey_axes
                    .insert(event.survey_id.clone(), event.axis_ids);
                self.surveys.push(event.survey_id);
            }
            "maillage.v1.InterviewRecorded" => {
                let event = pb::InterviewRecorded::decode(payload)?;
                use pb::interview_subject::Who;
                let (commune, stakeholder_id) = match event.subject.and_then(|subject| subject.who)
                {
                    Some(Who::Anonymous(anonymous)) => (Some(anonymous.commune_code), None),
                    Some(Who::StakeholderId(id)) => (None, Some(id)),
                    None => (None, None),
                };
                self.interviews.push(InterviewFact {
                    commune,
                    stakeholder_id,
                    axis_ids: event.axis_ids,
                });
            }
            "maillage.v1.SurveyResponseSubmitted" => {
                let event = pb::SurveyResponseSubmitted::decode(payload)?;
                use pb::survey_respondent::Who;
                let (commune, stakeholder_id) =
                    match event.respondent.and_then(|respondent| respondent.who) {
                        Some(Who::Anonymous(anonymous)) => (Some(anonymous.commune_code), None),
                        Some(Who::StakeholderId(id)) => (None, Some(id)),
                        None => (None, None),
                    };
                self.responses.push(InterviewFact {
                    commune,
                    stakeholder_id,
                    axis_ids: self
                        .survey_axes
                        .get(&event.survey_id)
                        .cloned()
                        .unwrap_or_default(),
                });
            }
            "maillage.v1.ProgrammeOfficerDesignated" => {
                let event = pb::ProgrammeOfficerDesignated::decode(payload)?;
                self.officer_titles.insert(event.principal, event.title);
            }
            "maillage.v1.ProgrammeConcertationRecorded" => {
                let mut event = pb::ProgrammeConcertationRecorded::decode(payload)?;
                event.sealed_notes.clear();
                self.concertations.push(event);
            }
            "maillage.v1.ProgrammeAxisDefined" => {
                let event = pb::ProgrammeAxisDefined::decode(payload)?;
                let at = self.axes.iter().filter(|axis| !axis.retired).count();
                self.axes.insert(
                    at,
                    AxisFact {
                        id: event.axis_id,
                        name: event.name,
                        retired: false,
                    },
                );
            }
            "maillage.v1.ProgrammeAxisRenamed" => {
                let event = pb::ProgrammeAxisRenamed::decode(payload)?;
                if let Some(axis) = self.axes.iter_mut().find(|a| a.id == event.axis_id) {
                    axis.name = event.name;
                }
            }
            "maillage.v1.ProgrammeAxesReordered" => {
                let event = pb::ProgrammeAxesReordered::decode(payload)?;
                // Stable: the retired keep their order, after the others.
                self.axes.sort_by_key(|axis| match axis.retired {
                    false => event
                        .axis_ids
                        .iter()
                        .position(|id| *id == axis.id)
                        .unwrap_or(usize::MAX - 1),
                    true => usize::MAX,
                });
            }
            "maillage.v1.ProgrammeAxisRetired" => {
                let event = pb::ProgrammeAxisRetired::decode(payload)?;
                if let Some(at) = self.axes.iter().position(|a| a.id == event.axis_id) {
                    let mut axis = self.axes.remove(at);
                    axis.retired = true;
                    self.axes.push(axis);
                }
            }
            "maillage.v1.ProgrammeObjectiveSet" => {
                let set = pb::ProgrammeObjectiveSet::decode(payload)?;
                let fact = ObjectiveFact {
                    id: set.objective_id.clone(),
                    set,
                    withdrawn: None,
                };
                match self.objectives.iter_mut().find(|o| o.id == fact.id) {
                    Some(known) => *known = fact,
                    None => self.objectives.push(fact),
                }
            }
            "maillage.v1.ProgrammeObjectiveWithdrawn" => {
                let event = pb::ProgrammeObjectiveWithdrawn::decode(payload)?;
                if let Some(objective) = self
                    .objectives
                    .iter_mut()
                    .find(|o| o.id == event.objective_id)
                {
                    objective.withdrawn = Some(event.reason);
                }
            }
            "maillage.v1.ProgrammeMissionDefined" => {
                let event = pb::ProgrammeMissionDefined::decode(payload)?;
                self.missions.push(MissionFact {
                    id: event.mission_id,
                    name: event.name,
                    deliverables: Vec::new(),
                });
            }
            "maillage.v1.MissionDeliverableAdded" => {
                let event = pb::MissionDeliverableAdded::decode(payload)?;
                if let Some(mission) = self.missions.iter_mut().find(|m| m.id == event.mission_id) {
                    mission.deliverables.push(DeliverableFact {
                        id: event.deliverable_id,
                        label: event.label,
                        due_at: seconds(event.due_at.as_ref()),
                        delivered: None,
                    });
                }
            }
            "maillage.v1.MissionDeliverableDelivered" => {
                let event = pb::MissionDeliverableDelivered::decode(payload)?;
                if let Some(deliverable) = self
                    .missions
                    .iter_mut()
                    .flat_map(|m| &mut m.deliverables)
                    .find(|d| d.id == event.deliverable_id)
                {
                    deliverable.delivered =
                        Some((seconds(event.delivered_at.as_ref()), event.reference));
                }
            }
            "maillage.v1.ForesightOutputsRecorded" => {
                let event = pb::ForesightOutputsRecorded::decode(payload)?;
                self.foresight.insert(event.action_id.clone(), event);
            }
            "maillage.v1.ConsortiumFounded" => {
                let event = pb::ConsortiumFounded::decode(payload)?;
                self.consortia.push((event.consortium_id, event.territory));
            }
            _ => {}
        }
        Ok(())
    }

    fn organisation(&mut self, id: String, profile: Option<pb::OrganisationProfile>) {
        let profile = profile.unwrap_or_default();
        self.communes.insert(id.clone(), profile.commune_code);
        self.organisation_names.insert(id, profile.name);
    }
}

/// Whether an event was recorded at or before `as_of` (always, without one).
fn recorded_by(envelope: &pb::EventEnvelope, as_of: Option<&prost_types::Timestamp>) -> bool {
    match (as_of, envelope.recorded_at.as_ref()) {
        (None, _) => true,
        (Some(limit), Some(at)) => (at.seconds, at.nanos) <= (limit.seconds, limit.nanos),
        (Some(_), None) => false,
    }
}

/// A bar on standard error while the logs are read, when it is a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("lecture du journal {msg:13} {bar:40} {pos}/{len}  {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Reads the three logs up to `as_of`; a log's reading stops at the first page
/// that goes past it (a log's `recorded_at` follows its commit order). Shows
/// its progress on a terminal.
pub async fn scan(
    channel: Authed,
    as_of: Option<&prost_types::Timestamp>,
) -> anyhow::Result<LogFacts> {
    let mut logs = EventLogClient::new(channel);
    let mut facts = LogFacts::default();
    let progress = progress_bar();
    for context in crate::CONTEXTS {
        progress.set_message(context);
        progress.set_position(0);
        let mut source = LogSource {
            context: context.to_owned(),
            ..Default::default()
        };
        let mut from = 1;
        loop {
            let page = logs
                .read_all(pb::ReadAllRequest {
                    from_position: from,
                    limit: PAGE,
                    context: context.to_owned(),
                })
                .await
                .map_err(explain)?
                .into_inner();
            let Some(last) = page.events.last().map(|e| e.position) else {
                break;
            };
            progress.set_length(page.head_position);
            progress.set_position(last);
            let mut past_as_of = false;
            for envelope in &page.events {
                if !recorded_by(envelope, as_of) {
                    past_as_of = true;
                    break;
                }
                facts.apply(envelope).map_err(|error| {
                    anyhow::anyhow!(
                        "événement illisible en position {} du journal {context} : {error}",
                        envelope.position
                    )
                })?;
                source.position = envelope.position;
                source.hash = hex::encode(&envelope.hash);
            }
            if past_as_of || last >= page.head_position {
                break;
            }
            from = last + 1;
        }
        facts.sources.push(source);
    }
    progress.finish_and_clear();
    Ok(facts)
}
