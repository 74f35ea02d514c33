//! Given / when / then for deciders, the one way every service tests its
//! aggregates' decisions without a store:
//!
//! ```ignore
//! given::<Stakeholder>([registered()])        // events already in the stream
//!     .after([start_mandate()])               // or commands, each accepted
//!     .when(end_mandate())                    // the command under test
//!     .then([mandate_ended()]);               // exactly these events
//! given_nothing::<Stakeholder>().when(end_mandate()).then_refused(StakeholderError::NotFound);
//! ```
//!
//! Built with the `testing` feature (services enable it in their
//! dev-dependencies) and in this crate's own tests.

use std::borrow::Borrow;
use std::fmt::Debug;

use crate::Decider;

/// An aggregate's state after some history: the "given" of a test.
pub struct Given<D: Decider> {
    state: D::State,
}

/// The state folded from `events`, in order.
pub fn given<D: Decider>(events: impl IntoIterator<Item = impl Borrow<D::Event>>) -> Given<D> {
    let mut state = D::State::default();
    for event in events {
        D::evolve(&mut state, event.borrow());
    }
    Given { state }
}

/// A new aggregate: nothing happened yet.
pub fn given_nothing<D: Decider>() -> Given<D> {
    given_state(D::State::default())
}

/// A history that led to `state` (e.g. one a test built step by step).
pub fn given_state<D: Decider>(state: D::State) -> Given<D> {
    Given { state }
}

impl<D: Decider> Given<D>
where
    D::Error: Debug,
{
    /// The history continued by `commands`, decided in turn; each must be accepted.
    pub fn after<C: Borrow<D::Command>>(mut self, commands: impl IntoIterator<Item = C>) -> Self {
        for command in commands {
            let events = D::decide(command.borrow(), &self.state)
                .unwrap_or_else(|error| panic!("a given command was refused: {error:?}"));
            for event in &events {
                D::evolve(&mut self.state, event);
            }
        }
        self
    }

    /// Decides `command` on the state: the "when".
    pub fn when(&self, command: impl Borrow<D::Command>) -> Then<D> {
        let decided = D::decide(command.borrow(), &self.state);
        Then {
            state: self.state.clone(),
            decided,
        }
    }

    /// The state, for assertions on the fold itself.
    pub fn state(&self) -> &D::State {
        &self.state
    }

    /// The state, owned.
    pub fn into_state(self) -> D::State {
        self.state
    }
}

/// What a command decided on a given state: the "then".
pub struct Then<D: Decider> {
    state: D::State,
    decided: Result<Vec<D::Event>, D::Error>,
}

impl<D: Decider> Then<D>
where
    D::Event: Debug + PartialEq,
    D::Error: Debug + PartialEq,
{
    /// Asserts that the command produced exactly `expected` (none: it changed
    /// nothing), and returns the state with them folded in, to go on.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = D::Event>) -> Given<D> {
        let expected: Vec<D::Event> = expected.into_iter().collect();
        let (events, after) = self.accepted();
        assert_eq!(events, expected, "the events decided");
        after
    }

    /// Asserts that the command was refused with `expected`.
    #[track_caller]
    pub fn then_refused(self, expected: D::Error) {
        assert_eq!(self.refusal(), expected, "the refusal");
    }
}

impl<D: Decider> Then<D>
where
    D::Event: Debug,
    D::Error: Debug,
{
    /// The events decided, for assertions on some of their fields; panics on a refusal.
    #[track_caller]
    pub fn events(&self) -> Vec<D::Event> {
        match &self.decided {
            Ok(events) => events.clone(),
            Err(error) => panic!("the command was refused: {error:?}"),
        }
    }

    /// The events decided and the state with them folded in; panics on a refusal.
    #[track_caller]
    pub fn accepted(self) -> (Vec<D::Event>, Given<D>) {
        let events = self.events();
        let mut state = self.state;
        for event in &events {
            D::evolve(&mut state, event);
        }
        (events, Given { state })
    }

    /// The refusal; panics if the command was accepted.
    #[track_caller]
    pub fn refusal(self) -> D::Error {
        match self.decided {
            Ok(events) => panic!("the command was accepted: {events:?}"),
            Err(error) => error,
        }
    }

    /// The decision itself.
    pub fn result(self) -> Result<Vec<D::Event>, D::Error> {
        self.decided
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeError, EventPayload};

    /// A counter that refuses to go below zero.
    struct Counter;

    #[derive(Debug, Clone, PartialEq)]
    struct Moved(i64);

    impl EventPayload for Moved {
        fn event_type(&self) -> &'static str {
            "test.Moved"
        }
        fn encode(&self) -> Vec<u8> {
            self.0.to_le_bytes().to_vec()
        }
        fn decode(_: &str, _: &[u8]) -> Result<Self, DecodeError> {
            Err(DecodeError::UnknownType("test.Moved".into()))
        }
    }

    impl Decider for Counter {
        type State = i64;
        type Command = i64;
        type Event = Moved;
        type Error = String;

        fn decide(by: &i64, state: &i64) -> Result<Vec<Moved>, String> {
            match state + by {
                below if below < 0 => Err(format!("would be {below}")),
                _ if *by == 0 => Ok(vec![]),
                _ => Ok(vec![Moved(*by)]),
            }
        }

        fn evolve(state: &mut i64, event: &Moved) {
            *state += event.0;
        }
    }

    #[test]
    fn events_and_commands_make_the_history_and_then_goes_on_from_it() {
        let after = given::<Counter>([Moved(2)])
            .after([3])
            .when(-4)
            .then([Moved(-4)]);
        assert_eq!(*after.state(), 1);
        after.when(0).then([]);
        given_nothing::<Counter>()
            .when(-1)
            .then_refused("would be -1".into());
    }

    #[test]
    #[should_panic(expected = "the events decided")]
    fn other_events_fail_the_test() {
        given_nothing::<Counter>().when(1).then([Moved(2)]);
    }

    #[test]
    #[should_panic(expected = "the command was accepted")]
    fn an_accepted_command_is_not_a_refusal() {
        given_nothing::<Counter>().when(1).then_refused("x".into());
    }

    #[test]
    #[should_panic(expected = "a given command was refused")]
    fn a_given_command_must_be_accepted() {
        given_nothing::<Counter>().after([-1]);
    }
}
