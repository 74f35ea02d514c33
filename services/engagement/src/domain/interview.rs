//! The Interview aggregate: a semi-structured interview with a stakeholder or
//! an anonymous profile, its themes, motivations and expectations, and notes.
//!
//! Notes are personal data: the gRPC layer seals them under the interview's own
//! key (vault subject `interview:<id>`) before the command is built, so the
//! domain and the log only ever see ciphertext.

use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1::{self as pb, Theme};
use uuid::Uuid;

use super::{instant, timestamp};

/// What to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The new interview's id (from the server).
    pub interview_id: Uuid,
    /// Whom it was with (validated).
    pub subject: pb::InterviewSubject,
    /// The principal who conducted it (the caller).
    pub interviewer: String,
    /// When it took place.
    pub conducted_at: SystemTime,
    /// Themes (distinct).
    pub themes: Vec<Theme>,
    /// The programme's axes it serves (checked by the service).
    pub axes: Vec<Uuid>,
    /// Motivations heard, each sealed.
    pub sealed_motivations: Vec<Vec<u8>>,
    /// Expectations heard, each sealed.
    pub sealed_expectations: Vec<Vec<u8>>,
    /// The notes, sealed.
    pub sealed_notes: Vec<u8>,
    /// The survey it completes (checked by the service).
    pub survey: Option<Uuid>,
    /// Its motivations and expectations coded (codes of the codebook in
    /// use of each kind, checked by the service): not personal data.
    pub codes: Coded,
    /// The current time.
    pub now: SystemTime,
}

/// An interview's coded motivations and expectations (code ids).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coded {
    /// Codes of kind MOTIVATION.
    pub motivations: Vec<Uuid>,
    /// Codes of kind EXPECTATION.
    pub expectations: Vec<Uuid>,
}

/// A request to change an interview.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Records an interview (boxed: it is much larger than a revision).
    Record(Box<Record>),
    /// Replaces its notes.
    ReviseNotes {
        /// The new notes, sealed.
        sealed_notes: Vec<u8>,
    },
}

maillage_es::proto_events! {
    /// A fact recorded in an interview's stream. An interview has two events and
    /// each lives only while decided or folded: boxing the larger one would
    /// cost an allocation for no memory saved.
    #[allow(clippy::large_enum_variant)]
    Event {
        InterviewRecorded(InterviewRecorded),
        InterviewNotesRevised(InterviewNotesRevised),
    }
}

/// Why a command on an interview is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Recording an id that already exists.
    #[error("the interview already exists")]
    AlreadyExists,
    /// A command on an interview never recorded.
    #[error("no such interview")]
    NotFound,
    /// An interview dated in the future.
    #[error("an interview cannot take place in the future")]
    InTheFuture,
}

/// An interview as its events made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// The recorded interview, its notes the latest ones (None until recorded).
    pub recorded: Option<pb::InterviewRecorded>,
}

/// The Interview decider.
pub struct Interview;

impl Decider for Interview {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match (command, &state.recorded) {
            (Command::Record(_), Some(_)) => Err(Error::AlreadyExists),
            (Command::Record(record), None) => {
                if record.conducted_at > record.now {
                    return Err(Error::InTheFuture);
                }
                Ok(vec![Event::InterviewRecorded(pb::InterviewRecorded {
                    interview_id: record.interview_id.to_string(),
                    subject: Some(record.subject.clone()),
                    interviewer: record.interviewer.clone(),
                    conducted_at: Some(timestamp(record.conducted_at)),
                    themes: maillage_proto::themes::older_values(
                        &record.themes,
                        maillage_proto::themes::as_engagement_theme,
                    ),
                    topics: record.themes.iter().map(|t| *t as i32).collect(),
                    sealed_notes: record.sealed_notes.clone(),
                    sealed_motivations: record.sealed_motivations.clone(),
                    sealed_expectations: record.sealed_expectations.clone(),
                    axis_ids: record.axes.iter().map(Uuid::to_string).collect(),
                    survey_id: record.survey.map(|id| id.to_string()).unwrap_or_default(),
                    motivation_codes: ids(&record.codes.motivations),
                    expectation_codes: ids(&record.codes.expectations),
                    ..Default::default()
                })])
            }
            (Command::ReviseNotes { .. }, None) => Err(Error::NotFound),
            (Command::ReviseNotes { sealed_notes }, Some(recorded)) => {
                Ok(vec![Event::InterviewNotesRevised(
                    pb::InterviewNotesRevised {
                        interview_id: recorded.interview_id.clone(),
                        sealed_notes: sealed_notes.clone(),
                    },
                )])
            }
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        match event {
            Event::InterviewRecorded(recorded) => state.recorded = Some(recorded.clone()),
            Event::InterviewNotesRevised(revised) => {
                if let Some(recorded) = &mut state.recorded {
                    recorded.sealed_notes = revised.sealed_notes.clone();
                }
            }
        }
    }
}

fn ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

impl State {
    /// When the interview took place.
    pub fn conducted_at(&self) -> Option<SystemTime> {
        self.recorded.as_ref().map(|r| instant(&r.conducted_at))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use pb::interview_subject::Who;

    use super::*;
    use crate::domain::testing;

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + hours * 3600)
    }

    fn record(conducted_at: SystemTime) -> Command {
        Command::Record(Box::new(Record {
            interview_id: Uuid::from_u128(3),
            subject: pb::InterviewSubject {
                who: Some(Who::Anonymous(pb::AnonymousParticipant {
                    audience: pb::EngagementAudience::Population as i32,
                    commune_code: "15014".into(),
                })),
            },
            interviewer: "alice".into(),
            conducted_at,
            themes: vec![Theme::Telework],
            axes: vec![Uuid::from_u128(200)],
            sealed_motivations: vec![vec![4, 5]],
            sealed_expectations: vec![vec![6, 7]],
            sealed_notes: vec![1, 2, 3],
            survey: Some(Uuid::from_u128(30)),
            codes: Coded {
                motivations: vec![Uuid::from_u128(301)],
                expectations: vec![Uuid::from_u128(302), Uuid::from_u128(303)],
            },
            now: at(5),
        }))
    }

    fn given(commands: &[Command]) -> State {
        testing::given::<Interview>(commands)
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let event = &Interview::decide(&record(at(4)), &State::default()).unwrap()[0];
        testing::assert_events_encode(event);
    }

    #[test]
    fn recording_keeps_the_interviewer_and_sealed_notes() {
        let state = given(&[record(at(4))]);
        let recorded = state.recorded.unwrap();
        assert_eq!(recorded.interviewer, "alice");
        assert_eq!(recorded.sealed_notes, vec![1, 2, 3]);
    }

    #[test]
    fn recording_keeps_the_survey_and_the_codes_beside_the_sealed_statements() {
        let recorded = given(&[record(at(4))]).recorded.unwrap();
        assert_eq!(recorded.survey_id, Uuid::from_u128(30).to_string());
        assert_eq!(
            recorded.motivation_codes,
            vec![Uuid::from_u128(301).to_string()]
        );
        assert_eq!(recorded.expectation_codes.len(), 2);
        assert_eq!(recorded.sealed_motivations, vec![vec![4, 5]]);
        assert!(recorded.motivations.is_empty(), "no statement in clear");
    }

    #[test]
    fn an_interview_written_before_codes_decodes_without_them() {
        use prost::Message;
        let mut older = match &Interview::decide(&record(at(4)), &State::default()).unwrap()[0] {
            Event::InterviewRecorded(recorded) => recorded.clone(),
            other => panic!("{other:?}"),
        };
        older.survey_id.clear();
        older.motivation_codes.clear();
        older.expectation_codes.clear();
        let decoded = pb::InterviewRecorded::decode(older.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, older);
        assert!(decoded.survey_id.is_empty() && decoded.motivation_codes.is_empty());
    }

    #[test]
    fn recording_twice_is_refused() {
        let state = given(&[record(at(4))]);
        assert_eq!(
            Interview::decide(&record(at(4)), &state),
            Err(Error::AlreadyExists)
        );
    }

    #[test]
    fn an_interview_cannot_be_in_the_future() {
        assert_eq!(
            Interview::decide(&record(at(6)), &State::default()),
            Err(Error::InTheFuture)
        );
    }

    #[test]
    fn revising_notes_replaces_them() {
        let revise = Command::ReviseNotes {
            sealed_notes: vec![9],
        };
        assert_eq!(
            Interview::decide(&revise, &State::default()),
            Err(Error::NotFound)
        );
        let state = given(&[record(at(4)), revise]);
        assert_eq!(state.recorded.unwrap().sealed_notes, vec![9]);
    }
}
