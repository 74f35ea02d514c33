//! The command loop's outcomes as the service answers them: a
//! [`maillage_es::HandleError`] as a [`ServiceError`], and a
//! [`maillage_es::Handled`] as a [`CommandReply`].
//!
//! Every command service maps the loop's own failures (version conflict, store
//! failure, undecodable event, contention) the same way; only the aggregate's
//! domain refusals differ, and each domain error says how it reads for the
//! caller by implementing [`Refusal`], once, and how it reads for a person,
//! in French, by implementing [`French`].

use maillage_es::{HandleError, Handled};
use maillage_proto::v1::CommandReply;
use uuid::Uuid;

use crate::ServiceError;

/// How a domain refusal reads for a person, in French: the message the
/// console and the CLI show, sent beside the English one (see
/// [`ServiceError::with_french`]). Each service words all its aggregates'
/// refusals in one file, with an exhaustive `match` on each error enum, so a
/// refusal added later does not compile until it has its French.
pub trait French {
    /// The refusal in French, for a person: what was refused and what to do
    /// about it, never personal data (ids are fine).
    fn french(&self) -> String;
}

/// A domain refusal of a command (an aggregate's error type), and how it
/// reads for the caller: the one mapping of the aggregate's refusals to
/// statuses, which every handler of its commands shares through
/// [`command_error`]; its French wording comes from [`French`].
pub trait Refusal: French {
    /// The service error of this refusal of a command on the aggregate
    /// `aggregate_id`, in English (callers use [`refused`](Self::refused)).
    fn service_error(self, aggregate_id: &Uuid) -> ServiceError;

    /// The service error of this refusal with its French wording: what the
    /// caller receives.
    fn refused(self, aggregate_id: &Uuid) -> ServiceError
    where
        Self: Sized,
    {
        let french = self.french();
        self.service_error(aggregate_id).with_french(french)
    }
}

/// The service error of a command the loop did not apply on the aggregate
/// `aggregate_id`; the aggregate's own refusals read as their [`Refusal`] says.
///
/// A version conflict is ABORTED with the actual version, a store failure maps
/// as [`StoreError`](maillage_eventstore::StoreError) does, an undecodable
/// event is INTERNAL (its detail only logged), contention is UNAVAILABLE
/// (the caller may retry) and a request id reused by another principal or for
/// another command is ALREADY_EXISTS.
pub fn command_error<E: Refusal>(error: HandleError<E>, aggregate_id: &Uuid) -> ServiceError {
    match error {
        HandleError::Domain(error) => error.refused(aggregate_id),
        HandleError::Conflict { expected, actual } => ServiceError::Aborted {
            expected: format!("version {expected}"),
            actual,
        },
        HandleError::Store(error) => ServiceError::from(error),
        HandleError::Decode { position, error } => {
            ServiceError::internal(format!("event at position {position}: {error}"))
        }
        HandleError::Contended => ServiceError::unavailable(
            "the aggregate is being changed by other writers; retry",
            "D'autres personnes modifient cet élément en ce moment : réessayez dans un instant.",
        ),
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

    /// A domain error of a test aggregate.
    #[derive(Debug)]
    struct Refused;

    impl French for Refused {
        fn french(&self) -> String {
            "Refusé.".into()
        }
    }

    impl Refusal for Refused {
        fn service_error(self, aggregate_id: &Uuid) -> ServiceError {
            ServiceError::failed_precondition(format!("{aggregate_id} refused"))
        }
    }

    fn id() -> Uuid {
        Uuid::from_u128(7)
    }

    #[test]
    fn domain_refusals_go_through_the_services_mapping() {
        let error = command_error(HandleError::Domain(Refused), &id());
        assert_eq!(
            error,
            ServiceError::failed_precondition(format!("{} refused", id())).with_french("Refusé.")
        );
    }

    #[test]
    fn loop_failures_map_to_their_codes() {
        let conflict = command_error(
            HandleError::<Refused>::Conflict {
                expected: 2,
                actual: 3,
            },
            &id(),
        );
        assert_eq!(
            conflict,
            ServiceError::Aborted {
                expected: "version 2".into(),
                actual: 3
            }
        );
        assert_eq!(
            command_error(HandleError::<Refused>::Contended, &id()).code(),
            Code::Unavailable
        );
        let reused = Status::from(command_error(
            HandleError::<Refused>::RequestIdReused {
                request_id: "r1".into(),
            },
            &id(),
        ));
        assert_eq!(reused.code(), Code::AlreadyExists);
        assert_eq!(
            reused.message(),
            "request id r1 was already used for another command"
        );
        assert_eq!(
            command_error(HandleError::<Refused>::Store(StoreError::Closed), &id()).code(),
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
