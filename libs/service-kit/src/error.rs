//! The errors a service returns to its callers, and how each becomes a gRPC status.
//!
//! Handlers return [`ServiceError`] (or anything that converts into it, such as
//! [`StoreError`]) and let `?` turn it into a [`tonic::Status`] with the code the
//! design fixes (§8): INVALID_ARGUMENT names the offending field and carries a
//! `google.rpc.BadRequest` field violation, ABORTED gives the actual version,
//! INTERNAL never leaks its detail to the caller (the detail goes to the log).
//! A message is cut at [`MAX_STATUS_MESSAGE`] bytes: it may quote a value of
//! the request, and it travels in HTTP/2 headers.

use maillage_eventstore::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Why a request was refused or failed. A refused request changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// A request field is malformed or refers to something that cannot exist
    /// (e.g. `commune_code: unknown commune 99999`).
    #[error("{field}: {message}")]
    InvalidArgument {
        /// The protobuf field path, e.g. `commune_code` or `mandates[0].start`.
        field: String,
        /// What is wrong with it, without personal data.
        message: String,
        /// The same, in French, for a person (see [`ServiceError::with_french`]).
        french: Option<String>,
    },
    /// The thing asked for does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What kind of thing, e.g. `stakeholder`.
        what: String,
        /// Its id.
        id: String,
        /// The refusal in French, for a person.
        french: Option<String>,
    },
    /// The thing to create exists already.
    #[error("{what} {id} already exists")]
    AlreadyExists {
        /// What kind of thing.
        what: String,
        /// Its id.
        id: String,
        /// The refusal in French, for a person.
        french: Option<String>,
    },
    /// The request id was already used, on the same aggregate, by another
    /// principal or for another command (ALREADY_EXISTS).
    #[error("request id {request_id} was already used for another command")]
    RequestIdReused {
        /// The request id.
        request_id: String,
    },
    /// A domain rule refuses the command in the aggregate's current state.
    #[error("{message}")]
    FailedPrecondition {
        /// Which rule, said for the caller.
        message: String,
        /// The rule in French, for a person.
        french: Option<String>,
    },
    /// Optimistic concurrency: the aggregate is not at the version the caller expected.
    #[error("expected {expected}, actual {actual}")]
    Aborted {
        /// What the caller expected, e.g. `version 3` or `no stream`.
        expected: String,
        /// The aggregate's current version.
        actual: u64,
    },
    /// No valid credentials.
    #[error("{message}")]
    Unauthenticated {
        /// What is missing or wrong (never the token itself).
        message: String,
        /// The same in French, for a person.
        french: Option<String>,
    },
    /// Valid credentials without a role the RPC needs.
    #[error("permission denied: needs one of the roles {}", needed.join(", "))]
    PermissionDenied {
        /// The roles that would have been accepted (lowercase names).
        needed: Vec<String>,
        /// The refusal in French, when the roles' names do not say it
        /// (e.g. an officer designated for an axis).
        french: Option<String>,
    },
    /// A bounded resource is in use to its limit (concurrent replays); the
    /// request changed nothing, retry later.
    #[error("{message}")]
    ResourceExhausted {
        /// Which limit was reached, and the limit itself.
        message: String,
        /// The same in French, for a person.
        french: Option<String>,
    },
    /// The service cannot serve now (shutting down, store closed); retry later.
    #[error("{message}")]
    Unavailable {
        /// Why.
        message: String,
        /// The same in French, for a person.
        french: Option<String>,
    },
    /// A bug or a storage failure. The caller sees only a generic message.
    #[error("internal error")]
    Internal {
        /// What went wrong, for the log only (no personal data).
        detail: String,
    },
}

impl ServiceError {
    /// INVALID_ARGUMENT on `field`.
    pub fn invalid_argument(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            message: message.into(),
            french: None,
        }
    }

    /// NOT_FOUND for `what` `id`.
    pub fn not_found(what: impl Into<String>, id: impl Into<String>) -> Self {
        Self::NotFound {
            what: what.into(),
            id: id.into(),
            french: None,
        }
    }

    /// ALREADY_EXISTS for `what` `id`.
    pub fn already_exists(what: impl Into<String>, id: impl Into<String>) -> Self {
        Self::AlreadyExists {
            what: what.into(),
            id: id.into(),
            french: None,
        }
    }

    /// FAILED_PRECONDITION: a domain rule refuses the command.
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::FailedPrecondition {
            message: message.into(),
            french: None,
        }
    }

    /// UNAUTHENTICATED: `message` says what is missing or wrong, `french` the same for a person.
    pub fn unauthenticated(message: impl Into<String>, french: impl Into<String>) -> Self {
        Self::Unauthenticated {
            message: message.into(),
            french: Some(french.into()),
        }
    }

    /// PERMISSION_DENIED: the caller holds none of `roles` (admin passes every check).
    pub fn permission_denied(roles: &[crate::Role]) -> Self {
        Self::PermissionDenied {
            needed: roles.iter().map(|role| role.to_string()).collect(),
            french: None,
        }
    }

    /// RESOURCE_EXHAUSTED: a bounded resource is at its limit.
    pub fn resource_exhausted(message: impl Into<String>, french: impl Into<String>) -> Self {
        Self::ResourceExhausted {
            message: message.into(),
            french: Some(french.into()),
        }
    }

    /// UNAVAILABLE: the service cannot serve now.
    pub fn unavailable(message: impl Into<String>, french: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            french: Some(french.into()),
        }
    }

    /// INTERNAL with a detail for the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
        }
    }

    /// This error with its French wording for a person, sent beside the
    /// unchanged English message as a `google.rpc.LocalizedMessage`
    /// (`fr-FR`). The request-id reuse and version conflict are worded by
    /// the kit alone, and an internal error says nothing more: on those it
    /// changes nothing.
    #[must_use]
    pub fn with_french(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            Self::InvalidArgument { french, .. }
            | Self::NotFound { french, .. }
            | Self::AlreadyExists { french, .. }
            | Self::FailedPrecondition { french, .. }
            | Self::Unauthenticated { french, .. }
            | Self::PermissionDenied { french, .. }
            | Self::ResourceExhausted { french, .. }
            | Self::Unavailable { french, .. } => *french = Some(text.into()),
            Self::RequestIdReused { .. } | Self::Aborted { .. } | Self::Internal { .. } => {}
        }
        self
    }

    /// What a person reads, in French: the wording given with
    /// [`with_french`](Self::with_french), else the kit's for the code
    /// (which keeps the English detail when it has nothing better).
    pub fn french(&self) -> String {
        match self {
            Self::InvalidArgument {
                french: Some(text), ..
            }
            | Self::NotFound {
                french: Some(text), ..
            }
            | Self::AlreadyExists {
                french: Some(text), ..
            }
            | Self::FailedPrecondition {
                french: Some(text), ..
            }
            | Self::Unauthenticated {
                french: Some(text), ..
            }
            | Self::PermissionDenied {
                french: Some(text), ..
            }
            | Self::ResourceExhausted {
                french: Some(text), ..
            }
            | Self::Unavailable {
                french: Some(text), ..
            } => text.clone(),
            Self::InvalidArgument { message, .. } => crate::french::phrase(message)
                .unwrap_or_else(|| format!("Valeur refusée : {message}.")),
            Self::NotFound { what, id, .. } => {
                format!("Introuvable : {} {id}.", crate::french::noun(what))
            }
            Self::AlreadyExists { what, id, .. } => {
                format!("Existe déjà : {} {id}.", crate::french::noun(what))
            }
            Self::RequestIdReused { request_id } => format!(
                "L'identifiant de demande {request_id} a déjà servi pour une autre opération : \
                 recommencez l'opération depuis le début."
            ),
            Self::FailedPrecondition { message, .. } => {
                // A rule about one field starts with it: `field: what`.
                let what = message
                    .split_once(": ")
                    .map_or(message.as_str(), |(_, what)| what);
                crate::french::phrase(what)
                    .unwrap_or_else(|| format!("Refusé par une règle du service : {message}."))
            }
            Self::Aborted { expected, actual } => format!(
                "Quelqu'un a modifié cet élément entre-temps (version attendue : {}, \
                 actuelle : {actual}) : rechargez la page, vérifiez, puis recommencez.",
                french_expected(expected)
            ),
            Self::Unauthenticated { .. } => {
                "Vous n'êtes pas identifié : reconnectez-vous avec un jeton valable.".into()
            }
            Self::PermissionDenied { needed, .. } => format!(
                "Votre rôle ne permet pas cette opération : il faut être {}.",
                french_roles(needed)
            ),
            Self::ResourceExhausted { .. } => {
                "Le service est occupé à sa limite : réessayez dans un moment.".into()
            }
            Self::Unavailable { .. } => {
                "Le service est momentanément indisponible : réessayez dans un moment.".into()
            }
            Self::Internal { .. } => {
                "Erreur interne du service : réessayez, ou prévenez l'administrateur.".into()
            }
        }
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::NotFound { .. } => Code::NotFound,
            Self::AlreadyExists { .. } | Self::RequestIdReused { .. } => Code::AlreadyExists,
            Self::FailedPrecondition { .. } => Code::FailedPrecondition,
            Self::Aborted { .. } => Code::Aborted,
            Self::Unauthenticated { .. } => Code::Unauthenticated,
            Self::PermissionDenied { .. } => Code::PermissionDenied,
            Self::ResourceExhausted { .. } => Code::ResourceExhausted,
            Self::Unavailable { .. } => Code::Unavailable,
            Self::Internal { .. } => Code::Internal,
        }
    }
}

/// The locale of the `LocalizedMessage` every refusal carries.
pub const FRENCH_LOCALE: &str = "fr-FR";

/// An expected version (`version 3`, `no stream`...) in French.
fn french_expected(expected: &str) -> String {
    match expected {
        "no stream" => "aucune (l'élément ne devait pas encore exister)".into(),
        "stream exists" => "une version existante".into(),
        "any" => "n'importe laquelle".into(),
        other => other.into(),
    }
}

/// Role names (`facilitator`, `auditor`...) in French, joined with « ou ».
fn french_roles(needed: &[String]) -> String {
    let names: Vec<String> = needed
        .iter()
        .map(|name| match name.parse::<crate::Role>() {
            Ok(role) => format!("« {} »", role.french()),
            Err(_) => name.clone(),
        })
        .collect();
    match names.split_last() {
        None => "administrateur".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} ou {last}", rest.join(", ")),
    }
}

/// Longest status message sent, in bytes. A message may quote a value of
/// the request (an unknown role, a token prefix, an id not found): it
/// travels in the reply's HTTP/2 headers (percent-encoded, and again in the
/// details), and a header block over the client's limit makes its HTTP/2
/// library drop the whole connection (COMPRESSION_ERROR or PROTOCOL_ERROR),
/// every call on it with the one refused. Found by fuzzing the server.
pub const MAX_STATUS_MESSAGE: usize = 512;

/// `text`, cut at [`MAX_STATUS_MESSAGE`] bytes (on a character boundary) and
/// saying so.
fn bounded(text: String) -> String {
    if text.len() <= MAX_STATUS_MESSAGE {
        return text;
    }
    let mut end = MAX_STATUS_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        if let ServiceError::Internal { detail } = &error {
            // The detail may name storage paths or internal state: log it, don't send it.
            tracing::error!(detail = %detail, "internal error");
            return Status::internal("internal error");
        }
        let mut details = ErrorDetails::new();
        if let ServiceError::InvalidArgument { field, message, .. } = &error {
            details.add_bad_request_violation(bounded(field.clone()), bounded(message.clone()));
        }
        details.set_localized_message(FRENCH_LOCALE, bounded(error.french()));
        Status::with_error_details(error.code(), bounded(error.to_string()), details)
    }
}

/// A status with `code`, the English `message` and its `french` wording as
/// a `LocalizedMessage`, for a status built outside [`ServiceError`] (the
/// server's rewriting of tonic's decode errors).
pub(crate) fn french_status(
    code: Code,
    message: impl Into<String>,
    french: impl Into<String>,
) -> Status {
    Status::with_error_details(
        code,
        bounded(message.into()),
        ErrorDetails::with_localized_message(FRENCH_LOCALE, bounded(french.into())),
    )
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::WrongExpectedVersion {
                expected, actual, ..
            } => ServiceError::Aborted {
                expected: expected.to_string(),
                actual,
            },
            StoreError::InvalidStreamId { reason, .. } => {
                ServiceError::invalid_argument("stream_id", format!("invalid stream id: {reason}"))
                    .with_french(format!("Identifiant de flux invalide ({reason})."))
            }
            StoreError::EventTooLarge { size, limit, .. } => ServiceError::invalid_argument(
                "events",
                format!("an event is {size} bytes, over the limit of {limit} bytes"),
            )
            .with_french(format!(
                "Un événement fait {size} octets, au-delà de la limite de {limit} octets : \
                 raccourcissez les textes."
            )),
            StoreError::Closed => ServiceError::unavailable(
                "the service is shutting down",
                "Le service est en cours d'arrêt : réessayez dans un moment.",
            ),
            other => ServiceError::internal(other.to_string()),
        }
    }
}

/// Turns a `Result` whose error converts into [`ServiceError`] (a
/// [`StoreError`], for one) into a `Result<_, Status>`, so handlers can write
/// `store.read_all(from, limit).or_status()?` (`?` alone converts only once).
pub trait OrStatus<T> {
    /// The result with its error mapped to a gRPC status.
    fn or_status(self) -> Result<T, Status>;
}

impl<T, E: Into<ServiceError>> OrStatus<T> for Result<T, E> {
    fn or_status(self) -> Result<T, Status> {
        self.map_err(|error| Status::from(error.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_eventstore::ExpectedVersion;

    fn status(error: ServiceError) -> Status {
        error.into()
    }

    fn store_status(error: StoreError) -> Status {
        Err::<(), _>(error).or_status().unwrap_err()
    }

    #[test]
    fn invalid_argument_names_the_field_and_carries_a_bad_request() {
        let status = status(ServiceError::invalid_argument(
            "commune_code",
            "unknown commune 99999",
        ));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "commune_code: unknown commune 99999");
        let bad_request = status
            .get_details_bad_request()
            .expect("BadRequest details");
        assert_eq!(bad_request.field_violations.len(), 1);
        assert_eq!(bad_request.field_violations[0].field, "commune_code");
        assert_eq!(
            bad_request.field_violations[0].description,
            "unknown commune 99999"
        );
    }

    #[test]
    fn each_error_maps_to_its_code() {
        let cases = [
            (ServiceError::not_found("stakeholder", "x"), Code::NotFound),
            (
                ServiceError::already_exists("stakeholder", "x"),
                Code::AlreadyExists,
            ),
            (
                ServiceError::failed_precondition("action is cancelled"),
                Code::FailedPrecondition,
            ),
            (
                ServiceError::Aborted {
                    expected: "version 3".into(),
                    actual: 5,
                },
                Code::Aborted,
            ),
            (
                ServiceError::unauthenticated("missing token", "Jeton manquant."),
                Code::Unauthenticated,
            ),
            (
                ServiceError::permission_denied(&[crate::Role::Tool]),
                Code::PermissionDenied,
            ),
            (
                ServiceError::resource_exhausted("2 replays running", "2 relectures en cours."),
                Code::ResourceExhausted,
            ),
            (
                ServiceError::unavailable("down", "Arrêté."),
                Code::Unavailable,
            ),
            (ServiceError::internal("disk on fire"), Code::Internal),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(status(error).code(), code);
        }
    }

    /// The French wording of a refusal, as the console and the CLI read it.
    fn french(status: &Status) -> String {
        let localized = status
            .get_details_localized_message()
            .expect("a LocalizedMessage");
        assert_eq!(localized.locale, "fr-FR");
        localized.message
    }

    /// Issue 13: a refusal carries its French wording beside the English
    /// message, which stays as it was (callers may match it).
    #[test]
    fn a_refusal_carries_its_french_beside_the_unchanged_english() {
        let invalid = status(
            ServiceError::invalid_argument("ends_at", "must be after starts_at")
                .with_french("La fin doit être après le début."),
        );
        assert_eq!(invalid.message(), "ends_at: must be after starts_at");
        assert_eq!(french(&invalid), "La fin doit être après le début.");
        let violation = &invalid.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(
            (violation.field.as_str(), violation.description.as_str()),
            ("ends_at", "must be after starts_at")
        );

        let refused = status(
            ServiceError::failed_precondition("action is cancelled")
                .with_french("Cette action est annulée."),
        );
        assert_eq!(refused.message(), "action is cancelled");
        assert_eq!(french(&refused), "Cette action est annulée.");
        assert!(refused.get_details_bad_request().is_none());

        let conflict = status(ServiceError::Aborted {
            expected: "version 3".into(),
            actual: 5,
        });
        assert_eq!(conflict.message(), "expected version 3, actual 5");
        assert_eq!(
            french(&conflict),
            "Quelqu'un a modifié cet élément entre-temps (version attendue : version 3, \
             actuelle : 5) : rechargez la page, vérifiez, puis recommencez."
        );
        let denied = status(ServiceError::permission_denied(&[
            crate::Role::Facilitator,
            crate::Role::Auditor,
        ]));
        assert_eq!(
            denied.message(),
            "permission denied: needs one of the roles facilitator, auditor"
        );
        assert_eq!(
            french(&denied),
            "Votre rôle ne permet pas cette opération : il faut être « animateur » ou « auditeur »."
        );
        let missing = status(ServiceError::not_found("stakeholder", "abc"));
        assert_eq!(missing.message(), "stakeholder abc not found");
        assert_eq!(french(&missing), "Introuvable : acteur abc.");
        let reused = status(ServiceError::RequestIdReused {
            request_id: "r1".into(),
        });
        assert!(french(&reused).contains("r1"), "{reused:?}");
        let checked = status(crate::validate::id("subject_id", "").unwrap_err());
        assert_eq!(checked.message(), "subject_id: is required");
        assert_eq!(french(&checked), "Ce champ est obligatoire.");
        let internal = status(ServiceError::internal("sled: /var/lib/secret path"));
        assert!(internal.get_details_localized_message().is_none());
    }

    #[test]
    fn messages_say_what_the_caller_needs() {
        assert_eq!(
            status(ServiceError::not_found("stakeholder", "abc")).message(),
            "stakeholder abc not found"
        );
        assert_eq!(
            status(ServiceError::Aborted {
                expected: "version 3".into(),
                actual: 5
            })
            .message(),
            "expected version 3, actual 5"
        );
        let denied = status(ServiceError::permission_denied(&[
            crate::Role::Tool,
            crate::Role::Auditor,
        ]));
        assert!(denied.message().contains("tool, auditor"), "{denied:?}");
        let internal = status(ServiceError::internal("sled: /var/lib/secret path"));
        assert_eq!(internal.message(), "internal error");
    }

    /// Regression: a role or a token prefix of 8,000 characters came back
    /// whole in the status, and the client's HTTP/2 library dropped the
    /// connection over the header's size.
    #[test]
    fn a_message_quoting_a_long_value_is_cut() {
        let long = "é".repeat(8_000);
        let invalid = status(ServiceError::invalid_argument(
            "roles",
            format!("unknown role {long:?}"),
        ));
        assert!(invalid.message().len() < MAX_STATUS_MESSAGE + 40);
        assert!(
            invalid.message().ends_with("… (16022 bytes in all)"),
            "{}",
            invalid.message()
        );
        let violation = &invalid.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "roles");
        assert!(violation.description.len() < MAX_STATUS_MESSAGE + 40);
        let missing = status(ServiceError::not_found("token", long));
        assert!(missing.message().starts_with("token éé"));
        assert!(missing.message().len() < MAX_STATUS_MESSAGE + 40);
        let short = status(ServiceError::not_found("token", "abc"));
        assert_eq!(short.message(), "token abc not found");
    }

    #[test]
    fn store_errors_map_to_service_errors() {
        let conflict = StoreError::WrongExpectedVersion {
            stream_id: "stakeholder-1".into(),
            expected: ExpectedVersion::Exact(3),
            actual: 5,
        };
        let status = store_status(conflict);
        assert_eq!(status.code(), Code::Aborted);
        assert_eq!(status.message(), "expected version 3, actual 5");

        let invalid = maillage_eventstore::StreamId::parse("nodash").unwrap_err();
        let status = store_status(invalid);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("stream_id: "), "{status:?}");

        let too_large = StoreError::EventTooLarge {
            index: 0,
            size: 2,
            limit: 1,
        };
        assert_eq!(store_status(too_large).code(), Code::InvalidArgument);
        assert_eq!(store_status(StoreError::Closed).code(), Code::Unavailable);
        let storage = store_status(StoreError::Storage("io".into()));
        assert_eq!(storage.code(), Code::Internal);
        assert_eq!(storage.message(), "internal error");
    }
}
