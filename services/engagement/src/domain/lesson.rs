//! The Lesson aggregate: one entry of the lessons-learned register (retour
//! d'expérience) — what succeeded or failed, about which themes of the seed
//! and axes of the programme, learned from which action, interview or
//! diagnostic. Recorded once, then withdrawn (with a reason) if wrong or
//! superseded: the log keeps it, the register leaves it out.
//!
//! A lesson is written for the record of the accompaniment (as an action's
//! description): nothing in it is sealed.

use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1::{self as pb, LessonOutcome, Theme};
use uuid::Uuid;

use super::timestamp;

/// What to record (validated by the service: a title, at least one theme,
/// axes in use, a source that exists).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The new lesson's id (from the server).
    pub lesson_id: Uuid,
    /// Success or failure.
    pub outcome: LessonOutcome,
    /// What was learned.
    pub title: String,
    /// More about it.
    pub detail: String,
    /// The themes it is about.
    pub topics: Vec<Theme>,
    /// The axes it concerns.
    pub axes: Vec<Uuid>,
    /// Where it was learned.
    pub source: pb::lesson_source::Of,
    /// The principal recording it.
    pub recorded_by: String,
    /// The current time.
    pub now: SystemTime,
}

/// A request to change a lesson.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Records a lesson.
    Record(Record),
    /// Withdraws it.
    Withdraw {
        /// Why (non-empty, checked by the service).
        reason: String,
    },
}

maillage_es::proto_events! {
    /// A fact recorded in a lesson's stream.
    Event {
        LessonRecorded(LessonRecorded),
        LessonWithdrawn(LessonWithdrawn),
    }
}

/// Why a command on a lesson is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Recording an id that already exists.
    #[error("the lesson already exists")]
    AlreadyExists,
    /// A command on a lesson never recorded.
    #[error("no such lesson")]
    NotFound,
    /// Withdrawing a lesson withdrawn.
    #[error("the lesson is already withdrawn")]
    Withdrawn,
}

/// A lesson as its events made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// The recorded lesson (None until recorded).
    pub recorded: Option<pb::LessonRecorded>,
    /// Why it was withdrawn (None: in the register).
    pub withdrawn: Option<String>,
}

/// The Lesson decider.
pub struct Lesson;

impl Decider for Lesson {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match (command, &state.recorded) {
            (Command::Record(_), Some(_)) => Err(Error::AlreadyExists),
            (Command::Record(record), None) => {
                Ok(vec![Event::LessonRecorded(pb::LessonRecorded {
                    lesson_id: record.lesson_id.to_string(),
                    outcome: record.outcome as i32,
                    title: record.title.clone(),
                    detail: record.detail.clone(),
                    topics: record.topics.iter().map(|t| *t as i32).collect(),
                    axis_ids: record.axes.iter().map(Uuid::to_string).collect(),
                    source: Some(pb::LessonSource {
                        of: Some(record.source.clone()),
                    }),
                    recorded_by: record.recorded_by.clone(),
                    recorded_at: Some(timestamp(record.now)),
                })])
            }
            (Command::Withdraw { .. }, None) => Err(Error::NotFound),
            (Command::Withdraw { reason }, Some(recorded)) => {
                if state.withdrawn.is_some() {
                    return Err(Error::Withdrawn);
                }
                Ok(vec![Event::LessonWithdrawn(pb::LessonWithdrawn {
                    lesson_id: recorded.lesson_id.clone(),
                    reason: reason.clone(),
                })])
            }
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        match event {
            Event::LessonRecorded(recorded) => state.recorded = Some(recorded.clone()),
            Event::LessonWithdrawn(withdrawn) => state.withdrawn = Some(withdrawn.reason.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use maillage_es::testing::given_nothing;
    use pb::lesson_source::Of;

    use super::*;
    use crate::domain::testing;

    fn record() -> Command {
        Command::Record(Record {
            lesson_id: Uuid::from_u128(5),
            outcome: LessonOutcome::Failure,
            title: "Une réunion publique un mardi à 14 h ne touche pas les actifs".into(),
            detail: "Trois personnes, toutes retraitées.".into(),
            topics: vec![Theme::Awareness],
            axes: vec![Uuid::from_u128(200)],
            source: Of::ActionId(Uuid::from_u128(50).to_string()),
            recorded_by: "alice".into(),
            now: UNIX_EPOCH + Duration::from_secs(1_780_000_000),
        })
    }

    fn withdraw() -> Command {
        Command::Withdraw {
            reason: "Contredit par la réunion suivante".into(),
        }
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let (events, after) = given_nothing::<Lesson>().when(record()).accepted();
        testing::assert_events_encode(&events[0]);
        testing::assert_events_encode(&after.when(withdraw()).events()[0]);
    }

    #[test]
    fn recording_keeps_outcome_themes_axes_and_source() {
        let state = testing::given::<Lesson>(&[record()]);
        let recorded = state.recorded.unwrap();
        assert_eq!(recorded.outcome, LessonOutcome::Failure as i32);
        assert_eq!(recorded.topics, vec![Theme::Awareness as i32]);
        assert_eq!(recorded.axis_ids, vec![Uuid::from_u128(200).to_string()]);
        assert_eq!(
            recorded.source.unwrap().of,
            Some(Of::ActionId(Uuid::from_u128(50).to_string()))
        );
        assert_eq!(state.withdrawn, None);
    }

    #[test]
    fn recording_twice_is_refused() {
        given_nothing::<Lesson>()
            .after([record()])
            .when(record())
            .then_refused(Error::AlreadyExists);
    }

    #[test]
    fn a_lesson_is_withdrawn_once_and_only_once_recorded() {
        given_nothing::<Lesson>()
            .when(withdraw())
            .then_refused(Error::NotFound);
        let withdrawn = given_nothing::<Lesson>().after([record(), withdraw()]);
        assert_eq!(
            withdrawn.state().withdrawn.as_deref(),
            Some("Contredit par la réunion suivante")
        );
        withdrawn.when(withdraw()).then_refused(Error::Withdrawn);
    }
}
