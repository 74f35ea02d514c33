//! The Foresight aggregate: what a foresight workshop (an action of kind
//! `ACTION_KIND_FORESIGHT_WORKSHOP`, "prospective") produced — scenarios
//! with a horizon, weak signals, recommendations. Its stream is keyed by the
//! workshop's action id; outputs are recorded once the workshop is held
//! (checked by the service from the action, passed in the command), and
//! recorded again as a whole to revise them. Written for the record: nothing
//! sealed.

use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::timestamp;

/// What to record (each text validated by the service).
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// The workshop (an action id).
    pub action_id: Uuid,
    /// Whether the workshop was held (read from the action by the service).
    pub held: bool,
    /// Scenarios, each with its horizon.
    pub scenarios: Vec<pb::ForesightScenario>,
    /// Weak signals.
    pub signals: Vec<String>,
    /// Recommendations.
    pub recommendations: Vec<String>,
    /// The principal recording them.
    pub recorded_by: String,
    /// The current time.
    pub now: SystemTime,
}

/// A request to change a workshop's outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Records (or replaces) them.
    Record(Outputs),
}

maillage_es::proto_events! {
    /// A fact recorded in a foresight stream.
    Event {
        ForesightOutputsRecorded(ForesightOutputsRecorded),
    }
}

/// Why outputs are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Outputs of a workshop not held (yet).
    #[error("the foresight workshop is not held yet")]
    NotHeld,
    /// No scenario, signal or recommendation.
    #[error("at least one scenario, signal or recommendation is required")]
    Empty,
}

/// A workshop's outputs as their events made them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// The latest outputs (None until recorded).
    pub recorded: Option<pb::ForesightOutputsRecorded>,
}

/// The Foresight decider.
pub struct Foresight;

impl Decider for Foresight {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        let Command::Record(outputs) = command;
        if !outputs.held {
            return Err(Error::NotHeld);
        }
        if outputs.scenarios.is_empty()
            && outputs.signals.is_empty()
            && outputs.recommendations.is_empty()
        {
            return Err(Error::Empty);
        }
        let unchanged = state.recorded.as_ref().is_some_and(|recorded| {
            recorded.scenarios == outputs.scenarios
                && recorded.signals == outputs.signals
                && recorded.recommendations == outputs.recommendations
        });
        if unchanged {
            return Ok(vec![]);
        }
        Ok(vec![Event::ForesightOutputsRecorded(
            pb::ForesightOutputsRecorded {
                action_id: outputs.action_id.to_string(),
                scenarios: outputs.scenarios.clone(),
                signals: outputs.signals.clone(),
                recommendations: outputs.recommendations.clone(),
                recorded_by: outputs.recorded_by.clone(),
                recorded_at: Some(timestamp(outputs.now)),
            },
        )])
    }

    fn evolve(state: &mut State, event: &Event) {
        let Event::ForesightOutputsRecorded(recorded) = event;
        state.recorded = Some(recorded.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use maillage_es::testing::given_nothing;

    use super::*;
    use crate::domain::testing;

    fn outputs(held: bool, signals: &[&str]) -> Command {
        Command::Record(Outputs {
            action_id: Uuid::from_u128(60),
            held,
            scenarios: vec![pb::ForesightScenario {
                title: "Un tiers-lieu par bassin de vie".into(),
                horizon_year: 2035,
                narrative: "Trois lieux reliés par le transport à la demande.".into(),
            }],
            signals: signals.iter().map(|s| s.to_string()).collect(),
            recommendations: vec!["Mutualiser un poste d'animateur".into()],
            recorded_by: "alice".into(),
            now: UNIX_EPOCH + Duration::from_secs(1_780_000_000),
        })
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let (events, _) = given_nothing::<Foresight>()
            .when(outputs(true, &["Hausse du télétravail"]))
            .accepted();
        testing::assert_events_encode(&events[0]);
    }

    #[test]
    fn outputs_are_recorded_once_the_workshop_is_held() {
        given_nothing::<Foresight>()
            .when(outputs(false, &[]))
            .then_refused(Error::NotHeld);
        let state = testing::given::<Foresight>(&[outputs(true, &[])]);
        let recorded = state.recorded.unwrap();
        assert_eq!(recorded.scenarios[0].horizon_year, 2035);
        assert_eq!(recorded.action_id, Uuid::from_u128(60).to_string());
    }

    #[test]
    fn empty_outputs_are_refused() {
        let empty = Command::Record(Outputs {
            scenarios: vec![],
            recommendations: vec![],
            ..match outputs(true, &[]) {
                Command::Record(outputs) => outputs,
            }
        });
        given_nothing::<Foresight>()
            .when(empty)
            .then_refused(Error::Empty);
    }

    #[test]
    fn recording_again_replaces_and_the_same_outputs_record_nothing() {
        let given = given_nothing::<Foresight>().after([outputs(true, &[])]);
        given.when(outputs(true, &[])).then([]);
        let revised = given
            .after([outputs(true, &["Des retraités actifs"])])
            .into_state();
        assert_eq!(
            revised.recorded.unwrap().signals,
            vec!["Des retraités actifs".to_string()]
        );
    }
}
