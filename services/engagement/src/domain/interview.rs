//! The Interview aggregate: a semi-structured interview with a stakeholder or
//! an anonymous profile, its themes, motivations and expectations, and notes.
//!
//! Notes are personal data: the gRPC layer seals them under the interview's own
//! key (vault subject `interview:<id>`) before the command is built, so the
//! domain and the log only ever see ciphertext.
//!
//! Its coding (the codes of its motivations and expectations, and the survey
//! it completes) may be changed later, with a reason: each recoding is an
//! event, so what a report as of an earlier instant showed stays reproducible.

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
    /// Replaces its coding.
    Recode {
        /// The new codes (checked by the service).
        codes: Coded,
        /// The survey it completes (checked by the service).
        survey: Option<Uuid>,
        /// Why.
        reason: String,
        /// The principal recoding it.
        by: String,
        /// The current time.
        now: SystemTime,
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
        InterviewRecoded(InterviewRecoded),
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
    /// The recorded interview, its notes and coding the latest ones (None
    /// until recorded).
    pub recorded: Option<pb::InterviewRecorded>,
    /// How many times it was recoded.
    pub recodings: u32,
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
            (Command::ReviseNotes { .. } | Command::Recode { .. }, None) => Err(Error::NotFound),
            (
                Command::Recode {
                    codes,
                    survey,
                    reason,
                    by,
                    now,
                },
                Some(recorded),
            ) => {
                let survey_id = survey.map(|id| id.to_string()).unwrap_or_default();
                let motivation_codes = ids(&codes.motivations);
                let expectation_codes = ids(&codes.expectations);
                if recorded.motivation_codes == motivation_codes
                    && recorded.expectation_codes == expectation_codes
                    && recorded.survey_id == survey_id
                {
                    return Ok(vec![]);
                }
                Ok(vec![Event::InterviewRecoded(pb::InterviewRecoded {
                    interview_id: recorded.interview_id.clone(),
                    motivation_codes,
                    expectation_codes,
                    survey_id,
                    reason: reason.clone(),
                    recoded_by: by.clone(),
                    recoded_at: Some(timestamp(*now)),
                })])
            }
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
            Event::InterviewRecoded(recoded) => {
                if let Some(recorded) = &mut state.recorded {
                    recorded.motivation_codes = recoded.motivation_codes.clone();
                    recorded.expectation_codes = recoded.expectation_codes.clone();
                    recorded.survey_id = recoded.survey_id.clone();
                    state.recodings += 1;
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

    fn recode(motivation: u128) -> Command {
        Command::Recode {
            codes: Coded {
                motivations: vec![Uuid::from_u128(motivation)],
                expectations: vec![],
            },
            survey: None,
            reason: "grille révisée".into(),
            by: "bob".into(),
            now: at(6),
        }
    }

    #[test]
    fn recoding_replaces_the_codes_and_survey_with_who_when_and_why() {
        let events = Interview::decide(&recode(310), &given(&[record(at(4))])).unwrap();
        testing::assert_events_encode(&events[0]);
        match &events[0] {
            Event::InterviewRecoded(recoded) => {
                assert_eq!(recoded.reason, "grille révisée");
                assert_eq!(recoded.recoded_by, "bob");
                assert_eq!(recoded.recoded_at, Some(timestamp(at(6))));
                assert_eq!(recoded.survey_id, "");
            }
            other => panic!("{other:?}"),
        }
        let state = given(&[record(at(4)), recode(310)]);
        assert_eq!(state.recodings, 1);
        let recorded = state.recorded.unwrap();
        assert_eq!(
            recorded.motivation_codes,
            vec![Uuid::from_u128(310).to_string()]
        );
        assert!(recorded.expectation_codes.is_empty());
        assert!(recorded.survey_id.is_empty());
        assert_eq!(recorded.sealed_notes, vec![1, 2, 3], "notes untouched");
    }

    #[test]
    fn recoding_to_the_same_coding_is_nothing_and_an_unknown_interview_is_refused() {
        let state = given(&[record(at(4)), recode(310)]);
        assert_eq!(Interview::decide(&recode(310), &state), Ok(vec![]));
        assert_eq!(
            Interview::decide(&recode(310), &State::default()),
            Err(Error::NotFound)
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
