//! Maillage's gRPC APIs and event payloads, generated at build time from `proto/`.
//!
//! Everything lives in [`v1`] (protobuf package `maillage.v1`): the shared types
//! (event envelope, command reply, pagination, territory references), the
//! `EventLog` service, and each context's service and event messages; and, in
//! [`themes`], the one vocabulary of themes and how the older ones map into it.

/// Protobuf package `maillage.v1`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("maillage.v1");
}

pub mod themes;

/// The encoded descriptor set of every API, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/maillage_descriptor.bin"));

/// The protobuf full name of a generated message type, e.g. `maillage.v1.PersonRegistered`:
/// the event type recorded in the log for that payload.
pub fn full_name<M: prost::Name>() -> String {
    M::full_name()
}
