//! How the CLI reaches a running platform: endpoint, bearer token, clear errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

use crate::bootstrap::admin_token_path;

/// Where the platform is and who the CLI speaks as.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The platform's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "MAILLAGE_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub endpoint: String,

    /// Bearer token (default: the admin token that `maillage up` saved in the data directory).
    #[arg(long, global = true, env = "MAILLAGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Data directory of a local `maillage up`, where its admin token is.
    #[arg(
        long,
        global = true,
        env = "MAILLAGE_DATA_DIR",
        default_value = "maillage-data"
    )]
    pub data_dir: PathBuf,

    /// Why personal data is read (sent as `maillage-purpose`; recorded in the
    /// access journal with every read that returns personal data).
    #[arg(long, global = true, env = "MAILLAGE_PURPOSE")]
    pub purpose: Option<String>,
}

/// The highest log position of each context that a session's commands
/// reached: sent with every later call as `maillage-after`, so that a command
/// naming what an earlier one created in another service waits for that
/// service's replica to have seen it (read-your-writes across services).
#[derive(Clone, Default)]
pub struct SeenPositions(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl SeenPositions {
    /// Notes that a command of `context` reached `position`.
    pub fn note(&self, context: &'static str, position: u64) {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = seen.entry(context).or_default();
        *entry = (*entry).max(position);
    }

    /// The `maillage-after` header value (None before any command).
    fn header(&self) -> Option<String> {
        let seen = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pairs: Vec<String> = seen
            .iter()
            .filter(|(_, position)| **position > 0)
            .map(|(context, position)| format!("{context}={position}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join(","))
    }
}

/// Adds `authorization: Bearer <token>` and `maillage-after` (the positions
/// the session's commands reached) to every call.
#[derive(Clone)]
pub struct Bearer {
    token: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    purpose: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    seen: SeenPositions,
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.token.clone());
        if let Some(purpose) = &self.purpose {
            request.metadata_mut().insert(
                maillage_service_kit::access::PURPOSE_HEADER,
                purpose.clone(),
            );
        }
        if let Some(after) = self.seen.header().and_then(|value| value.parse().ok()) {
            request
                .metadata_mut()
                .insert(maillage_replica::AFTER_HEADER, after);
        }
        Ok(request)
    }
}

/// A channel with the token attached, for any generated client.
pub type Authed = InterceptedService<Channel, Bearer>;

impl Connection {
    /// Connects, or says why not in words a user can act on.
    pub async fn connect(&self) -> anyhow::Result<Authed> {
        Ok(self.connect_session().await?.0)
    }

    /// [`Connection::connect`], with the positions the session's commands
    /// reach: note each reply's position there (see [`SeenPositions`]).
    pub async fn connect_session(&self) -> anyhow::Result<(Authed, SeenPositions)> {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => {
                let path = admin_token_path(&self.data_dir);
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!(
                            "no token: pass --token (or MAILLAGE_TOKEN), or run from where `maillage up` keeps {}",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow!("the token holds characters a header cannot carry"))?;
        let channel = Channel::from_shared(self.endpoint.clone())
            .with_context(|| format!("{:?} is not a valid endpoint URL", self.endpoint))?
            .connect()
            .await
            .map_err(|_| {
                anyhow!(
                    "cannot reach Maillage at {}: is `maillage up` running there?",
                    self.endpoint
                )
            })?;
        // Any text but line breaks and control characters (UTF-8 travels as is).
        let purpose = match &self.purpose {
            None => None,
            Some(purpose) => {
                let clean = maillage_service_kit::access::sanitise_purpose(purpose.as_bytes());
                Some(
                    tonic::metadata::MetadataValue::try_from(clean.as_bytes())
                        .map_err(|_| anyhow!("--purpose cannot be sent as a header"))?,
                )
            }
        };
        let seen = SeenPositions::default();
        let bearer = Bearer {
            token: bearer,
            purpose,
            seen: seen.clone(),
        };
        Ok((InterceptedService::new(channel, bearer), seen))
    }
}

/// A refused call, explained in French: the service's own wording for a
/// person (its `google.rpc.LocalizedMessage`, `fr-FR`) with the gRPC code and
/// the field it names, else its English message.
pub fn explain(status: Status) -> anyhow::Error {
    let code = code_name(status.code());
    let field = status
        .get_details_bad_request()
        .and_then(|bad| bad.field_violations.into_iter().next())
        .map(|violation| format!(", champ {}", violation.field))
        .unwrap_or_default();
    let french = status
        .get_details_localized_message()
        .filter(|localized| localized.locale == "fr-FR" && !localized.message.is_empty())
        .map(|localized| localized.message);
    let text = match (status.code(), french) {
        (Code::Unauthenticated, Some(french)) => {
            format!("{french} (vérifiez --token ou MAILLAGE_TOKEN)")
        }
        (Code::Unauthenticated, None) => {
            "jeton refusé : vérifiez --token ou MAILLAGE_TOKEN".to_owned()
        }
        (_, Some(french)) => french,
        (Code::PermissionDenied, None) => {
            format!(
                "ce jeton ne permet pas cette opération : {}",
                status.message()
            )
        }
        (Code::Unavailable, None) => {
            format!("la plateforme est indisponible : {}", status.message())
        }
        (Code::DeadlineExceeded, None) => format!(
            "pas de réponse dans le délai du serveur ({}). Un rapport --as-of sur un long \
             historique peut demander plusieurs minutes : relancez le serveur avec un \
             --request-timeout plus long (en secondes), ou demandez une date plus récente.",
            status.message()
        ),
        (_, None) => status.message().to_owned(),
    };
    anyhow!("refusé ({code}{field}) : {text}")
}

/// A gRPC code's canonical name (`FAILED_PRECONDITION`...).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_cut_by_the_servers_timeout_says_in_french_what_to_do() {
        let status =
            Status::deadline_exceeded("no answer within the server's request timeout (60s)");
        let text = explain(status).to_string();
        assert!(
            text.starts_with(
                "refusé (DEADLINE_EXCEEDED) : pas de réponse dans le délai du serveur"
            ),
            "{text}"
        );
        assert!(text.contains("--request-timeout"), "{text}");
    }
}
