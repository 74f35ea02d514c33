//! The bootstrap every Maillage server shares, and the `EventLog` service.
//!
//! - [`error`]: [`ServiceError`], the refusals a handler returns, and their gRPC codes;
//! - [`database`]: [`ServiceDatabase`], a command service's sled database: its log, vault, access journal and trees;
//! - [`crash`]: [`crash::crash_point`], where the crash tests kill a process;
//! - [`command`]: [`command_error`] and [`command_reply`], the command loop's outcomes as answers;
//! - [`access`]: reads by purpose ([`access::Disclosure`]) and the access journal;
//! - [`auth`]: roles, principals, the tokens file and the auth layer; [`require`] checks roles;
//! - [`context`]: [`RequestContext`], who asked and the ids recorded with each event;
//! - [`config`]: [`ServiceConfig`], the flags (and `MAILLAGE_*` variables) of every binary;
//! - [`telemetry`]: [`init_tracing`], human or JSON logs;
//! - `french`: the French catalogue of the handlers' own refusal phrases;
//! - [`eventlog`]: [`EventLogService`], read access to a command service's own log;
//! - [`server`]: [`Server`], serving services with auth, health, reflection, limits and a graceful shutdown;
//! - [`utc`]: the UTC instants of the tokens file;
//! - `testing` (feature `testing`): the test kit, a service spawned on a listener it holds, with tokens and clients ready;
//! - [`validate`]: the one set of rules for ids, text, enum values and instants in requests.

#![warn(missing_docs)]

pub mod access;
pub mod auth;
pub mod command;
pub mod config;
pub mod context;
pub mod crash;
pub mod database;
pub mod error;
pub mod eventlog;
mod french;
pub mod server;
pub mod subject_access;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod utc;
pub mod validate;

pub use access::{AccessJournal, AccessJournalService, Disclosure, Reader};
pub use auth::{principal, require, AuthLayer, Principal, Role, TokenFile, TokenStore};
pub use command::{command_error, command_reply, French, Refusal};
pub use config::{ConfigError, ServiceConfig};
pub use context::{FingerprintKey, RequestContext};
pub use database::{OpenError, ServiceDatabase};
pub use error::{OrStatus, ServiceError};
pub use eventlog::EventLogService;
pub use server::{Server, ServerError};
pub use telemetry::{dropped_log_lines, init_tracing, LogFormat};
