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
