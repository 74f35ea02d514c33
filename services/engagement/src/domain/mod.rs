//! The engagement context's aggregates, as pure deciders: one file per aggregate.
//!
//! Each file holds the aggregate's state, its commands (validated values, the
//! actor and `now` included, so `decide` needs no I/O), its events (each wraps
//! the generated protobuf payload), its domain errors and the `Decider` impl,
//! with given/when/then tests.

use std::time::{SystemTime, UNIX_EPOCH};

pub mod action;
pub mod diagnostic;
pub mod interview;
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

/// Declares an aggregate's event enum over generated payload messages and
/// implements [`maillage_es::EventPayload`] for it: the event type is the
/// message's protobuf full name (`maillage.v1.<Message>`).
macro_rules! events {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $(
                #[doc = concat!(
                    "The `", stringify!($variant), "` event, carrying the protobuf message `maillage.v1.",
                    stringify!($variant), "`."
                )]
                $(#[$vmeta])*
                $variant(maillage_proto::v1::$variant)
            ),*
        }

        impl maillage_es::EventPayload for $name {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => concat!("maillage.v1.", stringify!($variant))),*
                }
            }

            fn encode(&self) -> Vec<u8> {
                match self {
                    $(Self::$variant(payload) => prost::Message::encode_to_vec(payload)),*
                }
            }

            fn decode(event_type: &str, payload: &[u8]) -> Result<Self, maillage_es::DecodeError> {
                $(
                    if event_type == concat!("maillage.v1.", stringify!($variant)) {
                        return <maillage_proto::v1::$variant as prost::Message>::decode(payload)
                            .map(Self::$variant)
                            .map_err(|error| maillage_es::DecodeError::malformed(event_type, error));
                    }
                )*
                Err(maillage_es::DecodeError::UnknownType(event_type.to_string()))
            }
        }

        impl $name {
            /// Every event type of the aggregate, with the protobuf full name
            /// `prost::Name` gives (checked equal to the static name in tests).
            pub fn type_names() -> Vec<(&'static str, String)> {
                vec![$((
                    concat!("maillage.v1.", stringify!($variant)),
                    <maillage_proto::v1::$variant as prost::Name>::full_name(),
                )),*]
            }
        }
    };
}
pub(crate) use events;

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

    /// Checks that each of an aggregate's event types (`type_names`, as
    /// `events!` declares them) is its payload's protobuf full name, and that
    /// `event` decodes back from its encoding.
    pub(crate) fn assert_events_encode<E: EventPayload + Debug + PartialEq>(
        type_names: Vec<(&'static str, String)>,
        event: &E,
    ) {
        for (static_name, full_name) in type_names {
            assert_eq!(static_name, full_name);
        }
        assert_eq!(
            E::decode(event.event_type(), &event.encode()).unwrap(),
            *event
        );
    }
}
