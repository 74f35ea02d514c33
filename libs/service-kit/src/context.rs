//! The context of one request: who asked, and the ids that tie its events
//! together (request, correlation, causation).
//!
//! Handlers build it first thing with [`RequestContext::from_request`], passing
//! the command message's `request_id` field (or `""` for messages without one),
//! and record [`RequestContext::metadata`] with every event they append.

use maillage_eventstore::EventMetadata;
use tonic::Status;

use crate::auth::{self, Principal};
use crate::error::ServiceError;
use crate::server::RpcSpan;

/// Header carrying the client's request id when the message has no `request_id` field.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Header carrying the correlation id of the user action the request belongs to.
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";
/// Longest request or correlation id accepted.
pub const MAX_ID_LEN: usize = 128;

/// Who made a request and the ids recorded with the events it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The authenticated caller.
    pub principal: Principal,
    /// The client's request id: retries of one request carry the same one, so
    /// event ids derived from it deduplicate in the store.
    pub request_id: String,
    /// Ties together everything done for one user action across services.
    pub correlation_id: String,
    /// What directly caused the events: the request id.
    pub causation_id: String,
}

impl RequestContext {
    /// Builds the context of `request`.
    ///
    /// - principal: from the auth layer (UNAUTHENTICATED when absent);
    /// - request id: `request_id_field` (the message's `request_id`) when not
    ///   empty, else the `x-request-id` header, else a new UUID v7;
    /// - correlation id: the `x-correlation-id` header, else the request id;
    /// - causation id: the request id.
    ///
    /// Ids must be at most 128 printable ASCII characters: else
    /// INVALID_ARGUMENT on `request_id` (or `x-correlation-id`). The ids are
    /// also recorded on the RPC's tracing span.
    pub fn from_request<T>(
        request: &tonic::Request<T>,
        request_id_field: &str,
    ) -> Result<Self, Status> {
        let principal = auth::principal(request)?;
        let metadata = request.metadata();
        let header = |name: &str| -> Result<Option<String>, Status> {
            match metadata.get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .map(|text| Some(text.trim().to_owned()))
                    .map_err(|_| {
                        ServiceError::invalid_argument(name, "must be printable ASCII").into()
                    }),
            }
        };
        let request_id = if !request_id_field.is_empty() {
            request_id_field.to_owned()
        } else {
            match header(REQUEST_ID_HEADER).map_err(|_| {
                Status::from(ServiceError::invalid_argument(
                    "request_id",
                    "x-request-id must be printable ASCII",
                ))
            })? {
                Some(value) if !value.is_empty() => value,
                _ => uuid::Uuid::now_v7().to_string(),
            }
        };
        check_id("request_id", &request_id)?;
        let correlation_id = match header(CORRELATION_ID_HEADER)? {
            Some(value) if !value.is_empty() => value,
            _ => request_id.clone(),
        };
        check_id(CORRELATION_ID_HEADER, &correlation_id)?;
        if let Some(span) = request.extensions().get::<RpcSpan>() {
            span.record_ids(&request_id, &correlation_id);
        }
        Ok(Self {
            principal,
            causation_id: request_id.clone(),
            request_id,
            correlation_id,
        })
    }

    /// The context of a command request: as [`RequestContext::from_request`],
    /// with the causation id set to a fingerprint of the request message
    /// ([`command_fingerprint`]). The command loop replays a request id's
    /// original outcome only to the same principal with the same fingerprint,
    /// so a request id reused for another command is refused instead of
    /// silently answered with the first command's outcome.
    pub fn for_command<T: prost::Name>(
        request: &tonic::Request<T>,
        request_id_field: &str,
    ) -> Result<Self, Status> {
        let mut context = Self::from_request(request, request_id_field)?;
        context.causation_id = command_fingerprint(request.get_ref());
        Ok(context)
    }

    /// A context for work that no RPC started (jobs, tests, the admin CLI).
    pub fn new(principal: Principal, request_id: impl Into<String>) -> Self {
        let request_id = request_id.into();
        Self {
            principal,
            correlation_id: request_id.clone(),
            causation_id: request_id.clone(),
            request_id,
        }
    }

    /// The metadata to record with each event this request causes (the actor
    /// is the principal's name).
    pub fn metadata(&self) -> EventMetadata {
        EventMetadata {
            actor: self.principal.name.clone(),
            request_id: self.request_id.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
        }
    }
}

/// The fingerprint of a command message: `cmd-` and 32 hex digits of the
/// BLAKE3 hash of its protobuf full name and encoded bytes. Retries of one
/// request send the same message, hence the same fingerprint; prost encodes
/// fields in tag order and the API has no map fields, so it is stable.
pub fn command_fingerprint<T: prost::Name>(message: &T) -> String {
    let mut hasher = blake3::Hasher::new_derive_key("maillage 2026 command fingerprint v1");
    hasher.update(T::full_name().as_bytes());
    hasher.update(&[0]);
    hasher.update(&message.encode_to_vec());
    let hash = hasher.finalize();
    format!("cmd-{}", &hash.to_hex()[..32])
}

/// Ok when `value` is 1 to 128 printable ASCII characters.
fn check_id(field: &str, value: &str) -> Result<(), Status> {
    let problem = if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > MAX_ID_LEN {
        Some("must be at most 128 characters")
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some("must be printable ASCII without spaces")
    } else {
        None
    };
    match problem {
        Some(message) => Err(ServiceError::invalid_argument(field, message).into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use tonic::Code;

    fn request(headers: &[(&'static str, &str)]) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        for (name, value) in headers {
            request.metadata_mut().insert(*name, value.parse().unwrap());
        }
        request.extensions_mut().insert(Principal {
            name: "alice".into(),
            roles: vec![Role::Facilitator],
        });
        request
    }

    #[test]
    fn a_command_context_carries_the_fingerprint_of_its_message() {
        use maillage_proto::v1::{RecordConsentRequest, WithdrawConsentRequest};
        let record = RecordConsentRequest {
            request_id: "r1".into(),
            stakeholder_id: "s".into(),
            channel: 1,
            ..Default::default()
        };
        // The same fields, another command: its name tells them apart.
        let withdraw = WithdrawConsentRequest {
            request_id: "r1".into(),
            stakeholder_id: "s".into(),
            channel: 1,
            ..Default::default()
        };
        let with_message = |message: RecordConsentRequest| {
            let mut request = tonic::Request::new(message);
            request.extensions_mut().insert(Principal {
                name: "alice".into(),
                roles: vec![Role::Facilitator],
            });
            RequestContext::for_command(&request, "r1").unwrap()
        };
        let context = with_message(record.clone());
        assert_eq!(context.request_id, "r1");
        assert_eq!(context.causation_id, command_fingerprint(&record));
        assert_eq!(
            with_message(record.clone()).causation_id,
            context.causation_id
        );
        assert_ne!(command_fingerprint(&withdraw), context.causation_id);
        let other_channel = RecordConsentRequest {
            channel: 2,
            ..record
        };
        assert_ne!(
            with_message(other_channel).causation_id,
            context.causation_id
        );
    }

    #[test]
    fn the_message_field_wins_then_the_header_then_a_new_uuid() {
        let from_field =
            RequestContext::from_request(&request(&[("x-request-id", "hdr")]), "field").unwrap();
        assert_eq!(from_field.request_id, "field");
        assert_eq!(from_field.correlation_id, "field");
        assert_eq!(from_field.causation_id, "field");

        let from_header =
            RequestContext::from_request(&request(&[("x-request-id", "hdr")]), "").unwrap();
        assert_eq!(from_header.request_id, "hdr");

        let generated = RequestContext::from_request(&request(&[]), "").unwrap();
        let uuid = uuid::Uuid::parse_str(&generated.request_id).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
    }

    #[test]
    fn correlation_comes_from_its_header_and_metadata_names_the_actor() {
        let context =
            RequestContext::from_request(&request(&[("x-correlation-id", "corr-1")]), "req-1")
                .unwrap();
        let metadata = context.metadata();
        assert_eq!(metadata.actor, "alice");
        assert_eq!(metadata.request_id, "req-1");
        assert_eq!(metadata.correlation_id, "corr-1");
        assert_eq!(metadata.causation_id, "req-1");
    }

    #[test]
    fn bad_request_ids_are_invalid_arguments_on_request_id() {
        for bad in ["x".repeat(129), "has space".into(), "é".into()] {
            let status = RequestContext::from_request(&request(&[]), &bad).unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}");
            assert!(status.message().starts_with("request_id: "), "{status:?}");
        }
    }

    #[test]
    fn no_principal_is_unauthenticated() {
        let status = RequestContext::from_request(&tonic::Request::new(()), "r").unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
}
