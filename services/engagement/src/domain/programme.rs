//! The Programme aggregate: the accompaniment's programme as the collectivité
//! defines it — its axes, a small taxonomy (name, description, order) that
//! actions, surveys and interviews are tagged with, and the officers it
//! designates (principals) for an axis or the whole programme, who approve its
//! thematic actions (see the Action aggregate) and meet the team in
//! concertation (`concertation.rs`); and its plan — the objectives
//! of each axis and the missions of the contract with their deliverables
//! (`programme_plan.rs`).
//!
//! The engagement log keeps one programme (its stream id is fixed), which
//! exists, empty, before its first axis: every command is a change, and no
//! creation command is needed. Axes are added last, renamed, reordered as a
//! whole, and retired (never deleted: what was tagged with a retired axis
//! keeps it, nothing new may be). Names are unique among the axes in use,
//! ignoring case.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use maillage_es::Decider;
use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::concertation::{self, Concertation};
use super::programme_plan::{self, Mission, Objective, PlanCommand};
use super::{instant, timestamp};

/// Most axes a programme may hold (retired ones included).
pub const MAX_AXES: usize = 50;

/// The id of the one programme of the engagement log (its stream is
/// `programme-<nil uuid>`).
pub const PROGRAMME_ID: Uuid = Uuid::nil();

/// A change to the programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds an axis, last.
    DefineAxis {
        /// The new axis's id (from the server).
        axis_id: Uuid,
        /// Its name (non-empty, checked by the service).
        name: String,
        /// What it covers.
        description: String,
        /// The principal defining it.
        actor: String,
    },
    /// Replaces an axis's name and description.
    RenameAxis {
        /// The axis.
        axis_id: Uuid,
        /// The new name.
        name: String,
        /// The new description.
        description: String,
    },
    /// Puts the axes in use in a new order.
    ReorderAxes {
        /// Every axis in use, each once.
        axis_ids: Vec<Uuid>,
    },
    /// Retires an axis.
    RetireAxis {
        /// The axis.
        axis_id: Uuid,
        /// Why (non-empty, checked by the service).
        reason: String,
    },
    /// Designates an officer (again: a new title replaces the old).
    DesignateOfficer(Officer),
    /// Ends a designation.
    RevokeOfficer {
        /// The officer's principal.
        principal: String,
        /// The axis designated for (`None`: the whole programme).
        axis: Option<Uuid>,
        /// The current time (the designation ends then).
        now: SystemTime,
    },
    /// A change to the objectives or the missions.
    Plan(PlanCommand),
    /// Records a concertation meeting (boxed: it is much larger than the rest).
    RecordConcertation(Box<Concertation>),
}

/// An officer of the collectivité, designated for an axis or the whole programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    /// Their principal name (non-empty, checked by the service).
    pub principal: String,
    /// The axis (`None`: the whole programme).
    pub axis: Option<Uuid>,
    /// Their office at the collectivité.
    pub title: String,
    /// Who recorded the designation (in the command only; the state keeps
    /// what a check needs).
    pub designated_by: String,
    /// The person in the register the principal is (checked by the service).
    pub stakeholder: Option<Uuid>,
    /// Since when the designation holds.
    pub from: SystemTime,
}

/// A period during which a principal was designated for an axis (or the
/// whole programme): what a concertation's officers are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The officer's principal.
    pub principal: String,
    /// The axis (`None`: the whole programme).
    pub axis: Option<Uuid>,
    /// Since when.
    pub from: SystemTime,
    /// Until when (`None`: still designated).
    pub until: Option<SystemTime>,
}

maillage_es::proto_events! {
    /// A fact recorded in the programme's stream.
    Event {
        ProgrammeAxisDefined(ProgrammeAxisDefined),
        ProgrammeAxisRenamed(ProgrammeAxisRenamed),
        ProgrammeAxesReordered(ProgrammeAxesReordered),
        ProgrammeAxisRetired(ProgrammeAxisRetired),
        ProgrammeOfficerDesignated(ProgrammeOfficerDesignated),
        ProgrammeOfficerRevoked(ProgrammeOfficerRevoked),
        ProgrammeObjectiveSet(ProgrammeObjectiveSet),
        ProgrammeObjectiveWithdrawn(ProgrammeObjectiveWithdrawn),
        ProgrammeMissionDefined(ProgrammeMissionDefined),
        MissionDeliverableAdded(MissionDeliverableAdded),
        MissionDeliverableDelivered(MissionDeliverableDelivered),
        ProgrammeConcertationRecorded(ProgrammeConcertationRecorded),
    }
}

/// Why a change to the programme is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Defining an id that exists.
    #[error("axis {0} already exists")]
    AxisExists(Uuid),
    /// Naming an axis the programme does not hold.
    #[error("no such axis {0}")]
    UnknownAxis(Uuid),
    /// Another axis in use has this name.
    #[error("name: another axis is named {0:?}")]
    NameTaken(String),
    /// Renaming or retiring a retired axis.
    #[error("axis {0} is retired")]
    Retired(Uuid),
    /// The programme is full.
    #[error("a programme holds at most {MAX_AXES} axes")]
    TooManyAxes,
    /// A new order that is not a permutation of the axes in use.
    #[error("axis_ids: {0}")]
    NotAPermutation(String),
    /// Revoking a designation that does not exist.
    #[error("{0} is not designated there")]
    NotDesignated(String),
    /// Naming an objective the programme does not hold.
    #[error("no such objective {0}")]
    UnknownObjective(Uuid),
    /// Setting a new objective with an id that exists.
    #[error("objective {0} already exists")]
    ObjectiveExists(Uuid),
    /// Changing a withdrawn objective.
    #[error("objective {0} is withdrawn")]
    ObjectiveWithdrawn(Uuid),
    /// Defining a mission with an id that exists.
    #[error("mission {0} already exists")]
    MissionExists(Uuid),
    /// Another mission has this name.
    #[error("name: another mission is named {0:?}")]
    MissionNameTaken(String),
    /// Naming a mission the programme does not hold.
    #[error("no such mission {0}")]
    UnknownMission(Uuid),
    /// Adding a deliverable with an id that exists.
    #[error("deliverable {0} already exists")]
    DeliverableExists(Uuid),
    /// Naming a deliverable no mission holds.
    #[error("no such deliverable {0}")]
    UnknownDeliverable(Uuid),
    /// Delivering a deliverable twice.
    #[error("deliverable {0} was already delivered")]
    AlreadyDelivered(Uuid),
    /// A list of the plan is full.
    #[error("a programme holds at most {1} {0}")]
    TooMany(&'static str, usize),
    /// Recording a concertation with an id that exists.
    #[error("concertation {0} already exists")]
    ConcertationExists(Uuid),
    /// A concertation dated in the future.
    #[error("held_at: a concertation cannot be held in the future")]
    HeldInTheFuture,
    /// An officer present at a concertation was not designated for its axis
    /// (or the whole programme) at its date: (index, principal).
    #[error("officers[{0}]: {1} was not designated for this axis or the programme at that date")]
    OfficerNotDesignatedThen(usize, String),
}

/// One axis, as its events made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Why it was retired (`None`: in use).
    pub retired: Option<String>,
}

/// The programme: its axes, those in use in their order, then the retired
/// ones in the order they were retired.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Every axis.
    pub axes: Vec<Axis>,
    /// The officers designated now, in the order designated.
    pub officers: Vec<Officer>,
    /// The objectives, in the order first set (withdrawn ones included).
    pub objectives: Vec<Objective>,
    /// The missions of the contract, in the order defined.
    pub missions: Vec<Mission>,
    /// Every designation's period, in the order designated.
    pub periods: Vec<Period>,
    /// The concertation meetings, in the order recorded.
    pub concertations: Vec<pb::ProgrammeConcertationRecorded>,
}

impl State {
    /// The axis `id`, if the programme holds it.
    pub fn axis(&self, id: &Uuid) -> Option<&Axis> {
        self.axes.iter().find(|axis| axis.id == *id)
    }

    /// The axes in use, in order.
    pub fn in_use(&self) -> impl Iterator<Item = &Axis> {
        self.axes.iter().filter(|axis| axis.retired.is_none())
    }

    /// Whether `principal` is designated for the whole programme or for one
    /// of `axes` (ids as events hold them).
    pub fn designated(&self, principal: &str, axes: &[String]) -> bool {
        self.officers.iter().any(|officer| {
            officer.principal == principal
                && officer
                    .axis
                    .is_none_or(|axis| axes.iter().any(|id| *id == axis.to_string()))
        })
    }

    /// Whether anyone is designated for the whole programme or one of `axes`.
    pub fn has_officer_for(&self, axes: &[Uuid]) -> bool {
        self.officers
            .iter()
            .any(|officer| officer.axis.is_none_or(|axis| axes.contains(&axis)))
    }

    /// Whether `principal` was designated for `axis` or the whole programme
    /// at `at`.
    pub fn designated_at(&self, principal: &str, axis: Option<Uuid>, at: SystemTime) -> bool {
        self.periods.iter().any(|period| {
            period.principal == principal
                && (period.axis.is_none() || period.axis == axis)
                && period.from <= at
                && period.until.is_none_or(|until| at < until)
        })
    }

    fn officer(&self, principal: &str, axis: Option<Uuid>) -> Option<&Officer> {
        self.officers
            .iter()
            .find(|officer| officer.principal == principal && officer.axis == axis)
    }

    fn name_taken(&self, name: &str, except: Option<Uuid>) -> bool {
        let name = name.to_lowercase();
        self.in_use()
            .any(|axis| Some(axis.id) != except && axis.name.to_lowercase() == name)
    }

    /// The axis `id`, in use.
    pub(super) fn axis_in_use(&self, id: &Uuid) -> Result<&Axis, Error> {
        let axis = self.axis(id).ok_or(Error::UnknownAxis(*id))?;
        match axis.retired {
            None => Ok(axis),
            Some(_) => Err(Error::Retired(*id)),
        }
    }
}

/// The Programme decider.
pub struct Programme;

impl Decider for Programme {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match command {
            Command::DefineAxis {
                axis_id,
                name,
                description,
                actor,
            } => {
                if state.axis(axis_id).is_some() {
                    return Err(Error::AxisExists(*axis_id));
                }
                if state.axes.len() >= MAX_AXES {
                    return Err(Error::TooManyAxes);
                }
                if state.name_taken(name, None) {
                    return Err(Error::NameTaken(name.clone()));
                }
                Ok(vec![Event::ProgrammeAxisDefined(
                    pb::ProgrammeAxisDefined {
                        axis_id: axis_id.to_string(),
                        name: name.clone(),
                        description: description.clone(),
                        defined_by: actor.clone(),
                    },
                )])
            }
            Command::RenameAxis {
                axis_id,
                name,
                description,
            } => {
                let axis = state.axis_in_use(axis_id)?;
                if state.name_taken(name, Some(*axis_id)) {
                    return Err(Error::NameTaken(name.clone()));
                }
                if axis.name == *name && axis.description == *description {
                    return Ok(vec![]);
                }
                Ok(vec![Event::ProgrammeAxisRenamed(
                    pb::ProgrammeAxisRenamed {
                        axis_id: axis_id.to_string(),
                        name: name.clone(),
                        description: description.clone(),
                    },
                )])
            }
            Command::ReorderAxes { axis_ids } => {
                let in_use: Vec<Uuid> = state.in_use().map(|axis| axis.id).collect();
                let given: HashSet<&Uuid> = axis_ids.iter().collect();
                if given.len() != axis_ids.len() {
                    return Err(Error::NotAPermutation("an axis appears twice".into()));
                }
                if axis_ids.len() != in_use.len() || !in_use.iter().all(|id| given.contains(id)) {
                    return Err(Error::NotAPermutation(format!(
                        "name every axis in use ({}), each once",
                        in_use.len()
                    )));
                }
                if *axis_ids == in_use {
                    return Ok(vec![]);
                }
                Ok(vec![Event::ProgrammeAxesReordered(
                    pb::ProgrammeAxesReordered {
                        axis_ids: axis_ids.iter().map(Uuid::to_string).collect(),
                    },
                )])
            }
            Command::DesignateOfficer(officer) => {
                if let Some(axis) = &officer.axis {
                    state.axis_in_use(axis)?;
                }
                if state
                    .officer(&officer.principal, officer.axis)
                    .is_some_and(|known| {
                        known.title == officer.title && known.stakeholder == officer.stakeholder
                    })
                {
                    return Ok(vec![]);
                }
                Ok(vec![Event::ProgrammeOfficerDesignated(
                    pb::ProgrammeOfficerDesignated {
                        principal: officer.principal.clone(),
                        axis_id: officer.axis.map(|a| a.to_string()).unwrap_or_default(),
                        title: officer.title.clone(),
                        designated_by: officer.designated_by.clone(),
                        stakeholder_id: officer
                            .stakeholder
                            .map(|id| id.to_string())
                            .unwrap_or_default(),
                        designated_from: Some(timestamp(officer.from)),
                    },
                )])
            }
            Command::RevokeOfficer {
                principal,
                axis,
                now,
            } => {
                if state.officer(principal, *axis).is_none() {
                    return Err(Error::NotDesignated(principal.clone()));
                }
                Ok(vec![Event::ProgrammeOfficerRevoked(
                    pb::ProgrammeOfficerRevoked {
                        principal: principal.clone(),
                        axis_id: axis.map(|a| a.to_string()).unwrap_or_default(),
                        revoked_at: Some(timestamp(*now)),
                    },
                )])
            }
            Command::Plan(command) => programme_plan::decide(command, state),
            Command::RecordConcertation(concertation) => concertation::decide(concertation, state),
            Command::RetireAxis { axis_id, reason } => {
                state.axis_in_use(axis_id)?;
                Ok(vec![Event::ProgrammeAxisRetired(
                    pb::ProgrammeAxisRetired {
                        axis_id: axis_id.to_string(),
                        reason: reason.clone(),
                    },
                )])
            }
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        let parse = |id: &str| id.parse::<Uuid>().unwrap_or_default();
        match event {
            Event::ProgrammeAxisDefined(defined) => {
                // Last among the axes in use: before the retired ones.
                let at = state.in_use().count();
                state.axes.insert(
                    at,
                    Axis {
                        id: parse(&defined.axis_id),
                        name: defined.name.clone(),
                        description: defined.description.clone(),
                        retired: None,
                    },
                );
            }
            Event::ProgrammeAxisRenamed(renamed) => {
                let id = parse(&renamed.axis_id);
                if let Some(axis) = state.axes.iter_mut().find(|axis| axis.id == id) {
                    axis.name = renamed.name.clone();
                    axis.description = renamed.description.clone();
                }
            }
            Event::ProgrammeAxesReordered(reordered) => {
                let order: Vec<Uuid> = reordered.axis_ids.iter().map(|id| parse(id)).collect();
                let rank = |axis: &Axis| match axis.retired {
                    None => order
                        .iter()
                        .position(|id| *id == axis.id)
                        .unwrap_or(usize::MAX - 1),
                    Some(_) => usize::MAX,
                };
                // Stable: the retired keep their order, after the others.
                state.axes.sort_by_key(rank);
            }
            Event::ProgrammeOfficerDesignated(designated) => {
                let axis = (!designated.axis_id.is_empty()).then(|| parse(&designated.axis_id));
                // Older events carry no date: they hold since always.
                let from = designated
                    .designated_from
                    .map_or(UNIX_EPOCH, |at| instant(&Some(at)));
                let officer = Officer {
                    principal: designated.principal.clone(),
                    axis,
                    title: designated.title.clone(),
                    designated_by: designated.designated_by.clone(),
                    stakeholder: designated.stakeholder_id.parse().ok(),
                    from,
                };
                let open = state.periods.iter().any(|period| {
                    period.principal == officer.principal
                        && period.axis == axis
                        && period.until.is_none()
                });
                if !open {
                    state.periods.push(Period {
                        principal: officer.principal.clone(),
                        axis,
                        from,
                        until: None,
                    });
                }
                match state
                    .officers
                    .iter_mut()
                    .find(|known| known.principal == officer.principal && known.axis == axis)
                {
                    Some(known) => *known = officer,
                    None => state.officers.push(officer),
                }
            }
            Event::ProgrammeOfficerRevoked(revoked) => {
                let axis = (!revoked.axis_id.is_empty()).then(|| parse(&revoked.axis_id));
                state
                    .officers
                    .retain(|known| !(known.principal == revoked.principal && known.axis == axis));
                for period in state.periods.iter_mut().filter(|period| {
                    period.principal == revoked.principal
                        && period.axis == axis
                        && period.until.is_none()
                }) {
                    // Older events carry no date: their period counts as never held.
                    period.until = Some(match revoked.revoked_at {
                        Some(_) => instant(&revoked.revoked_at),
                        None => period.from,
                    });
                }
            }
            Event::ProgrammeObjectiveSet(_)
            | Event::ProgrammeObjectiveWithdrawn(_)
            | Event::ProgrammeMissionDefined(_)
            | Event::MissionDeliverableAdded(_)
            | Event::MissionDeliverableDelivered(_) => programme_plan::evolve(state, event),
            Event::ProgrammeConcertationRecorded(recorded) => {
                state.concertations.push(recorded.clone())
            }
            Event::ProgrammeAxisRetired(retired) => {
                let id = parse(&retired.axis_id);
                if let Some(at) = state.axes.iter().position(|axis| axis.id == id) {
                    let mut axis = state.axes.remove(at);
                    axis.retired = Some(retired.reason.clone());
                    state.axes.push(axis);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use maillage_es::testing::{given_nothing, Given};

    use super::*;
    use crate::domain::testing;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn define(n: u128, name: &str) -> Command {
        Command::DefineAxis {
            axis_id: id(n),
            name: name.into(),
            description: format!("Axe {name}"),
            actor: "claire".into(),
        }
    }

    /// A programme with the axes 1 "Sensibiliser", 2 "Concerter", 3 "Outiller".
    fn three_axes() -> Given<Programme> {
        given_nothing::<Programme>().after([
            define(1, "Sensibiliser"),
            define(2, "Concerter"),
            define(3, "Outiller"),
        ])
    }

    fn names(given: &Given<Programme>) -> Vec<String> {
        given.state().axes.iter().map(|a| a.name.clone()).collect()
    }

    #[test]
    fn axes_are_defined_last_with_who_defined_them() {
        let defined = Event::ProgrammeAxisDefined(pb::ProgrammeAxisDefined {
            axis_id: id(1).to_string(),
            name: "Sensibiliser".into(),
            description: "Axe Sensibiliser".into(),
            defined_by: "claire".into(),
        });
        testing::assert_events_encode(&defined);
        given_nothing::<Programme>()
            .when(define(1, "Sensibiliser"))
            .then([defined]);
        assert_eq!(
            names(&three_axes()),
            ["Sensibiliser", "Concerter", "Outiller"]
        );
    }

    #[test]
    fn names_are_unique_among_the_axes_in_use_ignoring_case() {
        three_axes()
            .when(define(4, "concerter"))
            .then_refused(Error::NameTaken("concerter".into()));
        three_axes()
            .when(Command::RenameAxis {
                axis_id: id(1),
                name: "OUTILLER".into(),
                description: String::new(),
            })
            .then_refused(Error::NameTaken("OUTILLER".into()));
        three_axes()
            .when(define(1, "Autre"))
            .then_refused(Error::AxisExists(id(1)));
        // Once retired, its name is free again.
        three_axes()
            .after([Command::RetireAxis {
                axis_id: id(2),
                reason: "fusionné".into(),
            }])
            .when(define(4, "Concerter"))
            .accepted();
    }

    #[test]
    fn renaming_replaces_name_and_description_and_the_same_is_nothing() {
        let given = three_axes()
            .when(Command::RenameAxis {
                axis_id: id(3),
                name: "Outiller les tiers-lieux".into(),
                description: "Modèles économiques".into(),
            })
            .then([Event::ProgrammeAxisRenamed(pb::ProgrammeAxisRenamed {
                axis_id: id(3).to_string(),
                name: "Outiller les tiers-lieux".into(),
                description: "Modèles économiques".into(),
            })]);
        assert_eq!(names(&given)[2], "Outiller les tiers-lieux");
        three_axes()
            .when(Command::RenameAxis {
                axis_id: id(2),
                name: "Concerter".into(),
                description: "Axe Concerter".into(),
            })
            .then([]);
        three_axes()
            .when(Command::RenameAxis {
                axis_id: id(9),
                name: "x".into(),
                description: String::new(),
            })
            .then_refused(Error::UnknownAxis(id(9)));
    }

    #[test]
    fn reordering_takes_every_axis_in_use_once() {
        let given = three_axes()
            .when(Command::ReorderAxes {
                axis_ids: vec![id(3), id(1), id(2)],
            })
            .then([Event::ProgrammeAxesReordered(pb::ProgrammeAxesReordered {
                axis_ids: vec![id(3).to_string(), id(1).to_string(), id(2).to_string()],
            })]);
        assert_eq!(names(&given), ["Outiller", "Sensibiliser", "Concerter"]);
        for bad in [
            vec![id(3), id(1)],
            vec![id(3), id(1), id(1)],
            vec![id(3), id(1), id(9)],
        ] {
            assert!(matches!(
                three_axes()
                    .when(Command::ReorderAxes { axis_ids: bad })
                    .refusal(),
                Error::NotAPermutation(_)
            ));
        }
        three_axes()
            .when(Command::ReorderAxes {
                axis_ids: vec![id(1), id(2), id(3)],
            })
            .then([]);
    }

    #[test]
    fn a_retired_axis_goes_last_keeps_its_reason_and_changes_no_more() {
        let retire = Command::RetireAxis {
            axis_id: id(1),
            reason: "fusionné avec Concerter".into(),
        };
        let given = three_axes().after([retire.clone()]);
        assert_eq!(names(&given), ["Concerter", "Outiller", "Sensibiliser"]);
        assert_eq!(
            given.state().axis(&id(1)).unwrap().retired.as_deref(),
            Some("fusionné avec Concerter")
        );
        assert_eq!(given.state().in_use().count(), 2);
        let again = || three_axes().after([retire.clone()]);
        again()
            .when(retire.clone())
            .then_refused(Error::Retired(id(1)));
        again()
            .when(Command::RenameAxis {
                axis_id: id(1),
                name: "x".into(),
                description: String::new(),
            })
            .then_refused(Error::Retired(id(1)));
        // A reorder names the axes in use only; the retired stay last.
        let given = again()
            .when(Command::ReorderAxes {
                axis_ids: vec![id(3), id(2)],
            })
            .accepted()
            .1;
        assert_eq!(names(&given), ["Outiller", "Concerter", "Sensibiliser"]);
        // A new axis goes before the retired ones.
        let given = again().after([define(4, "Évaluer")]);
        assert_eq!(
            names(&given),
            ["Concerter", "Outiller", "Évaluer", "Sensibiliser"]
        );
    }

    fn designate(principal: &str, axis: Option<u128>, title: &str) -> Command {
        Command::DesignateOfficer(Officer {
            principal: principal.into(),
            axis: axis.map(id),
            title: title.into(),
            designated_by: "claire".into(),
            stakeholder: None,
            from: UNIX_EPOCH,
        })
    }

    #[test]
    fn officers_are_designated_for_an_axis_in_use_or_the_whole_programme() {
        let given = three_axes().after([
            designate("dgs", None, "DGS"),
            designate("elue", Some(2), "Élue référente"),
        ]);
        let state = given.state();
        let on =
            |axes: &[u128]| -> Vec<String> { axes.iter().map(|n| id(*n).to_string()).collect() };
        assert!(state.designated("dgs", &[]));
        assert!(state.designated("elue", &on(&[1, 2])));
        assert!(!state.designated("elue", &on(&[1])));
        assert!(!state.designated("claire", &on(&[2])));
        assert!(state.has_officer_for(&[id(3)]));
        // The same designation again is nothing; a new title replaces the old.
        three_axes()
            .after([designate("dgs", None, "DGS")])
            .when(designate("dgs", None, "DGS"))
            .then([]);
        let given = three_axes()
            .after([designate("dgs", None, "DGS")])
            .when(designate("dgs", None, "Directrice générale"))
            .accepted()
            .1;
        assert_eq!(given.state().officers.len(), 1);
        assert_eq!(given.state().officers[0].title, "Directrice générale");
        three_axes()
            .when(designate("x", Some(9), ""))
            .then_refused(Error::UnknownAxis(id(9)));
    }

    #[test]
    fn a_designation_keeps_its_link_and_start_and_a_new_link_replaces_the_old() {
        let linked = |person: u128, from: u64| {
            Command::DesignateOfficer(Officer {
                stakeholder: Some(id(person)),
                from: UNIX_EPOCH + std::time::Duration::from_secs(from),
                ..match designate("dgs", None, "DGS") {
                    Command::DesignateOfficer(officer) => officer,
                    _ => unreachable!(),
                }
            })
        };
        let (events, given) = three_axes().when(linked(700, 100)).accepted();
        match &events[0] {
            Event::ProgrammeOfficerDesignated(designated) => {
                assert_eq!(designated.stakeholder_id, id(700).to_string());
                assert_eq!(designated.designated_from.map(|at| at.seconds), Some(100));
            }
            other => panic!("{other:?}"),
        }
        let at = |seconds| UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        assert!(!given.state().designated_at("dgs", None, at(99)));
        assert!(given.state().designated_at("dgs", Some(id(2)), at(100)));
        // The same link again is nothing; another replaces it, the period
        // keeping its start.
        three_axes()
            .after([linked(700, 100)])
            .when(linked(700, 100))
            .then([]);
        let given = three_axes()
            .after([linked(700, 100)])
            .when(linked(701, 500))
            .accepted()
            .1;
        assert_eq!(given.state().officers[0].stakeholder, Some(id(701)));
        assert_eq!(given.state().periods.len(), 1);
        assert!(given.state().designated_at("dgs", None, at(200)));
    }

    #[test]
    fn a_revoked_officer_is_designated_no_more() {
        let given = three_axes()
            .after([designate("elue", Some(2), "Élue")])
            .when(Command::RevokeOfficer {
                principal: "elue".into(),
                axis: Some(id(2)),
                now: UNIX_EPOCH,
            })
            .then([Event::ProgrammeOfficerRevoked(
                pb::ProgrammeOfficerRevoked {
                    principal: "elue".into(),
                    axis_id: id(2).to_string(),
                    revoked_at: Some(timestamp(UNIX_EPOCH)),
                },
            )]);
        assert!(!given.state().designated("elue", &[id(2).to_string()]));
        assert!(!given.state().has_officer_for(&[id(2)]));
        three_axes()
            .when(Command::RevokeOfficer {
                principal: "elue".into(),
                axis: None,
                now: UNIX_EPOCH,
            })
            .then_refused(Error::NotDesignated("elue".into()));
    }

    #[test]
    fn a_programme_holds_at_most_max_axes() {
        let full: Vec<Command> = (1..=MAX_AXES as u128)
            .map(|n| define(n, &format!("Axe {n}")))
            .collect();
        given_nothing::<Programme>()
            .after(full)
            .when(define(1_000, "Un de trop"))
            .then_refused(Error::TooManyAxes);
    }
}
