//! End-to-end harness of Maillage: the real service binaries as separate
//! processes over a private NATS JetStream ([`cluster::Processes`]), the
//! all-in-one platform in this process on the direct feed
//! ([`cluster::InProcess`]), gRPC clients with bearer tokens ([`clients`]),
//! the NATS users each process connects as ([`nats_users`]), and the one
//! scenario both run ([`scenario`]).
//!
//! The separate processes are the workspace's own binaries
//! (`maillage-stakeholders`, `maillage-engagement`, `maillage-governance`,
//! `maillage-projections`), found next to the running test executable
//! ([`binaries`]): build them first with `cargo build --workspace --bins`.

pub mod binaries;
pub mod clients;
pub mod cluster;
pub mod nats_users;
pub mod scenario;
