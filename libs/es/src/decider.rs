//! The decider pattern: pure `decide` and `evolve`, and how events map to log records.

/// An aggregate's behaviour, with no I/O: what a command decides given the
/// state, and how each event changes the state.
pub trait Decider: Send + Sync + 'static {
    /// The state folded from the aggregate's events; `Default` is "nothing happened yet".
    type State: Default + Clone + Send + Sync + 'static;
    /// A request to change the aggregate (validated input, caller and clock included).
    type Command: Send + Sync;
    /// A fact recorded in the aggregate's stream.
    type Event: EventPayload;
    /// Why a command is refused.
    type Error: Send;

    /// The events `command` produces on `state`, or why it is refused.
    /// No event means the command changes nothing (e.g. it was already done).
    fn decide(
        command: &Self::Command,
        state: &Self::State,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Folds one event into the state.
    fn evolve(state: &mut Self::State, event: &Self::Event);
}

/// An event that can be stored: a protobuf message with a type name.
pub trait EventPayload: Sized + Clone + Send + Sync + 'static {
    /// The protobuf full name of the payload (the record's event type).
    fn event_type(&self) -> &'static str;
    /// The payload's protobuf bytes.
    fn encode(&self) -> Vec<u8>;
    /// Rebuilds an event from a record's type and payload.
    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, DecodeError>;
}

/// A stored record that is not an event of the expected aggregate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type is not one of the aggregate's events.
    #[error("unknown event type {0}")]
    UnknownType(String),
    /// The payload does not decode as its type.
    #[error("payload of {event_type} does not decode: {reason}")]
    Malformed {
        /// The record's type.
        event_type: String,
        /// The decoder's message.
        reason: String,
    },
}

impl DecodeError {
    /// A `Malformed` error from a prost decode failure.
    pub fn malformed(event_type: &str, error: prost::DecodeError) -> Self {
        DecodeError::Malformed {
            event_type: event_type.to_string(),
            reason: error.to_string(),
        }
    }
}
