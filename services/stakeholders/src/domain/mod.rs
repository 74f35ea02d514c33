//! The stakeholders context's aggregates as pure deciders: persons and
//! organisations ([`stakeholder`]), the contact log ([`interaction`]), the
//! saved searches of the register ([`segment`]) and the record of audience
//! exports ([`audience`]).
//!
//! Events are the generated protobuf messages of `stakeholders.proto`, each
//! wrapped in a variant of its aggregate's event enum; the record's event type
//! is the message's protobuf full name.

pub mod audience;
pub mod interaction;
pub mod segment;
pub mod stakeholder;

use std::time::{Duration, SystemTime};

use prost_types::Timestamp;

/// A timestamp as a sortable key (seconds, then nanoseconds).
pub fn ts_key(at: &Timestamp) -> (i64, i32) {
    (at.seconds, at.nanos)
}

/// `SystemTime` on the wire.
pub fn timestamp(at: SystemTime) -> Timestamp {
    Timestamp::from(at)
}

/// How far in the future an interaction may be dated (clock skew between the
/// facilitator's device and the server).
pub const MAX_FUTURE: Duration = Duration::from_secs(5 * 60);

/// Whether `at` is more than [`MAX_FUTURE`] after `now`.
pub fn too_far_in_future(at: &Timestamp, now: SystemTime) -> bool {
    ts_key(at) > ts_key(&timestamp(now + MAX_FUTURE))
}

/// Declares an aggregate's event enum over generated messages of package
/// `maillage.v1`, and its [`maillage_es::EventPayload`] impl: the event type
/// is the message's protobuf full name.
macro_rules! proto_events {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($(#[$vmeta])* $variant(maillage_proto::v1::$variant)),+
        }

        impl $name {
            /// Every event type of this aggregate (protobuf full names).
            pub const TYPES: &'static [&'static str] =
                &[$(concat!("maillage.v1.", stringify!($variant))),+];
        }

        impl maillage_es::EventPayload for $name {
            fn event_type(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => concat!("maillage.v1.", stringify!($variant))),+
                }
            }

            fn encode(&self) -> Vec<u8> {
                match self {
                    $($name::$variant(event) => prost::Message::encode_to_vec(event)),+
                }
            }

            fn decode(
                event_type: &str,
                payload: &[u8],
            ) -> Result<Self, maillage_es::DecodeError> {
                $(
                    if event_type == concat!("maillage.v1.", stringify!($variant)) {
                        return <maillage_proto::v1::$variant as prost::Message>::decode(payload)
                            .map($name::$variant)
                            .map_err(|error| maillage_es::DecodeError::malformed(event_type, error));
                    }
                )+
                Err(maillage_es::DecodeError::UnknownType(event_type.to_string()))
            }
        }

        #[cfg(test)]
        mod event_type_names {
            /// The hand-written type names are the protobuf full names.
            #[test]
            fn event_types_are_protobuf_full_names() {
                let names = [$(<maillage_proto::v1::$variant as prost::Name>::full_name()),+];
                assert_eq!(super::$name::TYPES, names.as_slice());
            }
        }
    };
}

pub(crate) use proto_events;
