//! The context of one request: who asked, and the ids that tie its events
//! together (request, correlation, causation).
//!
//! Handlers build it first thing with [`RequestContext::from_request`], passing
//! the command message's `request_id` field (or `""` for messages without one),
//! and record [`RequestContext::metadata`] with every event they append.
//! Command handlers use [`RequestContext::for_command`], whose causation id is
//! the message's keyed fingerprint ([`FingerprintKey`]): the command loop
//! replays a request id's outcome only for the same principal and command.

use std::fmt;

use maillage_eventstore::EventMetadata;
use maillage_privacy::{KeyVault, MasterKey};
use rand::RngCore;
use tonic::Status;
use zeroize::Zeroizing;

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
                        ServiceError::invalid_argument(name, "must be printable ASCII")
                            .with_french("Cet en-tête doit être en ASCII imprimable.")
                            .into()
                    }),
            }
        };
        let request_id = if !request_id_field.is_empty() {
            request_id_field.to_owned()
        } else {
            match header(REQUEST_ID_HEADER).map_err(|_| {
                Status::from(
                    ServiceError::invalid_argument(
                        "request_id",
                        "x-request-id must be printable ASCII",
                    )
                    .with_french("L'en-tête x-request-id doit être en ASCII imprimable."),
                )
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
    /// with the causation id set to the request message's fingerprint under
    /// the service's `key` ([`FingerprintKey::fingerprint`]). The command loop
    /// replays a request id's original outcome only to the same principal
    /// with the same fingerprint, so a request id reused for another command
    /// is refused instead of silently answered with the first command's
    /// outcome.
    pub fn for_command<T: prost::Name>(
        request: &tonic::Request<T>,
        request_id_field: &str,
        key: &FingerprintKey,
    ) -> Result<Self, Status> {
        let mut context = Self::from_request(request, request_id_field)?;
        context.causation_id = key.fingerprint(request.get_ref());
        Ok(context)
    }

    /// The context of a command request from a caller holding one of `roles`
    /// (an admin always may), its causation id the request's fingerprint. The
    /// role is checked first, so a caller who may not write learns nothing of
    /// the request (not even whether its request id is well formed).
    pub fn authorize<T: prost::Name>(
        request: &tonic::Request<T>,
        request_id_field: &str,
        key: &FingerprintKey,
        roles: &[crate::Role],
    ) -> Result<Self, Status> {
        crate::require(request, roles)?;
        Self::for_command(request, request_id_field, key)
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

/// BLAKE3 key-derivation context of the fingerprint key derived from a
/// master key (fixed forever: stored fingerprints depend on it).
pub const FINGERPRINT_KEY_CONTEXT: &str = "maillage 2026 command fingerprint key v1";

/// The secret key of a service's command fingerprints.
///
/// A command's fingerprint is written, with its events, into the log for
/// ever, and the request message it is computed from holds personal data in
/// clear (names, emails, notes). An unkeyed hash of it would let anyone who
/// reads the log (an auditor, a JetStream subscriber, a backup) confirm a
/// guess about that data, even after the person's keys were destroyed by an
/// erasure. The fingerprint is therefore a keyed BLAKE3 hash under a key the
/// log does not hold:
///
/// - services with personal data derive it from their master key
///   ([`FingerprintKey::from_vault`]), so it is exactly as secret as the
///   wrapped data keys, and rotating the master key (and destroying the old
///   one) makes the fingerprints already written meaningless, as it does the
///   stale copies of erased keys;
/// - a service with no master key (governance) keeps a random one in its own
///   database ([`FingerprintKey::generate`], [`FingerprintKey::from_bytes`]).
///
/// A retry fingerprinted under another key than its original (after a master
/// key rotation, or a governance database rebuilt from the feed) is refused as
/// a reuse of the request id: nothing is written twice.
#[derive(Clone)]
pub struct FingerprintKey {
    key: Zeroizing<[u8; 32]>,
}

impl FingerprintKey {
    /// The key derived one-way from the master key of `vault`.
    pub fn from_vault(vault: &KeyVault) -> Self {
        Self {
            key: vault.derive_key(FINGERPRINT_KEY_CONTEXT),
        }
    }

    /// The key derived one-way from `master`.
    pub fn from_master_key(master: &MasterKey) -> Self {
        Self {
            key: master.derive_key(FINGERPRINT_KEY_CONTEXT),
        }
    }

    /// A key from its 32 bytes (kept by the service outside its log).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(bytes),
        }
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self { key: bytes }
    }

    /// The key's bytes, for a service that keeps it in its database.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The fingerprint of a command message: `cmd-` and 32 hex digits of the
    /// keyed BLAKE3 hash of its protobuf full name and encoded bytes. Retries
    /// of one request send the same message, hence the same fingerprint;
    /// prost encodes fields in tag order and the API has no map fields, so it
    /// is stable. Without the key it tells nothing about the message.
    pub fn fingerprint<T: prost::Name>(&self, message: &T) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(T::full_name().as_bytes());
        hasher.update(&[0]);
        hasher.update(&Zeroizing::new(message.encode_to_vec()));
        let hash = hasher.finalize();
        format!("cmd-{}", &hash.to_hex()[..32])
    }
}

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

/// Ok when `value` is 1 to 128 printable ASCII characters.
fn check_id(field: &str, value: &str) -> Result<(), Status> {
    let problem = if value.is_empty() {
        Some(("must not be empty", "Ce champ ne doit pas être vide."))
    } else if value.len() > MAX_ID_LEN {
        Some(("must be at most 128 characters", "128 caractères au plus."))
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        Some((
            "must be printable ASCII without spaces",
            "Caractères ASCII imprimables seulement, sans espace.",
        ))
    } else {
        None
    };
    match problem {
        Some((message, french)) => Err(ServiceError::invalid_argument(field, message)
            .with_french(french)
            .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use maillage_proto::v1::{
        PersonProfile, RecordConsentRequest, RegisterPersonRequest, WithdrawConsentRequest,
    };
    use prost::{Message, Name};
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

    fn consent(channel: i32) -> RecordConsentRequest {
        RecordConsentRequest {
            request_id: "r1".into(),
            stakeholder_id: "s".into(),
            channel,
            ..Default::default()
        }
    }

    fn command_context(message: RecordConsentRequest, key: &FingerprintKey) -> RequestContext {
        let mut request = tonic::Request::new(message);
        request.extensions_mut().insert(Principal {
            name: "alice".into(),
            roles: vec![Role::Facilitator],
        });
        RequestContext::for_command(&request, "r1", key).unwrap()
    }

    #[test]
    fn a_command_context_carries_the_fingerprint_of_its_message() {
        let key = FingerprintKey::from_bytes([1; 32]);
        let record = consent(1);
        // The same fields, another command: its name tells them apart.
        let withdraw = WithdrawConsentRequest {
            request_id: "r1".into(),
            stakeholder_id: "s".into(),
            channel: 1,
            ..Default::default()
        };
        let context = command_context(record.clone(), &key);
        assert_eq!(context.request_id, "r1");
        assert_eq!(context.causation_id, key.fingerprint(&record));
        assert_eq!(
            command_context(record.clone(), &key).causation_id,
            context.causation_id
        );
        assert_ne!(key.fingerprint(&withdraw), context.causation_id);
        assert_ne!(
            command_context(consent(2), &key).causation_id,
            context.causation_id
        );
    }

    #[test]
    fn a_fingerprint_cannot_be_recomputed_without_the_key() {
        let message = RegisterPersonRequest {
            request_id: "r1".into(),
            profile: Some(PersonProfile {
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                email: "camille@example.fr".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let key = FingerprintKey::from_master_key(&MasterKey::from_bytes([2; 32]));
        let fingerprint = key.fingerprint(&message);
        // Whoever reads the log and guesses the message cannot confirm the
        // guess by hashing it: neither plainly, nor as the unkeyed version did.
        let name_and_bytes = [
            RegisterPersonRequest::full_name().as_bytes(),
            &[0],
            &message.encode_to_vec(),
        ]
        .concat();
        let unkeyed = [
            blake3::hash(&name_and_bytes),
            blake3::Hasher::new_derive_key("maillage 2026 command fingerprint v1")
                .update(&name_and_bytes)
                .finalize(),
        ];
        for hash in unkeyed {
            assert_ne!(fingerprint, format!("cmd-{}", &hash.to_hex()[..32]));
        }
        assert!(!fingerprint.contains("Camille") && fingerprint.len() == 36);
        // Another master key (a rotation) gives other fingerprints; the same
        // one, the same.
        let same = FingerprintKey::from_master_key(&MasterKey::from_bytes([2; 32]));
        assert_eq!(same.fingerprint(&message), fingerprint);
        let rotated = FingerprintKey::from_master_key(&MasterKey::from_bytes([3; 32]));
        assert_ne!(rotated.fingerprint(&message), fingerprint);
        assert_ne!(
            FingerprintKey::generate().fingerprint(&message),
            fingerprint
        );
        assert_eq!(format!("{key:?}"), "FingerprintKey(..)");
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
