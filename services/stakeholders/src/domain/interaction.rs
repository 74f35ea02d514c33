//! The interaction aggregate (`interaction-<id>`): one entry of the contact log.
//!
//! An interaction is never edited: a correction is a new event whose set fields
//! supersede the earlier values, and the original stays in the log. Free text
//! (subject, notes, follow-up descriptions, correction reasons) arrives sealed
//! under the interaction's key. Rules: logged once; dated at most 5 minutes in
//! the future; at least one participant; a correction targets an existing
//! interaction and changes at least one field; a follow-up is completed once
//! (completing it again changes nothing); only an open follow-up is reassigned
//! (to the owner and due date it has already, nothing changes).

use std::collections::BTreeMap;
use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1 as pb;

use super::too_far_in_future;

maillage_es::proto_events! {
    /// What happened to an interaction.
    InteractionEvent {
        /// The contact was logged.
        InteractionLogged(InteractionLogged),
        /// Fields were corrected.
        InteractionCorrected(InteractionCorrected),
        /// A follow-up was done.
        FollowUpCompleted(FollowUpCompleted),
        /// An open follow-up got another owner or due date.
        FollowUpReassigned(FollowUpReassigned),
    }
}

/// An interaction folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InteractionState {
    /// The interaction as logged, with every correction applied; `None`: not logged.
    pub current: Option<pb::InteractionLogged>,
    /// The interaction as first logged, before any correction (the values a
    /// correction superseded are read by replaying the corrections on it).
    pub logged: Option<pb::InteractionLogged>,
    /// The corrections, in order.
    pub corrections: Vec<pb::InteractionCorrected>,
    /// Completed follow-ups by id.
    pub completed: BTreeMap<String, pb::FollowUpCompleted>,
}

/// What may be asked of an interaction.
#[derive(Debug, Clone, PartialEq)]
pub enum InteractionCommand {
    /// Logs the contact (participants checked to exist, text sealed, facilitator and
    /// `logged_at` set by the caller from its identity and clock).
    Log {
        /// The event to record.
        logged: pb::InteractionLogged,
        /// The clock's now.
        now: SystemTime,
    },
    /// Corrects fields (`corrected_by` and `corrected_at` set by the caller).
    Correct {
        /// The correction to record.
        correction: pb::InteractionCorrected,
        /// The clock's now.
        now: SystemTime,
    },
    /// Gives an open follow-up another owner and/or due date
    /// (`reassigned_by`, `reassigned_at` set by the caller).
    ReassignFollowUp {
        /// The event to record.
        reassigned: pb::FollowUpReassigned,
    },
    /// Marks a follow-up as done.
    CompleteFollowUp {
        /// Which.
        follow_up_id: String,
        /// Who.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
}

/// Why an interaction command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InteractionError {
    /// Logging an id that is taken.
    #[error("the interaction is already logged")]
    AlreadyLogged,
    /// A command on an interaction never logged.
    #[error("no such interaction")]
    NotFound,
    /// Dated more than 5 minutes after now.
    #[error("{field}: more than 5 minutes in the future")]
    InFuture {
        /// The offending field.
        field: String,
    },
    /// No participant.
    #[error("{field}: at least one participant is needed")]
    NoParticipants {
        /// The offending field.
        field: String,
    },
    /// A correction that changes nothing.
    #[error("a correction must change at least one field")]
    NothingToCorrect,
    /// No follow-up with this id.
    #[error("no follow-up {0}")]
    FollowUpNotFound(String),
    /// Reassigning a follow-up that is done.
    #[error("follow-up {0} is already done")]
    FollowUpDone(String),
}

/// The interaction decider.
pub struct Interaction;

impl Decider for Interaction {
    type State = InteractionState;
    type Command = InteractionCommand;
    type Event = InteractionEvent;
    type Error = InteractionError;

    fn decide(
        command: &InteractionCommand,
        state: &InteractionState,
    ) -> Result<Vec<InteractionEvent>, InteractionError> {
        match command {
            InteractionCommand::Log { logged, now } => {
                if state.current.is_some() {
                    return Err(InteractionError::AlreadyLogged);
                }
                if logged.participants.is_empty() {
                    return Err(InteractionError::NoParticipants {
                        field: "participant_ids".into(),
                    });
                }
                if logged
                    .occurred_at
                    .as_ref()
                    .is_some_and(|at| too_far_in_future(at, *now))
                {
                    return Err(InteractionError::InFuture {
                        field: "occurred_at".into(),
                    });
                }
                Ok(vec![InteractionEvent::InteractionLogged(logged.clone())])
            }
            InteractionCommand::Correct { correction, now } => {
                if state.current.is_none() {
                    return Err(InteractionError::NotFound);
                }
                let changes = correction.participants.is_some()
                    || correction.channel.is_some()
                    || correction.direction.is_some()
                    || correction.occurred_at.is_some()
                    || correction.sealed_subject.is_some()
                    || correction.sealed_notes.is_some()
                    || correction.themes.is_some()
                    || correction.topics.is_some()
                    || correction.axis_ids.is_some();
                if !changes {
                    return Err(InteractionError::NothingToCorrect);
                }
                if correction
                    .participants
                    .as_ref()
                    .is_some_and(|list| list.participants.is_empty())
                {
                    return Err(InteractionError::NoParticipants {
                        field: "participants".into(),
                    });
                }
                if correction
                    .occurred_at
                    .as_ref()
                    .is_some_and(|at| too_far_in_future(at, *now))
                {
                    return Err(InteractionError::InFuture {
                        field: "occurred_at".into(),
                    });
                }
                Ok(vec![InteractionEvent::InteractionCorrected(
                    correction.clone(),
                )])
            }
            InteractionCommand::ReassignFollowUp { reassigned } => {
                let current = state.current.as_ref().ok_or(InteractionError::NotFound)?;
                let id = &reassigned.follow_up_id;
                let Some(follow_up) = current
                    .follow_ups
                    .iter()
                    .find(|follow_up| &follow_up.follow_up_id == id)
                else {
                    return Err(InteractionError::FollowUpNotFound(id.clone()));
                };
                if state.completed.contains_key(id) {
                    return Err(InteractionError::FollowUpDone(id.clone()));
                }
                let owner = owner_of(follow_up, current);
                let same_owner = reassigned.owner.is_empty() || reassigned.owner == owner;
                let same_due = reassigned.due_at.is_none() || reassigned.due_at == follow_up.due_at;
                if same_owner && same_due {
                    // Already so: a retry or a double click changes nothing.
                    return Ok(vec![]);
                }
                Ok(vec![InteractionEvent::FollowUpReassigned(
                    reassigned.clone(),
                )])
            }
            InteractionCommand::CompleteFollowUp {
                follow_up_id,
                actor,
                now,
            } => {
                let current = state.current.as_ref().ok_or(InteractionError::NotFound)?;
                if !current
                    .follow_ups
                    .iter()
                    .any(|follow_up| &follow_up.follow_up_id == follow_up_id)
                {
                    return Err(InteractionError::FollowUpNotFound(follow_up_id.clone()));
                }
                if state.completed.contains_key(follow_up_id) {
                    return Ok(vec![]);
                }
                Ok(vec![InteractionEvent::FollowUpCompleted(
                    pb::FollowUpCompleted {
                        interaction_id: current.interaction_id.clone(),
                        follow_up_id: follow_up_id.clone(),
                        completed_at: Some(super::timestamp(*now)),
                        completed_by: actor.clone(),
                    },
                )])
            }
        }
    }

    fn evolve(state: &mut InteractionState, event: &InteractionEvent) {
        match event {
            InteractionEvent::InteractionLogged(logged) => {
                state.current = Some(logged.clone());
                state.logged = Some(logged.clone());
            }
            InteractionEvent::InteractionCorrected(correction) => {
                if let Some(current) = state.current.as_mut() {
                    apply_correction(current, correction);
                }
                state.corrections.push(correction.clone());
            }
            InteractionEvent::FollowUpReassigned(reassigned) => {
                let follow_up = state.current.as_mut().and_then(|current| {
                    current
                        .follow_ups
                        .iter_mut()
                        .find(|follow_up| follow_up.follow_up_id == reassigned.follow_up_id)
                });
                if let Some(follow_up) = follow_up {
                    if !reassigned.owner.is_empty() {
                        follow_up.owner = reassigned.owner.clone();
                    }
                    if reassigned.due_at.is_some() {
                        follow_up.due_at = reassigned.due_at;
                    }
                }
            }
            InteractionEvent::FollowUpCompleted(completed) => {
                state
                    .completed
                    .insert(completed.follow_up_id.clone(), completed.clone());
            }
        }
    }
}

/// Who owns `follow_up` of the contact `current`: its owner, or, recorded
/// before owners existed (or without one), the facilitator who logged it.
pub fn owner_of<'a>(
    follow_up: &'a pb::SealedFollowUp,
    current: &'a pb::InteractionLogged,
) -> &'a str {
    if follow_up.owner.is_empty() {
        &current.facilitator
    } else {
        &follow_up.owner
    }
}

/// Supersedes the fields a correction sets.
pub fn apply_correction(
    current: &mut pb::InteractionLogged,
    correction: &pb::InteractionCorrected,
) {
    if let Some(list) = &correction.participants {
        current.participants = list.participants.clone();
    }
    if let Some(channel) = correction.channel {
        current.channel = channel;
    }
    if let Some(direction) = correction.direction {
        current.direction = direction;
    }
    if let Some(occurred_at) = correction.occurred_at {
        current.occurred_at = Some(occurred_at);
    }
    if let Some(subject) = &correction.sealed_subject {
        current.sealed_subject = subject.clone();
    }
    if let Some(notes) = &correction.sealed_notes {
        current.sealed_notes = notes.clone();
    }
    if let Some(themes) = &correction.themes {
        current.themes = themes.themes.clone();
        // A correction written before `topics` existed leaves them to be
        // read from the older field.
        current.topics = correction
            .topics
            .as_ref()
            .map(|topics| topics.themes.clone())
            .unwrap_or_default();
    } else if let Some(topics) = &correction.topics {
        current.topics = topics.themes.clone();
    }
    if let Some(axes) = &correction.axis_ids {
        current.axis_ids = axes.axis_ids.clone();
    }
}

/// The names of the fields a correction supersedes, for the audit view.
pub fn corrected_fields(correction: &pb::InteractionCorrected) -> Vec<String> {
    let mut fields = Vec::new();
    let mut push = |set: bool, name: &str| {
        if set {
            fields.push(name.to_string());
        }
    };
    push(correction.participants.is_some(), "participants");
    push(correction.channel.is_some(), "channel");
    push(correction.direction.is_some(), "direction");
    push(correction.occurred_at.is_some(), "occurred_at");
    push(correction.sealed_subject.is_some(), "subject");
    push(correction.sealed_notes.is_some(), "notes");
    push(
        correction.themes.is_some() || correction.topics.is_some(),
        "themes",
    );
    push(correction.axis_ids.is_some(), "axis_ids");
    fields
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use prost_types::Timestamp;

    use super::*;
    use maillage_es::testing;
    use InteractionCommand as C;
    use InteractionEvent as E;

    const ID: &str = "0190a1b2-0000-7000-8000-0000000000f1";

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000)
    }

    fn seconds_from_now(delta: i64) -> Timestamp {
        Timestamp {
            seconds: 1_780_000_000 + delta,
            nanos: 0,
        }
    }

    fn participant(id: &str) -> pb::InteractionParticipant {
        pb::InteractionParticipant {
            stakeholder_id: id.into(),
            r#type: pb::StakeholderType::Person as i32,
        }
    }

    fn logged(occurred: i64) -> pb::InteractionLogged {
        pb::InteractionLogged {
            topics: Default::default(),
            interaction_id: ID.into(),
            participants: vec![participant("p-1")],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some(seconds_from_now(occurred)),
            sealed_subject: b"sealed-subject".to_vec(),
            sealed_notes: b"sealed-notes".to_vec(),
            themes: vec![pb::InteractionTheme::Telework as i32],
            follow_ups: vec![pb::SealedFollowUp {
                owner: Default::default(),
                follow_up_id: "f-1".into(),
                sealed_description: b"sealed-follow-up".to_vec(),
                due_at: None,
            }],
            logged_at: Some(seconds_from_now(0)),
            facilitator: "facilitator-1".into(),
            axis_ids: vec!["0190a1b2-0000-7000-8000-0000000000a1".into()],
        }
    }

    fn given_when(given: &[E], when: &C) -> Result<Vec<E>, InteractionError> {
        testing::given::<Interaction>(given).when(when).result()
    }

    /// The state after `given`.
    fn fold(given: &[E]) -> InteractionState {
        testing::given::<Interaction>(given).into_state()
    }

    fn correct(correction: pb::InteractionCorrected) -> C {
        C::Correct {
            correction,
            now: now(),
        }
    }

    fn log_it() -> Vec<E> {
        vec![E::InteractionLogged(logged(-3600))]
    }

    fn correction() -> pb::InteractionCorrected {
        pb::InteractionCorrected {
            interaction_id: ID.into(),
            sealed_reason: b"sealed-reason".to_vec(),
            corrected_at: Some(seconds_from_now(0)),
            corrected_by: "facilitator-2".into(),
            ..Default::default()
        }
    }

    #[test]
    fn logging_records_the_interaction_as_given() {
        let when = C::Log {
            logged: logged(-60),
            now: now(),
        };
        assert_eq!(
            given_when(&[], &when),
            Ok(vec![E::InteractionLogged(logged(-60))])
        );
        testing::given::<Interaction>(&log_it())
            .when(&when)
            .then_refused(InteractionError::AlreadyLogged);
    }

    #[test]
    fn an_interaction_may_be_dated_up_to_five_minutes_ahead_and_no_more() {
        let at = |delta| C::Log {
            logged: logged(delta),
            now: now(),
        };
        assert!(given_when(&[], &at(300)).is_ok(), "clock skew is tolerated");
        testing::given_nothing::<Interaction>()
            .when(at(301))
            .then_refused(InteractionError::InFuture {
                field: "occurred_at".into(),
            });
    }

    #[test]
    fn an_interaction_needs_a_participant() {
        let mut nobody = logged(0);
        nobody.participants.clear();
        testing::given_nothing::<Interaction>()
            .when(&C::Log {
                logged: nobody,
                now: now(),
            })
            .then_refused(InteractionError::NoParticipants {
                field: "participant_ids".into(),
            });
    }

    #[test]
    fn a_correction_supersedes_fields_and_keeps_the_original_in_the_history() {
        let mut correction = correction();
        correction.channel = Some(pb::InteractionChannel::Video as i32);
        correction.sealed_notes = Some(b"sealed-new-notes".to_vec());
        let events = given_when(
            &log_it(),
            &C::Correct {
                correction: correction.clone(),
                now: now(),
            },
        )
        .unwrap();
        assert_eq!(events, vec![E::InteractionCorrected(correction.clone())]);
        let state = fold(&[log_it(), events].concat());
        let current = state.current.unwrap();
        assert_eq!(current.channel, pb::InteractionChannel::Video as i32);
        assert_eq!(current.sealed_notes, b"sealed-new-notes".to_vec());
        assert_eq!(
            current.sealed_subject,
            b"sealed-subject".to_vec(),
            "untouched"
        );
        assert_eq!(current.direction, pb::InteractionDirection::Outbound as i32);
        assert_eq!(state.corrections, vec![correction.clone()]);
        assert_eq!(corrected_fields(&correction), vec!["channel", "notes"]);
    }

    #[test]
    fn a_correction_of_the_axes_replaces_them_and_an_empty_list_clears_them() {
        let mut retag = correction();
        let other = "0190a1b2-0000-7000-8000-0000000000a2".to_owned();
        retag.axis_ids = Some(pb::AxisIds {
            axis_ids: vec![other.clone()],
        });
        let events = given_when(&log_it(), &correct(retag)).unwrap();
        let mut given = log_it();
        given.extend(events);
        let state = fold(&given);
        assert_eq!(state.current.as_ref().unwrap().axis_ids, vec![other]);
        assert_eq!(corrected_fields(&state.corrections[0]), vec!["axis_ids"]);
        let mut clear = correction();
        clear.axis_ids = Some(pb::AxisIds::default());
        let events = given_when(&given, &correct(clear)).unwrap();
        given.extend(events);
        assert!(fold(&given).current.unwrap().axis_ids.is_empty());
    }

    #[test]
    fn an_event_written_before_axes_decodes_with_none() {
        use prost::Message;
        // InteractionLogged and InteractionCorrected as written before
        // `axis_ids` (fields 13): their bytes lack the field.
        let mut before = logged(-60);
        before.axis_ids.clear();
        let bytes = before.encode_to_vec();
        let decoded = pb::InteractionLogged::decode(bytes.as_slice()).unwrap();
        assert!(decoded.axis_ids.is_empty());
        assert_eq!(decoded, before);
        let correction =
            pb::InteractionCorrected::decode(correction().encode_to_vec().as_slice()).unwrap();
        assert_eq!(correction.axis_ids, None);
        assert!(!corrected_fields(&correction).contains(&"axis_ids".to_owned()));
    }

    #[test]
    fn a_correction_of_a_missing_interaction_is_refused() {
        let mut correction = correction();
        correction.channel = Some(pb::InteractionChannel::Video as i32);
        testing::given_nothing::<Interaction>()
            .when(&C::Correct {
                correction,
                now: now(),
            })
            .then_refused(InteractionError::NotFound);
    }

    #[test]
    fn a_correction_must_change_something_valid() {
        let correct = |correction| C::Correct {
            correction,
            now: now(),
        };
        testing::given::<Interaction>(&log_it())
            .when(correct(correction()))
            .then_refused(InteractionError::NothingToCorrect);
        let mut nobody = correction();
        nobody.participants = Some(pb::ParticipantList::default());
        testing::given::<Interaction>(&log_it())
            .when(correct(nobody))
            .then_refused(InteractionError::NoParticipants {
                field: "participants".into(),
            });
        let mut future = correction();
        future.occurred_at = Some(seconds_from_now(3600));
        testing::given::<Interaction>(&log_it())
            .when(correct(future))
            .then_refused(InteractionError::InFuture {
                field: "occurred_at".into(),
            });
        let mut themes = correction();
        themes.themes = Some(pb::InteractionThemes { themes: vec![] });
        let events = given_when(&log_it(), &correct(themes)).unwrap();
        assert!(
            fold(&[log_it(), events].concat())
                .current
                .unwrap()
                .themes
                .is_empty(),
            "themes can be cleared"
        );
    }

    #[test]
    fn a_follow_up_is_completed_once() {
        let complete = |id: &str| C::CompleteFollowUp {
            follow_up_id: id.into(),
            actor: "facilitator-1".into(),
            now: now(),
        };
        let events = given_when(&log_it(), &complete("f-1")).unwrap();
        assert_eq!(
            events,
            vec![E::FollowUpCompleted(pb::FollowUpCompleted {
                interaction_id: ID.into(),
                follow_up_id: "f-1".into(),
                completed_at: Some(seconds_from_now(0)),
                completed_by: "facilitator-1".into(),
            })]
        );
        let given = [log_it(), events].concat();
        testing::given::<Interaction>(&given)
            .when(complete("f-1"))
            .then([]);
        testing::given::<Interaction>(&given)
            .when(complete("f-2"))
            .then_refused(InteractionError::FollowUpNotFound("f-2".into()));
        testing::given_nothing::<Interaction>()
            .when(complete("f-1"))
            .then_refused(InteractionError::NotFound);
    }
}
