//! The audience-export aggregate (`audience-<id>`): one stream per page of an
//! audience export (`ExportAudience`), holding the one fact that the page was
//! exported — who, which segment and filter, channel, purpose, how many,
//! when — and nothing personal. Rule: an export is recorded once.

use maillage_es::Decider;
use maillage_proto::v1 as pb;

maillage_es::proto_events! {
    /// What happened to an audience export.
    AudienceEvent {
        /// A page of an audience was exported.
        AudienceExported(AudienceExported),
    }
}

/// An export folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudienceState {
    /// The recorded export; `None`: not recorded yet.
    pub exported: Option<pb::AudienceExported>,
}

/// What may be asked of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum AudienceCommand {
    /// Records the export (the fact built by the caller, with its identity and clock).
    Record(pb::AudienceExported),
}

/// Why an export command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudienceError {
    /// The export's id is taken.
    #[error("this export is already recorded")]
    AlreadyRecorded,
}

/// The audience-export decider.
pub struct Audience;

impl Decider for Audience {
    type State = AudienceState;
    type Command = AudienceCommand;
    type Event = AudienceEvent;
    type Error = AudienceError;

    fn decide(
        command: &AudienceCommand,
        state: &AudienceState,
    ) -> Result<Vec<AudienceEvent>, AudienceError> {
        let AudienceCommand::Record(exported) = command;
        if state.exported.is_some() {
            return Err(AudienceError::AlreadyRecorded);
        }
        Ok(vec![AudienceEvent::AudienceExported(exported.clone())])
    }

    fn evolve(state: &mut AudienceState, event: &AudienceEvent) {
        let AudienceEvent::AudienceExported(exported) = event;
        state.exported = Some(exported.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_recorded_once() {
        let exported = pb::AudienceExported {
            export_id: "0190a1b2-0000-7000-8000-0000000000e1".into(),
            channel: pb::ConsentChannel::Email as i32,
            purpose: pb::ConsentPurpose::Newsletter as i32,
            exported: 3,
            total: 3,
            exported_by: "mailing-tool".into(),
            ..Default::default()
        };
        let command = AudienceCommand::Record(exported.clone());
        let events = Audience::decide(&command, &AudienceState::default()).unwrap();
        assert_eq!(events, vec![AudienceEvent::AudienceExported(exported)]);
        let mut state = AudienceState::default();
        Audience::evolve(&mut state, &events[0]);
        assert_eq!(
            Audience::decide(&command, &state),
            Err(AudienceError::AlreadyRecorded)
        );
    }
}
