//! The plan half of the Programme aggregate: the objectives of each axis
//! (what is counted, the target, the due date) and the missions of the
//! accompaniment's contract with their deliverables. The Programme decider
//! (`programme.rs`) dispatches these commands here; the rules:
//!
//! - an objective names an axis in use; setting it again with an id replaces
//!   it (the same values again are nothing); a withdrawn objective is kept,
//!   shown as such, and changes no more;
//! - a mission's name is unique among the missions (ignoring case);
//! - a deliverable belongs to a mission and is delivered once.

use std::time::SystemTime;

use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::programme::{Error, Event, State};
use super::{instant, timestamp};

/// Most objectives a programme may hold (withdrawn ones included).
pub const MAX_OBJECTIVES: usize = 200;

/// Most missions a programme may hold.
pub const MAX_MISSIONS: usize = 50;

/// Most deliverables a mission may hold.
pub const MAX_DELIVERABLES: usize = 100;

/// An objective of an axis, as set (checked for form by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objective {
    /// Its id.
    pub id: Uuid,
    /// The axis it belongs to.
    pub axis: Uuid,
    /// What it says, e.g. "Toutes les communes sensibilisées".
    pub label: String,
    /// What is counted.
    pub measure: pb::ObjectiveMeasure,
    /// The kinds of action that count (none: every kind).
    pub action_kinds: Vec<pb::ActionKind>,
    /// The audiences whose actions count (none: any).
    pub audiences: Vec<pb::EngagementAudience>,
    /// The count to reach (0 with `every_commune`).
    pub target: u32,
    /// The target is every commune of the territory reported on.
    pub every_commune: bool,
    /// When it is due.
    pub due_at: SystemTime,
    /// Why it was withdrawn (`None`: in force).
    pub withdrawn: Option<String>,
}

/// A deliverable of a mission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliverable {
    /// Its id.
    pub id: Uuid,
    /// What it is.
    pub label: String,
    /// When it is due.
    pub due_at: SystemTime,
    /// When it was delivered, and what (`None`: not yet).
    pub delivered: Option<(SystemTime, String)>,
}

/// A mission of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mission {
    /// Its id.
    pub id: Uuid,
    /// Its name, unique among the missions (ignoring case).
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Its deliverables, in the order added.
    pub deliverables: Vec<Deliverable>,
}

/// A change to the plan (a part of the programme's commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanCommand {
    /// Sets an objective: new, or replacing the one of the same id.
    SetObjective {
        /// The objective (its `withdrawn` is ignored).
        objective: Objective,
        /// Whether the id must name an existing objective (a replacement)
        /// rather than a new one.
        replaces: bool,
        /// The principal setting it.
        actor: String,
    },
    /// Withdraws an objective.
    WithdrawObjective {
        /// The objective.
        objective_id: Uuid,
        /// Why.
        reason: String,
    },
    /// Adds a mission.
    DefineMission {
        /// The new mission's id (from the server).
        mission_id: Uuid,
        /// Its name.
        name: String,
        /// What it covers.
        description: String,
        /// The principal defining it.
        actor: String,
    },
    /// Adds a deliverable to a mission.
    AddDeliverable {
        /// The mission.
        mission_id: Uuid,
        /// The new deliverable's id (from the server).
        deliverable_id: Uuid,
        /// What it is.
        label: String,
        /// When it is due.
        due_at: SystemTime,
    },
    /// Records that a deliverable was delivered.
    Deliver {
        /// The deliverable.
        deliverable_id: Uuid,
        /// When.
        delivered_at: SystemTime,
        /// What was delivered.
        reference: String,
        /// The principal recording it.
        actor: String,
    },
}

impl State {
    /// The objective `id`, if the programme holds it.
    pub fn objective(&self, id: &Uuid) -> Option<&Objective> {
        self.objectives.iter().find(|objective| objective.id == *id)
    }

    /// The mission `id`, if the programme holds it.
    pub fn mission(&self, id: &Uuid) -> Option<&Mission> {
        self.missions.iter().find(|mission| mission.id == *id)
    }

    /// The deliverable `id`, if a mission holds it.
    pub fn deliverable(&self, id: &Uuid) -> Option<&Deliverable> {
        self.missions
            .iter()
            .flat_map(|mission| &mission.deliverables)
            .find(|deliverable| deliverable.id == *id)
    }
}

fn parse(id: &str) -> Uuid {
    id.parse().unwrap_or_default()
}

/// The events of a plan command, or why it is refused.
pub(super) fn decide(command: &PlanCommand, state: &State) -> Result<Vec<Event>, Error> {
    match command {
        PlanCommand::SetObjective {
            objective,
            replaces,
            actor,
        } => {
            match (state.objective(&objective.id), replaces) {
                (None, true) => return Err(Error::UnknownObjective(objective.id)),
                (Some(_), false) => return Err(Error::ObjectiveExists(objective.id)),
                (Some(known), true) if known.withdrawn.is_some() => {
                    return Err(Error::ObjectiveWithdrawn(objective.id))
                }
                (Some(known), true)
                    if Objective {
                        withdrawn: None,
                        ..known.clone()
                    } == *objective =>
                {
                    return Ok(vec![]);
                }
                (None, false) if state.objectives.len() >= MAX_OBJECTIVES => {
                    return Err(Error::TooMany("objectives", MAX_OBJECTIVES))
                }
                _ => {}
            }
            state.axis_in_use(&objective.axis)?;
            Ok(vec![Event::ProgrammeObjectiveSet(
                pb::ProgrammeObjectiveSet {
                    objective_id: objective.id.to_string(),
                    axis_id: objective.axis.to_string(),
                    label: objective.label.clone(),
                    measure: objective.measure.into(),
                    action_kinds: objective.action_kinds.iter().map(|k| *k as i32).collect(),
                    audiences: objective.audiences.iter().map(|a| *a as i32).collect(),
                    target: objective.target,
                    every_commune: objective.every_commune,
                    due_at: Some(timestamp(objective.due_at)),
                    set_by: actor.clone(),
                },
            )])
        }
        PlanCommand::WithdrawObjective {
            objective_id,
            reason,
        } => {
            let objective = state
                .objective(objective_id)
                .ok_or(Error::UnknownObjective(*objective_id))?;
            if objective.withdrawn.is_some() {
                return Err(Error::ObjectiveWithdrawn(*objective_id));
            }
            Ok(vec![Event::ProgrammeObjectiveWithdrawn(
                pb::ProgrammeObjectiveWithdrawn {
                    objective_id: objective_id.to_string(),
                    reason: reason.clone(),
                },
            )])
        }
        PlanCommand::DefineMission {
            mission_id,
            name,
            description,
            actor,
        } => {
            if state.mission(mission_id).is_some() {
                return Err(Error::MissionExists(*mission_id));
            }
            if state.missions.len() >= MAX_MISSIONS {
                return Err(Error::TooMany("missions", MAX_MISSIONS));
            }
            let lower = name.to_lowercase();
            if state
                .missions
                .iter()
                .any(|mission| mission.name.to_lowercase() == lower)
            {
                return Err(Error::MissionNameTaken(name.clone()));
            }
            Ok(vec![Event::ProgrammeMissionDefined(
                pb::ProgrammeMissionDefined {
                    mission_id: mission_id.to_string(),
                    name: name.clone(),
                    description: description.clone(),
                    defined_by: actor.clone(),
                },
            )])
        }
        PlanCommand::AddDeliverable {
            mission_id,
            deliverable_id,
            label,
            due_at,
        } => {
            let mission = state
                .mission(mission_id)
                .ok_or(Error::UnknownMission(*mission_id))?;
            if state.deliverable(deliverable_id).is_some() {
                return Err(Error::DeliverableExists(*deliverable_id));
            }
            if mission.deliverables.len() >= MAX_DELIVERABLES {
                return Err(Error::TooMany(
                    "deliverables of a mission",
                    MAX_DELIVERABLES,
                ));
            }
            Ok(vec![Event::MissionDeliverableAdded(
                pb::MissionDeliverableAdded {
                    mission_id: mission_id.to_string(),
                    deliverable_id: deliverable_id.to_string(),
                    label: label.clone(),
                    due_at: Some(timestamp(*due_at)),
                },
            )])
        }
        PlanCommand::Deliver {
            deliverable_id,
            delivered_at,
            reference,
            actor,
        } => {
            let deliverable = state
                .deliverable(deliverable_id)
                .ok_or(Error::UnknownDeliverable(*deliverable_id))?;
            if deliverable.delivered.is_some() {
                return Err(Error::AlreadyDelivered(*deliverable_id));
            }
            Ok(vec![Event::MissionDeliverableDelivered(
                pb::MissionDeliverableDelivered {
                    deliverable_id: deliverable_id.to_string(),
                    delivered_at: Some(timestamp(*delivered_at)),
                    reference: reference.clone(),
                    recorded_by: actor.clone(),
                },
            )])
        }
    }
}

/// Applies a plan event to the state (other events: nothing).
pub(super) fn evolve(state: &mut State, event: &Event) {
    match event {
        Event::ProgrammeObjectiveSet(set) => {
            let objective = Objective {
                id: parse(&set.objective_id),
                axis: parse(&set.axis_id),
                label: set.label.clone(),
                measure: set.measure(),
                action_kinds: set.action_kinds().collect(),
                audiences: set.audiences().collect(),
                target: set.target,
                every_commune: set.every_commune,
                due_at: instant(&set.due_at),
                withdrawn: None,
            };
            match state
                .objectives
                .iter_mut()
                .find(|known| known.id == objective.id)
            {
                Some(known) => *known = objective,
                None => state.objectives.push(objective),
            }
        }
        Event::ProgrammeObjectiveWithdrawn(withdrawn) => {
            let id = parse(&withdrawn.objective_id);
            if let Some(objective) = state.objectives.iter_mut().find(|o| o.id == id) {
                objective.withdrawn = Some(withdrawn.reason.clone());
            }
        }
        Event::ProgrammeMissionDefined(defined) => state.missions.push(Mission {
            id: parse(&defined.mission_id),
            name: defined.name.clone(),
            description: defined.description.clone(),
            deliverables: Vec::new(),
        }),
        Event::MissionDeliverableAdded(added) => {
            let id = parse(&added.mission_id);
            if let Some(mission) = state.missions.iter_mut().find(|m| m.id == id) {
                mission.deliverables.push(Deliverable {
                    id: parse(&added.deliverable_id),
                    label: added.label.clone(),
                    due_at: instant(&added.due_at),
                    delivered: None,
                });
            }
        }
        Event::MissionDeliverableDelivered(delivered) => {
            let id = parse(&delivered.deliverable_id);
            if let Some(deliverable) = state
                .missions
                .iter_mut()
                .flat_map(|mission| &mut mission.deliverables)
                .find(|deliverable| deliverable.id == id)
            {
                deliverable.delivered = Some((
                    instant(&delivered.delivered_at),
                    delivered.reference.clone(),
                ));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use maillage_es::testing::{given_nothing, Given};

    use super::*;
    use crate::domain::programme::{Command, Programme};
    use crate::domain::testing;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// 2027-06-30, 00:00 UTC.
    fn june_2027() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_814_313_600)
    }

    /// A programme with the axes 1 "Sensibiliser" and 2 "Concerter".
    fn two_axes() -> Given<Programme> {
        given_nothing::<Programme>().after(["Sensibiliser", "Concerter"].iter().enumerate().map(
            |(n, name)| Command::DefineAxis {
                axis_id: id(n as u128 + 1),
                name: (*name).into(),
                description: String::new(),
                actor: "claire".into(),
            },
        ))
    }

    /// "Every commune reached by an awareness meeting by June 2027" on axis 1.
    fn every_commune(objective: u128) -> Objective {
        Objective {
            id: id(objective),
            axis: id(1),
            label: "Toutes les communes sensibilisées".into(),
            measure: pb::ObjectiveMeasure::CommunesReached,
            action_kinds: vec![pb::ActionKind::AwarenessPublicMeeting],
            audiences: vec![],
            target: 0,
            every_commune: true,
            due_at: june_2027(),
            withdrawn: None,
        }
    }

    fn set(objective: Objective, replaces: bool) -> Command {
        Command::Plan(PlanCommand::SetObjective {
            objective,
            replaces,
            actor: "claire".into(),
        })
    }

    fn mission(n: u128, name: &str) -> Command {
        Command::Plan(PlanCommand::DefineMission {
            mission_id: id(n),
            name: name.into(),
            description: String::new(),
            actor: "claire".into(),
        })
    }

    fn deliverable(mission: u128, n: u128) -> Command {
        Command::Plan(PlanCommand::AddDeliverable {
            mission_id: id(mission),
            deliverable_id: id(n),
            label: format!("Livrable {n}"),
            due_at: june_2027(),
        })
    }

    #[test]
    fn an_objective_is_set_on_an_axis_in_use_with_who_set_it() {
        let expected = Event::ProgrammeObjectiveSet(pb::ProgrammeObjectiveSet {
            objective_id: id(10).to_string(),
            axis_id: id(1).to_string(),
            label: "Toutes les communes sensibilisées".into(),
            measure: pb::ObjectiveMeasure::CommunesReached.into(),
            action_kinds: vec![pb::ActionKind::AwarenessPublicMeeting.into()],
            audiences: vec![],
            target: 0,
            every_commune: true,
            due_at: Some(timestamp(june_2027())),
            set_by: "claire".into(),
        });
        testing::assert_events_encode(&expected);
        let given = two_axes()
            .when(set(every_commune(10), false))
            .then([expected]);
        assert_eq!(given.state().objective(&id(10)), Some(&every_commune(10)));
        two_axes()
            .when(set(
                Objective {
                    axis: id(9),
                    ..every_commune(10)
                },
                false,
            ))
            .then_refused(Error::UnknownAxis(id(9)));
        two_axes()
            .after([Command::RetireAxis {
                axis_id: id(1),
                reason: "fusionné".into(),
            }])
            .when(set(every_commune(10), false))
            .then_refused(Error::Retired(id(1)));
    }

    #[test]
    fn setting_an_objective_again_replaces_it_and_the_same_is_nothing() {
        let given = || two_axes().after([set(every_commune(10), false)]);
        given()
            .when(set(every_commune(10), false))
            .then_refused(Error::ObjectiveExists(id(10)));
        given().when(set(every_commune(10), true)).then([]);
        let three_roundtables = Objective {
            label: "3 tables rondes avec les entreprises".into(),
            measure: pb::ObjectiveMeasure::ActionsHeld,
            action_kinds: vec![pb::ActionKind::Roundtable],
            audiences: vec![pb::EngagementAudience::Businesses],
            target: 3,
            every_commune: false,
            axis: id(2),
            ..every_commune(10)
        };
        let after = given()
            .when(set(three_roundtables.clone(), true))
            .accepted()
            .1;
        assert_eq!(after.state().objectives, [three_roundtables]);
        two_axes()
            .when(set(every_commune(11), true))
            .then_refused(Error::UnknownObjective(id(11)));
    }

    #[test]
    fn a_withdrawn_objective_is_kept_with_its_reason_and_changes_no_more() {
        let withdraw = Command::Plan(PlanCommand::WithdrawObjective {
            objective_id: id(10),
            reason: "remplacé par un objectif par EPCI".into(),
        });
        let given = || two_axes().after([set(every_commune(10), false), withdraw.clone()]);
        assert_eq!(
            given().state().objectives[0].withdrawn.as_deref(),
            Some("remplacé par un objectif par EPCI")
        );
        given()
            .when(withdraw.clone())
            .then_refused(Error::ObjectiveWithdrawn(id(10)));
        given()
            .when(set(every_commune(10), true))
            .then_refused(Error::ObjectiveWithdrawn(id(10)));
        two_axes()
            .when(withdraw)
            .then_refused(Error::UnknownObjective(id(10)));
    }

    #[test]
    fn missions_have_unique_names_and_deliverables_delivered_once() {
        let given = two_axes().after([
            mission(20, "Mission 1 : sensibilisation"),
            deliverable(20, 21),
        ]);
        given
            .when(mission(22, "MISSION 1 : SENSIBILISATION"))
            .then_refused(Error::MissionNameTaken(
                "MISSION 1 : SENSIBILISATION".into(),
            ));
        given
            .when(mission(20, "Autre"))
            .then_refused(Error::MissionExists(id(20)));
        given
            .when(deliverable(99, 23))
            .then_refused(Error::UnknownMission(id(99)));
        given
            .when(deliverable(20, 21))
            .then_refused(Error::DeliverableExists(id(21)));
        let deliver = Command::Plan(PlanCommand::Deliver {
            deliverable_id: id(21),
            delivered_at: june_2027(),
            reference: "Rapport de sensibilisation v1".into(),
            actor: "claire".into(),
        });
        let delivered = given.when(deliver.clone()).accepted().1;
        let state = delivered.state();
        assert_eq!(
            state.deliverable(&id(21)).unwrap().delivered,
            Some((june_2027(), "Rapport de sensibilisation v1".into()))
        );
        assert_eq!(state.mission(&id(20)).unwrap().deliverables.len(), 1);
        delivered
            .when(deliver)
            .then_refused(Error::AlreadyDelivered(id(21)));
        two_axes()
            .when(Command::Plan(PlanCommand::Deliver {
                deliverable_id: id(5),
                delivered_at: june_2027(),
                reference: String::new(),
                actor: "claire".into(),
            }))
            .then_refused(Error::UnknownDeliverable(id(5)));
    }

    #[test]
    fn the_plan_lists_are_bounded() {
        let full: Vec<Command> = (0..MAX_MISSIONS as u128)
            .map(|n| mission(100 + n, &format!("Mission {n}")))
            .collect();
        two_axes()
            .after(full)
            .when(mission(1_000, "Une de trop"))
            .then_refused(Error::TooMany("missions", MAX_MISSIONS));
    }
}
