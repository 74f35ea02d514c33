//! The governance domain, pure: one decider per aggregate (consortium, meeting,
//! commitment) and the vote computation. No I/O here: commands carry the
//! caller's validated input, the time from the injected clock and, for rules
//! that span aggregates, a snapshot of the consortium loaded by the gRPC layer.

pub mod attendance;
pub mod commitment;
pub mod consortium;
pub mod meeting;
pub mod tally;
pub mod vote;

use std::time::{SystemTime, UNIX_EPOCH};

pub use prost_types::Timestamp;

/// A `google.protobuf.Timestamp` for an instant (UTC).
pub fn timestamp(at: SystemTime) -> Timestamp {
    match at.duration_since(UNIX_EPOCH) {
        Ok(since) => Timestamp {
            seconds: since.as_secs() as i64,
            nanos: since.subsec_nanos() as i32,
        },
        Err(before) => {
            let before = before.duration();
            let mut seconds = -(before.as_secs() as i64);
            let mut nanos = -(before.subsec_nanos() as i32);
            if nanos < 0 {
                seconds -= 1;
                nanos += 1_000_000_000;
            }
            Timestamp { seconds, nanos }
        }
    }
}

/// Orders two timestamps (seconds, then nanos).
pub fn earlier(a: &Timestamp, b: &Timestamp) -> bool {
    (a.seconds, a.nanos) < (b.seconds, b.nanos)
}

/// How a domain refusal reads for a caller: the gRPC layer turns it into a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A request field names something that cannot be used here (INVALID_ARGUMENT).
    InvalidArgument {
        /// The request field.
        field: String,
    },
    /// The aggregate, or a thing inside it, does not exist (NOT_FOUND).
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The thing to create exists already (ALREADY_EXISTS).
    AlreadyExists {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A domain rule refuses the command in the current state (FAILED_PRECONDITION).
    FailedPrecondition,
}

/// A domain error that knows how it is reported.
pub trait DomainError: std::fmt::Display {
    /// Its category for the caller.
    fn refusal(&self) -> Refusal;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_convert_both_sides_of_the_epoch() {
        let after = UNIX_EPOCH + Duration::new(10, 5);
        assert_eq!(
            timestamp(after),
            Timestamp {
                seconds: 10,
                nanos: 5
            }
        );
        let before = UNIX_EPOCH - Duration::new(1, 500_000_000);
        assert_eq!(
            timestamp(before),
            Timestamp {
                seconds: -2,
                nanos: 500_000_000
            }
        );
        assert!(earlier(&timestamp(before), &timestamp(after)));
    }
}
