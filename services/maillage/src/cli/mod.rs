//! The admin CLI's commands, each talking to a running platform over gRPC.

pub mod audit;
pub mod catch_up;
pub mod client;
pub mod demo;
pub mod output;
pub mod privacy;
pub mod report;
pub mod summary;
pub mod territory;
pub mod token;
pub mod verify;
