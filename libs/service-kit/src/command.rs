//! The command loop's outcomes as the service answers them: a
//! [`maillage_es::HandleError`] as a [`ServiceError`], and a
//! [`maillage_es::Handled`] as a [`CommandReply`].
//!
//! Every command service maps the loop's own failures (version conflict, store
//! failure, undecodable event, contention) the same way; only the aggregate's
//! domain refusals differ, so each service passes its own mapping for those.

use maillage_es::{HandleError, Handled};
use maillage_proto::v1::CommandReply;
use uuid::Uuid;

use crate::ServiceError;

/// The service error of a command the loop did not apply; `domain` maps the
/// aggregate's own refusals.
///
/// A version conflict is ABORTED with the actual version, a store failure maps
/// as [`StoreError`](maillage_eventstore::StoreError) does, an undecodable
/// event is INTERNAL (its detail only logged), contention is UNAVAILABLE
/// (the caller may retry) and a request id reused by another principal or for
/// another command is ALREADY_EXISTS.
pub fn command_error<E>(
    error: HandleError<E>,
    domain: impl FnOnce(E) -> ServiceError,
) -> ServiceError {
    match error {
        HandleError::Domain(error) => domain(error),
        HandleError::Conflict { expected, actual } => ServiceError::Aborted {
            expected: format!("version {expected}"),
            actual,
        },
        HandleError::Store(error) => ServiceError::from(error),
        HandleError::Decode { position, error } => {
            ServiceError::internal(format!("event at position {position}: {error}"))
        }
        HandleError::Contended => ServiceError::Unavailable {
            message: "the aggregate is being changed by other writers; retry".into(),
        },
        HandleError::RequestIdReused { request_id } => ServiceError::RequestIdReused { request_id },
    }
}

/// The reply to a handled command on the aggregate `id`: its version after the
/// command and the log position of the command's last event.
pub fn command_reply<E>(id: &Uuid, handled: &Handled<E>) -> CommandReply {
    CommandReply {
        id: id.to_string(),
        version: handled.version,
        position: handled.position,
    }
}

#[cfg(test)]
mod tests {
    use maillage_eventstore::StoreError;
    use tonic::{Code, Status};

    use super::*;

    fn refused(_: &'static str) -> ServiceError {
        ServiceError::failed_precondition("refused")
    }

    #[test]
    fn domain_refusals_go_through_the_services_mapping() {
        let error = command_error(HandleError::Domain("no"), refused);
        assert_eq!(error, ServiceError::failed_precondition("refused"));
    }

    #[test]
    fn loop_failures_map_to_their_codes() {
        let conflict = command_error(
            HandleError::Conflict {
                expected: 2,
                actual: 3,
            },
            refused,
        );
        assert_eq!(
            conflict,
            ServiceError::Aborted {
                expected: "version 2".into(),
                actual: 3
            }
        );
        assert_eq!(
            command_error(HandleError::Contended, refused).code(),
            Code::Unavailable
        );
        let reused = Status::from(command_error(
            HandleError::RequestIdReused {
                request_id: "r1".into(),
            },
            refused,
        ));
        assert_eq!(reused.code(), Code::AlreadyExists);
        assert_eq!(
            reused.message(),
            "request id r1 was already used for another command"
        );
        assert_eq!(
            command_error(HandleError::<&str>::Store(StoreError::Closed), refused).code(),
            ServiceError::from(StoreError::Closed).code()
        );
    }

    #[test]
    fn the_reply_carries_id_version_and_position() {
        let id = Uuid::from_u128(7);
        let handled = Handled::<()> {
            version: 4,
            position: 12,
            events: Vec::new(),
            replayed: false,
        };
        assert_eq!(
            command_reply(&id, &handled),
            CommandReply {
                id: id.to_string(),
                version: 4,
                position: 12
            }
        );
    }
}
