//! The concertation half of the Programme aggregate: a meeting of the
//! accompanying team with the collectivité's designated officers ("en étroite
//! concertation avec les responsables désignés"), about an axis or the whole
//! programme and maybe some actions, and what it decided. It lives in the
//! programme's stream because its rule reads the designations: each officer
//! present must have been designated for the meeting's axis (or the whole
//! programme) at the date it was held — checked against the same state the
//! designations are decided on, so no revocation can slip in between.
//!
//! Decisions (text, owner, due date) are the collectivité's and not personal
//! data; free notes about people are sealed by the service before the command
//! is built (vault subject `concertation:<id>`).

use std::time::SystemTime;

use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::programme::{Error, Event, State};
use super::timestamp;

/// Most concertations a programme may hold.
pub const MAX_CONCERTATIONS: usize = 2_000;

/// A concertation meeting to record (checked for form by the service: the
/// actions exist, the participants are in the register, texts are bounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concertation {
    /// The new concertation's id (from the server).
    pub id: Uuid,
    /// When it was held.
    pub held_at: SystemTime,
    /// The axis it was about (`None`: the whole programme).
    pub axis: Option<Uuid>,
    /// The actions it was about.
    pub action_ids: Vec<Uuid>,
    /// The designated officers present (principals, at least one, distinct).
    pub officers: Vec<String>,
    /// Other participants (stakeholder ids).
    pub participants: Vec<Uuid>,
    /// What it was about.
    pub subject: String,
    /// What it decided.
    pub decisions: Vec<pb::ConcertationDecision>,
    /// The notes, sealed (empty: none).
    pub sealed_notes: Vec<u8>,
    /// The principal recording it.
    pub recorded_by: String,
    /// The current time.
    pub now: SystemTime,
}

/// The events recording `concertation` in `state`.
pub(super) fn decide(concertation: &Concertation, state: &State) -> Result<Vec<Event>, Error> {
    let id = concertation.id.to_string();
    if state
        .concertations
        .iter()
        .any(|known| known.concertation_id == id)
    {
        return Err(Error::ConcertationExists(concertation.id));
    }
    if state.concertations.len() >= MAX_CONCERTATIONS {
        return Err(Error::TooMany("concertations", MAX_CONCERTATIONS));
    }
    if concertation.held_at > concertation.now {
        return Err(Error::HeldInTheFuture);
    }
    if let Some(axis) = &concertation.axis {
        state.axis_in_use(axis)?;
    }
    if let Some((index, officer)) = concertation
        .officers
        .iter()
        .enumerate()
        .find(|(_, officer)| !state.designated_at(officer, concertation.axis, concertation.held_at))
    {
        return Err(Error::OfficerNotDesignatedThen(index, officer.clone()));
    }
    Ok(vec![Event::ProgrammeConcertationRecorded(
        pb::ProgrammeConcertationRecorded {
            concertation_id: id,
            held_at: Some(timestamp(concertation.held_at)),
            axis_id: concertation
                .axis
                .map(|axis| axis.to_string())
                .unwrap_or_default(),
            action_ids: concertation
                .action_ids
                .iter()
                .map(Uuid::to_string)
                .collect(),
            officers: concertation.officers.clone(),
            participant_ids: concertation
                .participants
                .iter()
                .map(Uuid::to_string)
                .collect(),
            subject: concertation.subject.clone(),
            decisions: concertation.decisions.clone(),
            sealed_notes: concertation.sealed_notes.clone(),
            recorded_by: concertation.recorded_by.clone(),
        },
    )])
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use maillage_es::testing::{given_nothing, Given};

    use super::*;
    use crate::domain::programme::{Command, Officer, Programme};
    use crate::domain::testing;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn day(n: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + n * 86_400)
    }

    fn designate(principal: &str, axis: Option<u128>, from: u64) -> Command {
        Command::DesignateOfficer(Officer {
            principal: principal.into(),
            axis: axis.map(id),
            title: "DGS".into(),
            designated_by: "claire".into(),
            stakeholder: None,
            from: day(from),
        })
    }

    /// Axes 1 and 2; "dgs" designated for the programme from day 10, "elu"
    /// for axis 2 from day 20, revoked on day 30.
    fn programme() -> Given<Programme> {
        given_nothing::<Programme>().after([
            Command::DefineAxis {
                axis_id: id(1),
                name: "Sensibiliser".into(),
                description: String::new(),
                actor: "claire".into(),
            },
            Command::DefineAxis {
                axis_id: id(2),
                name: "Concerter".into(),
                description: String::new(),
                actor: "claire".into(),
            },
            designate("dgs", None, 10),
            designate("elu", Some(2), 20),
            Command::RevokeOfficer {
                principal: "elu".into(),
                axis: Some(id(2)),
                now: day(30),
            },
        ])
    }

    fn meeting(held: u64, axis: Option<u128>, officers: &[&str]) -> Command {
        Command::RecordConcertation(Box::new(Concertation {
            id: id(500 + held as u128),
            held_at: day(held),
            axis: axis.map(id),
            action_ids: vec![id(900)],
            officers: officers.iter().map(|o| o.to_string()).collect(),
            participants: vec![id(700)],
            subject: "Calendrier des ateliers".into(),
            decisions: vec![pb::ConcertationDecision {
                text: "Deux ateliers au printemps".into(),
                owner: "Service développement".into(),
                due_at: Some(timestamp(day(60))),
            }],
            sealed_notes: vec![1, 2],
            recorded_by: "claire".into(),
            now: day(40),
        }))
    }

    #[test]
    fn a_concertation_with_officers_designated_then_is_recorded_with_its_decisions() {
        let (events, given) = programme()
            .when(meeting(25, Some(2), &["elu", "dgs"]))
            .accepted();
        testing::assert_events_encode(&events[0]);
        let recorded = &given.state().concertations[0];
        assert_eq!(recorded.officers, ["elu", "dgs"]);
        assert_eq!(recorded.axis_id, id(2).to_string());
        assert_eq!(recorded.decisions[0].owner, "Service développement");
        assert_eq!(recorded.sealed_notes, vec![1, 2]);
        // A whole-programme officer counts for any axis and the whole programme.
        programme().when(meeting(15, None, &["dgs"])).accepted();
        programme().when(meeting(15, Some(1), &["dgs"])).accepted();
    }

    #[test]
    fn an_officer_not_designated_at_the_date_is_refused_naming_its_index() {
        // Before the designation.
        programme()
            .when(meeting(15, Some(2), &["dgs", "elu"]))
            .then_refused(Error::OfficerNotDesignatedThen(1, "elu".into()));
        // After the revocation.
        programme()
            .when(meeting(35, Some(2), &["elu"]))
            .then_refused(Error::OfficerNotDesignatedThen(0, "elu".into()));
        // For another axis than the one designated for.
        programme()
            .when(meeting(25, Some(1), &["elu"]))
            .then_refused(Error::OfficerNotDesignatedThen(0, "elu".into()));
        // An axis officer is not an officer of the whole programme.
        programme()
            .when(meeting(25, None, &["elu"]))
            .then_refused(Error::OfficerNotDesignatedThen(0, "elu".into()));
        programme()
            .when(meeting(25, None, &["claire"]))
            .then_refused(Error::OfficerNotDesignatedThen(0, "claire".into()));
    }

    #[test]
    fn the_future_an_unknown_axis_and_a_second_recording_are_refused() {
        programme()
            .when(meeting(41, None, &["dgs"]))
            .then_refused(Error::HeldInTheFuture);
        programme()
            .when(meeting(25, Some(9), &["dgs"]))
            .then_refused(Error::UnknownAxis(id(9)));
        programme()
            .after([meeting(25, None, &["dgs"])])
            .when(meeting(25, None, &["dgs"]))
            .then_refused(Error::ConcertationExists(id(525)));
    }

    #[test]
    fn older_designations_hold_since_always_and_older_revocations_never_held() {
        let older = Event::ProgrammeOfficerDesignated(pb::ProgrammeOfficerDesignated {
            principal: "maire".into(),
            title: "Maire".into(),
            ..Default::default()
        });
        let mut state = State::default();
        <Programme as maillage_es::Decider>::evolve(&mut state, &older);
        assert!(state.designated_at("maire", Some(id(1)), day(0)));
        <Programme as maillage_es::Decider>::evolve(
            &mut state,
            &Event::ProgrammeOfficerRevoked(pb::ProgrammeOfficerRevoked {
                principal: "maire".into(),
                ..Default::default()
            }),
        );
        assert!(!state.designated_at("maire", None, day(0)));
        assert!(!state.designated_at("maire", None, UNIX_EPOCH));
    }
}
