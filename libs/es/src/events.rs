//! [`proto_events!`], the one way an aggregate declares its events: an enum
//! whose variants wrap generated protobuf messages of package `maillage.v1`,
//! with its [`crate::EventPayload`] impl. The event type of each variant is
//! its payload's protobuf full name (`maillage.v1.<Message>`), the name
//! `prost::Name` gives it; a test the macro adds to the declaring module
//! checks that they agree.

/// Declares an aggregate's event enum over generated messages of package
/// `maillage.v1` and implements [`crate::EventPayload`] for it:
///
/// ```ignore
/// maillage_es::proto_events! {
///     /// What happens to a commitment.
///     CommitmentEvent {
///         /// Made.
///         Made(CommitmentMade),
///         /// Completed.
///         Completed(CommitmentCompleted),
///     }
/// }
/// ```
///
/// The declaring crate depends on `prost` and `maillage-proto`. One
/// declaration per module (the macro adds a test module to it).
#[macro_export]
macro_rules! proto_events {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident($payload:ident)),+ $(,)? }
    ) => {
        $(#[$meta])*
        // Payloads are generated messages of different sizes; events are few and
        // short-lived, so boxing them would only complicate every match.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[doc = concat!("Payload `maillage.v1.", stringify!($payload), "`.")]
                $variant(maillage_proto::v1::$payload)
            ),+
        }

        impl $name {
            /// Every event type of the aggregate: its payloads' protobuf full names.
            pub const TYPES: &'static [&'static str] =
                &[$(concat!("maillage.v1.", stringify!($payload))),+];
        }

        impl $crate::EventPayload for $name {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => concat!("maillage.v1.", stringify!($payload))),+
                }
            }

            fn encode(&self) -> Vec<u8> {
                match self {
                    $(Self::$variant(payload) => prost::Message::encode_to_vec(payload)),+
                }
            }

            fn decode(event_type: &str, payload: &[u8]) -> Result<Self, $crate::DecodeError> {
                $(
                    if event_type == concat!("maillage.v1.", stringify!($payload)) {
                        return <maillage_proto::v1::$payload as prost::Message>::decode(payload)
                            .map(Self::$variant)
                            .map_err(|error| $crate::DecodeError::malformed(event_type, error));
                    }
                )+
                Err($crate::DecodeError::UnknownType(event_type.to_string()))
            }
        }

        #[cfg(test)]
        mod proto_event_types {
            /// The declared event types are the payloads' protobuf full names.
            #[test]
            fn event_types_are_protobuf_full_names() {
                let generated =
                    [$(<maillage_proto::v1::$payload as prost::Name>::full_name()),+];
                assert_eq!(super::$name::TYPES, generated.as_slice());
            }
        }
    };
}
