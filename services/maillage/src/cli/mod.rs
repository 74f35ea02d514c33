//! The admin CLI's commands: most talk to a running platform over gRPC; `rekey`
//! works offline on a stopped platform's data directory, and `restore` writes
//! a stopped service's log back from the JetStream stream.

pub mod audience;
pub mod audit;
pub mod catch_up;
pub mod client;
pub mod concertation;
pub mod demo;
pub mod filter;
pub mod follow_ups;
pub mod import;
pub mod output;
pub mod privacy;
pub mod programme;
pub mod progress;
pub mod reach;
pub mod rebuild;
pub mod rekey;
pub mod report;
pub mod restore;
pub mod search;
pub mod segment;
pub mod subject_access;
pub mod summary;
pub mod territory;
pub mod token;
pub mod verify;
pub mod verify_report;
