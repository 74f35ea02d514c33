//! The segment aggregate (`segment-<id>`): a named, saved search of the
//! register (a filter of `SearchStakeholders`), defined and redefined.
//!
//! The filter arrives validated (the gRPC layer checks it as a search's and
//! refuses a name query, which would put a name in clear in the log). Rules:
//! a new segment is defined once; a redefinition needs an existing segment;
//! a redefinition identical to the current definition records nothing.

use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1 as pb;

use super::timestamp;

maillage_es::proto_events! {
    /// What happened to a segment.
    SegmentEvent {
        /// The segment was defined, or its definition replaced.
        SegmentDefined(SegmentDefined),
    }
}

/// A segment folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentState {
    /// Its current definition; `None`: never defined.
    pub definition: Option<pb::SegmentDefined>,
}

/// What may be asked of a segment.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentCommand {
    /// Defines a new segment, or replaces an existing one's definition.
    Define {
        /// The segment's id.
        segment_id: String,
        /// A new segment (else a redefinition).
        new: bool,
        /// Its name (no personal data).
        name: String,
        /// Its description (no personal data).
        description: String,
        /// The validated filter, without a name query.
        filter: pb::StakeholderFilter,
        /// The caller.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
}

/// Why a segment command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// A new segment on an id that is taken.
    #[error("the segment is already defined")]
    AlreadyDefined,
    /// A redefinition of a segment never defined.
    #[error("no such segment")]
    NotFound,
}

/// The segment decider.
pub struct Segment;

impl Decider for Segment {
    type State = SegmentState;
    type Command = SegmentCommand;
    type Event = SegmentEvent;
    type Error = SegmentError;

    fn decide(
        command: &SegmentCommand,
        state: &SegmentState,
    ) -> Result<Vec<SegmentEvent>, SegmentError> {
        let SegmentCommand::Define {
            segment_id,
            new,
            name,
            description,
            filter,
            actor,
            now,
        } = command;
        match (&state.definition, new) {
            (Some(_), true) => return Err(SegmentError::AlreadyDefined),
            (None, false) => return Err(SegmentError::NotFound),
            (Some(current), false)
                if &current.name == name
                    && &current.description == description
                    && current.filter.as_ref() == Some(filter) =>
            {
                return Ok(vec![]);
            }
            _ => {}
        }
        Ok(vec![SegmentEvent::SegmentDefined(pb::SegmentDefined {
            segment_id: segment_id.clone(),
            name: name.clone(),
            description: description.clone(),
            filter: Some(filter.clone()),
            defined_at: Some(timestamp(*now)),
            defined_by: actor.clone(),
        })])
    }

    fn evolve(state: &mut SegmentState, event: &SegmentEvent) {
        let SegmentEvent::SegmentDefined(defined) = event;
        state.definition = Some(defined.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const ID: &str = "0190a1b2-0000-7000-8000-0000000000a1";

    fn define(new: bool, name: &str) -> SegmentCommand {
        SegmentCommand::Define {
            segment_id: ID.into(),
            new,
            name: name.into(),
            description: String::new(),
            filter: pb::StakeholderFilter {
                never_contacted: true,
                ..Default::default()
            },
            actor: "fanny".into(),
            now: UNIX_EPOCH + Duration::from_secs(1_780_000_000),
        }
    }

    fn fold(events: &[SegmentEvent]) -> SegmentState {
        maillage_es::testing::given::<Segment>(events).into_state()
    }

    #[test]
    fn a_segment_is_defined_once_then_redefined() {
        let defined = Segment::decide(&define(true, "Élus à rappeler"), &fold(&[])).unwrap();
        assert_eq!(defined.len(), 1);
        let state = fold(&defined);
        assert_eq!(
            Segment::decide(&define(true, "Autre"), &state),
            Err(SegmentError::AlreadyDefined)
        );
        let renamed = Segment::decide(&define(false, "Élus de l'EPCI"), &state).unwrap();
        let SegmentEvent::SegmentDefined(event) = &renamed[0];
        assert_eq!(event.name, "Élus de l'EPCI");
        assert_eq!(event.defined_by, "fanny");
    }

    #[test]
    fn a_redefinition_needs_a_segment_and_a_change() {
        assert_eq!(
            Segment::decide(&define(false, "Élus"), &fold(&[])),
            Err(SegmentError::NotFound)
        );
        let state = fold(&Segment::decide(&define(true, "Élus"), &fold(&[])).unwrap());
        assert_eq!(Segment::decide(&define(false, "Élus"), &state), Ok(vec![]));
    }
}
