//! The admin CLI's commands, each talking to a running platform over gRPC.

pub mod client;
pub mod token;
pub mod verify;
