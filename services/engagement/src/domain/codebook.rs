//! The Codebook aggregate: the coding grid ("grille de codage") the team
//! keeps to code what interviews and diagnostics found — codes with a label,
//! an optional description and theme, grouped by kind (motivation,
//! expectation, need, refusal, priority).
//!
//! The engagement log keeps one codebook (its stream id is fixed), which
//! exists, empty, before its first code. Codes are defined, relabelled and
//! retired, never deleted: what was coded with a retired code keeps it,
//! nothing new may be. Labels are unique among the codes of a kind in use,
//! ignoring case. [`State::check`] is the rule the interviews and diagnostics
//! are coded by (checked by the service before their command runs).

use maillage_es::Decider;
use maillage_proto::v1::{self as pb, CodeKind, Theme};
use uuid::Uuid;

/// Most codes a codebook may hold (retired ones included).
pub const MAX_CODES: usize = 500;

/// The id of the one codebook of the engagement log (its stream is
/// `codebook-<nil uuid>`).
pub const CODEBOOK_ID: Uuid = Uuid::nil();

/// A change to the codebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds a code.
    Define {
        /// The new code's id (from the server).
        code_id: Uuid,
        /// Its kind (not UNSPECIFIED, checked by the service).
        kind: CodeKind,
        /// Its label (non-empty, checked by the service).
        label: String,
        /// What it covers.
        description: String,
        /// The seed's theme it belongs to, if any.
        topic: Option<Theme>,
        /// The principal defining it.
        actor: String,
    },
    /// Replaces a code's label and description.
    Relabel {
        /// The code.
        code_id: Uuid,
        /// The new label.
        label: String,
        /// The new description.
        description: String,
    },
    /// Retires a code.
    Retire {
        /// The code.
        code_id: Uuid,
        /// Why (non-empty, checked by the service).
        reason: String,
    },
}

maillage_es::proto_events! {
    /// A fact recorded in the codebook's stream.
    Event {
        CodebookCodeDefined(CodebookCodeDefined),
        CodebookCodeRelabelled(CodebookCodeRelabelled),
        CodebookCodeRetired(CodebookCodeRetired),
    }
}

/// Why a change to the codebook is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Defining an id that exists.
    #[error("code {0} already exists")]
    CodeExists(Uuid),
    /// Naming a code the codebook does not hold.
    #[error("no such code {0}")]
    UnknownCode(Uuid),
    /// Another code of the kind in use has this label.
    #[error("label: another code of this kind is labelled {0:?}")]
    LabelTaken(String),
    /// Relabelling or retiring a retired code.
    #[error("code {0} is retired")]
    Retired(Uuid),
    /// The codebook is full.
    #[error("a codebook holds at most {MAX_CODES} codes")]
    TooManyCodes,
}

/// One code, as its events made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Its id.
    pub id: Uuid,
    /// What it names.
    pub kind: CodeKind,
    /// Its label.
    pub label: String,
    /// What it covers.
    pub description: String,
    /// The seed's theme it belongs to.
    pub topic: Option<Theme>,
    /// Why it was retired (`None`: in use).
    pub retired: Option<String>,
}

/// A coded value refused by [`State::check`]: its index among the values
/// given, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miscoded {
    /// Which value.
    pub index: usize,
    /// Why it cannot be coded with.
    pub reason: String,
}

/// The codebook: its codes in the order defined.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Every code.
    pub codes: Vec<Code>,
}

impl State {
    /// The code `id`, if the codebook holds it.
    pub fn code(&self, id: &Uuid) -> Option<&Code> {
        self.codes.iter().find(|code| code.id == *id)
    }

    /// Checks that each of `ids` can code a finding of `kind`: a code of the
    /// codebook, in use, of that kind, none twice.
    pub fn check(&self, kind: CodeKind, ids: &[Uuid]) -> Result<(), Miscoded> {
        for (index, id) in ids.iter().enumerate() {
            let refuse = |reason: String| Err(Miscoded { index, reason });
            match self.code(id) {
                None => return refuse(format!("no such code {id} in the codebook")),
                Some(code) if code.retired.is_some() => {
                    return refuse(format!("code {id} ({}) is retired", code.label))
                }
                Some(code) if code.kind != kind => {
                    return refuse(format!(
                        "code {id} ({}) is a {}, not a {}",
                        code.label,
                        code.kind.as_str_name(),
                        kind.as_str_name()
                    ))
                }
                Some(_) if ids[..index].contains(id) => {
                    return refuse(format!("code {id} appears twice"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn code_mut(&mut self, id: Uuid) -> Option<&mut Code> {
        self.codes.iter_mut().find(|code| code.id == id)
    }

    fn label_taken(&self, kind: CodeKind, label: &str, except: Option<Uuid>) -> bool {
        let label = label.to_lowercase();
        self.codes.iter().any(|code| {
            code.retired.is_none()
                && code.kind == kind
                && Some(code.id) != except
                && code.label.to_lowercase() == label
        })
    }

    /// The code `id`, in use.
    fn in_use(&self, id: &Uuid) -> Result<&Code, Error> {
        let code = self.code(id).ok_or(Error::UnknownCode(*id))?;
        match code.retired {
            None => Ok(code),
            Some(_) => Err(Error::Retired(*id)),
        }
    }
}

/// The Codebook decider.
pub struct Codebook;

impl Decider for Codebook {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match command {
            Command::Define {
                code_id,
                kind,
                label,
                description,
                topic,
                actor,
            } => {
                if state.code(code_id).is_some() {
                    return Err(Error::CodeExists(*code_id));
                }
                if state.codes.len() >= MAX_CODES {
                    return Err(Error::TooManyCodes);
                }
                if state.label_taken(*kind, label, None) {
                    return Err(Error::LabelTaken(label.clone()));
                }
                Ok(vec![Event::CodebookCodeDefined(pb::CodebookCodeDefined {
                    code_id: code_id.to_string(),
                    kind: *kind as i32,
                    label: label.clone(),
                    description: description.clone(),
                    topic: topic.map_or(0, |topic| topic as i32),
                    defined_by: actor.clone(),
                })])
            }
            Command::Relabel {
                code_id,
                label,
                description,
            } => {
                let code = state.in_use(code_id)?;
                if state.label_taken(code.kind, label, Some(*code_id)) {
                    return Err(Error::LabelTaken(label.clone()));
                }
                if code.label == *label && code.description == *description {
                    return Ok(vec![]);
                }
                Ok(vec![Event::CodebookCodeRelabelled(
                    pb::CodebookCodeRelabelled {
                        code_id: code_id.to_string(),
                        label: label.clone(),
                        description: description.clone(),
                    },
                )])
            }
            Command::Retire { code_id, reason } => {
                state.in_use(code_id)?;
                Ok(vec![Event::CodebookCodeRetired(pb::CodebookCodeRetired {
                    code_id: code_id.to_string(),
                    reason: reason.clone(),
                })])
            }
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        let parse = |id: &str| id.parse::<Uuid>().unwrap_or_default();
        match event {
            Event::CodebookCodeDefined(defined) => state.codes.push(Code {
                id: parse(&defined.code_id),
                kind: CodeKind::try_from(defined.kind).unwrap_or_default(),
                label: defined.label.clone(),
                description: defined.description.clone(),
                topic: Theme::try_from(defined.topic)
                    .ok()
                    .filter(|topic| *topic != Theme::Unspecified),
                retired: None,
            }),
            Event::CodebookCodeRelabelled(relabelled) => {
                if let Some(code) = state.code_mut(parse(&relabelled.code_id)) {
                    code.label = relabelled.label.clone();
                    code.description = relabelled.description.clone();
                }
            }
            Event::CodebookCodeRetired(retired) => {
                if let Some(code) = state.code_mut(parse(&retired.code_id)) {
                    code.retired = Some(retired.reason.clone());
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

    fn define(n: u128, kind: CodeKind, label: &str) -> Command {
        Command::Define {
            code_id: id(n),
            kind,
            label: label.into(),
            description: String::new(),
            topic: Some(Theme::Telework),
            actor: "claire".into(),
        }
    }

    /// Codes 1 "Rompre l'isolement" (motivation), 2 "Haut débit"
    /// (expectation), 3 "Restauration" (refusal).
    fn three_codes() -> Given<Codebook> {
        given_nothing::<Codebook>().after([
            define(1, CodeKind::Motivation, "Rompre l'isolement"),
            define(2, CodeKind::Expectation, "Haut débit"),
            define(3, CodeKind::Refusal, "Restauration"),
        ])
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let given = three_codes();
        for command in [
            define(4, CodeKind::Need, "Un animateur"),
            Command::Relabel {
                code_id: id(1),
                label: "Sortir de l'isolement".into(),
                description: "x".into(),
            },
            Command::Retire {
                code_id: id(1),
                reason: "doublon".into(),
            },
        ] {
            for event in Codebook::decide(&command, given.state()).unwrap() {
                testing::assert_events_encode(&event);
            }
        }
    }

    #[test]
    fn defining_keeps_kind_label_and_theme_in_order() {
        let given = three_codes();
        let codes = &given.state().codes;
        assert_eq!(codes.len(), 3);
        assert_eq!(codes[0].kind, CodeKind::Motivation);
        assert_eq!(codes[1].label, "Haut débit");
        assert_eq!(codes[2].topic, Some(Theme::Telework));
    }

    #[test]
    fn a_label_is_unique_within_its_kind_among_codes_in_use() {
        three_codes()
            .when(define(4, CodeKind::Motivation, "rompre L'ISOLEMENT"))
            .then_refused(Error::LabelTaken("rompre L'ISOLEMENT".into()));
        // Another kind may use it.
        three_codes()
            .when(define(4, CodeKind::Need, "Rompre l'isolement"))
            .accepted();
        // A retired code frees its label.
        three_codes()
            .after([Command::Retire {
                code_id: id(1),
                reason: "reformulé".into(),
            }])
            .when(define(4, CodeKind::Motivation, "Rompre l'isolement"))
            .accepted();
        three_codes()
            .when(Command::Relabel {
                code_id: id(2),
                label: "HAUT DÉBIT".into(),
                description: String::new(),
            })
            .accepted();
    }

    #[test]
    fn defining_an_existing_id_or_past_the_limit_is_refused() {
        three_codes()
            .when(define(1, CodeKind::Need, "Autre"))
            .then_refused(Error::CodeExists(id(1)));
        let full: Vec<Command> = (0..MAX_CODES as u128)
            .map(|n| define(100 + n, CodeKind::Need, &format!("Besoin {n}")))
            .collect();
        given_nothing::<Codebook>()
            .after(full)
            .when(define(1, CodeKind::Need, "Un de trop"))
            .then_refused(Error::TooManyCodes);
    }

    #[test]
    fn relabelling_replaces_the_label_and_the_same_one_records_nothing() {
        let relabel = |label: &str| Command::Relabel {
            code_id: id(1),
            label: label.into(),
            description: String::new(),
        };
        three_codes().when(relabel("Rompre l'isolement")).then([]);
        let state = three_codes()
            .after([relabel("Sortir de l'isolement")])
            .into_state();
        assert_eq!(state.codes[0].label, "Sortir de l'isolement");
        assert_eq!(state.codes[0].kind, CodeKind::Motivation);
        three_codes()
            .when(Command::Relabel {
                code_id: id(9),
                label: "x".into(),
                description: String::new(),
            })
            .then_refused(Error::UnknownCode(id(9)));
    }

    #[test]
    fn a_retired_code_stays_but_can_be_neither_relabelled_nor_retired_again() {
        let retire = Command::Retire {
            code_id: id(2),
            reason: "trop vague".into(),
        };
        let given = three_codes().after([retire.clone()]);
        assert_eq!(
            given.state().code(&id(2)).unwrap().retired.as_deref(),
            Some("trop vague")
        );
        given.when(retire).then_refused(Error::Retired(id(2)));
        three_codes()
            .after([Command::Retire {
                code_id: id(2),
                reason: "trop vague".into(),
            }])
            .when(Command::Relabel {
                code_id: id(2),
                label: "Très haut débit".into(),
                description: String::new(),
            })
            .then_refused(Error::Retired(id(2)));
    }

    #[test]
    fn findings_are_coded_with_codes_in_use_of_their_kind_each_once() {
        let given = three_codes().after([Command::Retire {
            code_id: id(3),
            reason: "hors sujet".into(),
        }]);
        let state = given.state();
        assert_eq!(state.check(CodeKind::Motivation, &[id(1)]), Ok(()));
        assert_eq!(state.check(CodeKind::Motivation, &[]), Ok(()));
        let index = |result: Result<(), Miscoded>| result.unwrap_err().index;
        // Unknown.
        assert_eq!(index(state.check(CodeKind::Motivation, &[id(1), id(9)])), 1);
        // Retired.
        let retired = state.check(CodeKind::Refusal, &[id(3)]).unwrap_err();
        assert!(retired.reason.contains("retired"), "{retired:?}");
        // Of another kind.
        let other = state.check(CodeKind::Motivation, &[id(2)]).unwrap_err();
        assert!(other.reason.contains("CODE_KIND_EXPECTATION"), "{other:?}");
        // Twice.
        assert_eq!(index(state.check(CodeKind::Motivation, &[id(1), id(1)])), 1);
    }
}
