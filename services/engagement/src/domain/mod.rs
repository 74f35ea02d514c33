//! The engagement context's aggregates, as pure deciders: one file per aggregate.
//!
//! Each file holds the aggregate's state, its commands (validated values, the
//! actor and `now` included, so `decide` needs no I/O), its events (each wraps
//! the generated protobuf payload), its domain errors and the `Decider` impl,
//! with given/when/then tests.

use std::time::{SystemTime, UNIX_EPOCH};

pub mod action;
pub mod codebook;
pub mod concertation;
pub mod diagnostic;
pub mod foresight;
pub mod interview;
pub mod lesson;
pub mod programme;
pub mod programme_plan;
pub mod survey;

/// A protobuf timestamp for an instant.
pub fn timestamp(at: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(at)
}

/// The instant of a stored timestamp (the epoch when absent or out of range:
/// stored timestamps were produced from `SystemTime`s, so this does not happen).
pub fn instant(at: &Option<prost_types::Timestamp>) -> SystemTime {
    at.and_then(|ts| SystemTime::try_from(ts).ok())
        .unwrap_or(UNIX_EPOCH)
}

/// What the aggregates' given/when/then tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::fmt::Debug;

    use maillage_es::{Decider, EventPayload};

    /// The state of a new aggregate after `commands`, applied in turn (each must succeed).
    pub(crate) fn given<D: Decider>(commands: &[D::Command]) -> D::State
    where
        D::Error: Debug,
    {
        maillage_es::testing::given_nothing::<D>()
            .after(commands)
            .into_state()
    }

    /// Checks that `event` decodes back from its encoding, under its type.
    pub(crate) fn assert_events_encode<E: EventPayload + Debug + PartialEq>(event: &E) {
        assert_eq!(
            E::decode(event.event_type(), &event.encode()).unwrap(),
            *event
        );
    }
}
