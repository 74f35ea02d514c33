//! The tiers-lieu diagnostic aggregate: for an existing tiers-lieu, its initial
//! motivations, ranked development priorities, activities it does not want,
//! needs, and notes (sealed under the diagnostic's key, vault subject
//! `diagnostic:<id>`, by the gRPC layer).

use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::timestamp;

/// What to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The new diagnostic's id (from the server).
    pub diagnostic_id: Uuid,
    /// The tiers-lieu (a stakeholder id).
    pub tiers_lieu_id: Uuid,
    /// The principal who made it (the caller).
    pub conducted_by: String,
    /// When.
    pub conducted_at: SystemTime,
    /// What it found (validated).
    pub findings: pb::DiagnosticFindings,
    /// Notes, sealed.
    pub sealed_notes: Vec<u8>,
    /// The current time.
    pub now: SystemTime,
}

/// A request to change a diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Records a diagnostic.
    Record(Record),
    /// Replaces its findings and notes.
    Revise {
        /// New findings.
        findings: pb::DiagnosticFindings,
        /// New notes, sealed.
        sealed_notes: Vec<u8>,
    },
}

maillage_es::proto_events! {
    /// A fact recorded in a diagnostic's stream.
    Event {
        DiagnosticRecorded(DiagnosticRecorded),
        DiagnosticRevised(DiagnosticRevised),
    }
}

/// Why a command on a diagnostic is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Recording an id that already exists.
    #[error("the diagnostic already exists")]
    AlreadyExists,
    /// A command on a diagnostic never recorded.
    #[error("no such diagnostic")]
    NotFound,
    /// A diagnostic dated in the future.
    #[error("a diagnostic cannot take place in the future")]
    InTheFuture,
}

/// A diagnostic as its events made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// The recorded diagnostic with its latest findings and notes.
    pub recorded: Option<pb::DiagnosticRecorded>,
}

/// The diagnostic decider.
pub struct Diagnostic;

impl Decider for Diagnostic {
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
                Ok(vec![Event::DiagnosticRecorded(pb::DiagnosticRecorded {
                    diagnostic_id: record.diagnostic_id.to_string(),
                    tiers_lieu_id: record.tiers_lieu_id.to_string(),
                    conducted_by: record.conducted_by.clone(),
                    conducted_at: Some(timestamp(record.conducted_at)),
                    findings: Some(record.findings.clone()),
                    sealed_notes: record.sealed_notes.clone(),
                })])
            }
            (Command::Revise { .. }, None) => Err(Error::NotFound),
            (
                Command::Revise {
                    findings,
                    sealed_notes,
                },
                Some(recorded),
            ) => Ok(vec![Event::DiagnosticRevised(pb::DiagnosticRevised {
                diagnostic_id: recorded.diagnostic_id.clone(),
                findings: Some(findings.clone()),
                sealed_notes: sealed_notes.clone(),
            })]),
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        match event {
            Event::DiagnosticRecorded(recorded) => state.recorded = Some(recorded.clone()),
            Event::DiagnosticRevised(revised) => {
                if let Some(recorded) = &mut state.recorded {
                    recorded.findings = revised.findings.clone();
                    recorded.sealed_notes = revised.sealed_notes.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::domain::testing;

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + hours * 3600)
    }

    fn findings(first_priority: &str) -> pb::DiagnosticFindings {
        pb::DiagnosticFindings {
            initial_motivations: vec!["revitaliser le bourg".into()],
            development_priorities: vec![first_priority.into(), "fablab".into()],
            out_of_scope_activities: vec!["hébergement".into()],
            needs: vec!["un animateur".into()],
            initial_motivation_codes: vec![Uuid::from_u128(401).to_string()],
            priority_codes: vec![Uuid::from_u128(402).to_string()],
            refusal_codes: vec![Uuid::from_u128(403).to_string()],
            need_codes: vec![Uuid::from_u128(404).to_string()],
        }
    }

    fn record(conducted_at: SystemTime) -> Command {
        Command::Record(Record {
            diagnostic_id: Uuid::from_u128(4),
            tiers_lieu_id: Uuid::from_u128(40),
            conducted_by: "alice".into(),
            conducted_at,
            findings: findings("coworking"),
            sealed_notes: vec![7],
            now: at(5),
        })
    }

    fn given(commands: &[Command]) -> State {
        testing::given::<Diagnostic>(commands)
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let event = &Diagnostic::decide(&record(at(4)), &State::default()).unwrap()[0];
        testing::assert_events_encode(event);
    }

    #[test]
    fn recording_keeps_the_ranked_priorities() {
        let state = given(&[record(at(4))]);
        let recorded = state.recorded.unwrap();
        assert_eq!(recorded.tiers_lieu_id, Uuid::from_u128(40).to_string());
        assert_eq!(
            recorded.findings.unwrap().development_priorities,
            vec!["coworking".to_string(), "fablab".into()]
        );
    }

    #[test]
    fn coded_findings_are_recorded_and_revised_with_the_free_text() {
        let recorded = given(&[record(at(4))]).recorded.unwrap();
        let coded = recorded.findings.unwrap();
        assert_eq!(coded.refusal_codes, vec![Uuid::from_u128(403).to_string()]);
        let mut uncoded = findings("fablab");
        uncoded.priority_codes.clear();
        let revise = Command::Revise {
            findings: uncoded,
            sealed_notes: vec![],
        };
        let revised = given(&[record(at(4)), revise]).recorded.unwrap();
        assert!(revised.findings.unwrap().priority_codes.is_empty());
    }

    #[test]
    fn recording_twice_or_in_the_future_is_refused() {
        let state = given(&[record(at(4))]);
        assert_eq!(
            Diagnostic::decide(&record(at(4)), &state),
            Err(Error::AlreadyExists)
        );
        assert_eq!(
            Diagnostic::decide(&record(at(6)), &State::default()),
            Err(Error::InTheFuture)
        );
    }

    #[test]
    fn revising_replaces_findings_and_notes() {
        let revise = Command::Revise {
            findings: findings("cuisine partagée"),
            sealed_notes: vec![8],
        };
        assert_eq!(
            Diagnostic::decide(&revise, &State::default()),
            Err(Error::NotFound)
        );
        let recorded = given(&[record(at(4)), revise]).recorded.unwrap();
        assert_eq!(
            recorded.findings.unwrap().development_priorities[0],
            "cuisine partagée"
        );
        assert_eq!(recorded.sealed_notes, vec![8]);
    }
}
