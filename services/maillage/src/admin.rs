//! The `Admin` gRPC service of the all-in-one binary: bearer tokens, for the
//! `admin` role, and `WhoAmI` (who a token stands for) for any caller.

use std::path::PathBuf;

use maillage_proto::v1::admin_server::{Admin, AdminServer};
use maillage_proto::v1::{
    AddTokenRequest, AddTokenResponse, ListTokensRequest, ListTokensResponse, RevokeTokenRequest,
    RevokeTokenResponse, TokenInfo, WhoAmIRequest, WhoAmIResponse,
};
use maillage_service_kit::auth::{AuthError, TokenEntry};
use maillage_service_kit::{require, Role, ServiceError, TokenFile};
use tonic::{Request, Response, Status};

/// Hex digits of a token hash shown to name it.
const HASH_PREFIX_LEN: usize = 12;

/// Token administration over the tokens file the server authenticates with.
pub struct AdminService {
    tokens_file: PathBuf,
}

impl AdminService {
    /// The service editing `tokens_file` (the running server reloads it on change).
    pub fn new(tokens_file: PathBuf) -> Self {
        Self { tokens_file }
    }

    /// The tonic server to mount.
    pub fn into_server(self) -> AdminServer<Self> {
        AdminServer::new(self)
    }
}

fn info(entry: &TokenEntry) -> TokenInfo {
    TokenInfo {
        hash_prefix: entry.hash.chars().take(HASH_PREFIX_LEN).collect(),
        principal: entry.principal.clone(),
        roles: entry.roles.iter().map(|role| role.to_string()).collect(),
        created_at: entry.created.map(prost_types::Timestamp::from),
        expires_at: entry.expires.map(prost_types::Timestamp::from),
        token_prefix: entry.prefix.clone().unwrap_or_default(),
        revoked_at: entry.revoked.map(prost_types::Timestamp::from),
    }
}

/// A tokens-file error as the caller should see it, with its French wording.
fn refusal(error: AuthError, field: &str) -> Status {
    let french = match &error {
        AuthError::UnknownRole(role) => format!(
            "Rôle inconnu « {role} » : les rôles sont admin, facilitator, secretary, analyst, \
             auditor, tool et respondent."
        ),
        AuthError::NoRole => "Un jeton doit porter au moins un rôle.".to_owned(),
        AuthError::InvalidPrincipal(_) => "Nom invalide : de 1 à 128 caractères parmi \
                                           A-Z a-z 0-9 . _ @ -."
            .to_owned(),
        AuthError::PrefixTooShort => format!(
            "Donnez au moins {} chiffres hexadécimaux de l'empreinte du jeton.",
            maillage_service_kit::auth::MIN_REVOKE_PREFIX
        ),
        AuthError::ExpiryPassed(at) => format!(
            "L'expiration {} (UTC) n'est pas dans le futur.",
            maillage_service_kit::utc::format(*at)
        ),
        AuthError::NoMatch(what) => format!("Aucun jeton ne correspond à « {what} »."),
        // Internal: the caller reads only the kit's wording.
        AuthError::Io { .. } | AuthError::Malformed { .. } => String::new(),
    };
    match error {
        AuthError::UnknownRole(_) => ServiceError::invalid_argument("roles", error.to_string()),
        AuthError::NoRole => ServiceError::invalid_argument("roles", error.to_string()),
        AuthError::InvalidPrincipal(_) | AuthError::PrefixTooShort => {
            ServiceError::invalid_argument(field, error.to_string())
        }
        AuthError::ExpiryPassed(_) => {
            ServiceError::invalid_argument("expires_at", error.to_string())
        }
        AuthError::NoMatch(what) => ServiceError::not_found("token", what),
        AuthError::Io { .. } | AuthError::Malformed { .. } => {
            ServiceError::internal(error.to_string())
        }
    }
    .with_french(french)
    .into()
}

#[tonic::async_trait]
impl Admin for AdminService {
    #[tracing::instrument(skip_all)]
    async fn add_token(
        &self,
        request: Request<AddTokenRequest>,
    ) -> Result<Response<AddTokenResponse>, Status> {
        require(&request, &[Role::Admin])?;
        let request = request.into_inner();
        let roles = request
            .roles
            .iter()
            .map(|role| role.parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| refusal(error, "roles"))?;
        let expires = match request.expires_at {
            None => None,
            Some(at) => Some(std::time::SystemTime::try_from(at).map_err(|_| {
                ServiceError::invalid_argument("expires_at", "not a valid instant")
                    .with_french("Cette date d'expiration n'est pas valable.")
            })?),
        };
        let token = TokenFile::add_expiring(&self.tokens_file, &request.principal, &roles, expires)
            .map_err(|error| refusal(error, "principal"))?;
        let entry = TokenFile::load(&self.tokens_file)
            .map_err(|error| refusal(error, "principal"))?
            .list()
            .into_iter()
            .find(|entry| entry.hash == maillage_service_kit::auth::hash_token(&token))
            .ok_or_else(|| ServiceError::internal("the new token is not in the tokens file"))?;
        Ok(Response::new(AddTokenResponse {
            token,
            info: Some(info(&entry)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_tokens(
        &self,
        request: Request<ListTokensRequest>,
    ) -> Result<Response<ListTokensResponse>, Status> {
        require(&request, &[Role::Admin])?;
        let tokens = TokenFile::load(&self.tokens_file)
            .map_err(|error| refusal(error, "tokens_file"))?
            .list()
            .iter()
            .map(info)
            .collect();
        Ok(Response::new(ListTokensResponse { tokens }))
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_token(
        &self,
        request: Request<RevokeTokenRequest>,
    ) -> Result<Response<RevokeTokenResponse>, Status> {
        require(&request, &[Role::Admin])?;
        let wanted = request.into_inner().principal_or_hash_prefix;
        let revoked = TokenFile::revoke(&self.tokens_file, &wanted)
            .map_err(|error| refusal(error, "principal_or_hash_prefix"))?;
        Ok(Response::new(RevokeTokenResponse {
            revoked: revoked.iter().map(info).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let principal = maillage_service_kit::principal(&request)?;
        Ok(Response::new(WhoAmIResponse {
            principal: principal.name,
            roles: principal
                .roles
                .iter()
                .map(|role| role.to_string())
                .collect(),
        }))
    }
}
