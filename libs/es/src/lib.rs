//! The decider kit and the command loop every command service uses.
//!
//! An aggregate is a [`Decider`]: `decide(command, state)` returns the events a
//! command produces (or a domain error) and `evolve(state, event)` folds an
//! event into the state; both are pure. [`Aggregates`] runs commands against
//! the event store: it loads the aggregate's state from a cache plus the
//! stream's tail, decides, appends with `Exact(version)`, retries a bounded
//! number of times on a conflict, and derives event ids from the request id so
//! that a retried request is answered from the log instead of being applied twice.

mod aggregates;
mod creation_ids;
mod decider;
mod event_ids;
mod events;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use aggregates::{Aggregates, HandleError, Handled};
pub use creation_ids::CreationIds;
pub use decider::{Decider, DecodeError, EventPayload};
pub use event_ids::derive_event_id;

/// A stream id for an aggregate: `<category>-<id>`.
pub fn stream_id(category: &str, id: &uuid::Uuid) -> String {
    format!("{category}-{id}")
}
