//! gRPC clients of every Maillage service, the test principals' tokens, and
//! the requests that carry a bearer token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_service_kit::testing::Tokens;
use maillage_service_kit::Role;
use tonic::transport::{Channel, Endpoint};
use tonic::Request;

/// The secrets every server of a test shares: a tokens file, a master key,
/// and a file holding the tool token the projections read the logs with.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// The bearer token of each test principal (the test kit's, one per role).
    pub tokens: Tokens,
    /// The tokens file the servers check bearer tokens against.
    pub tokens_file: PathBuf,
    /// The master key file of the servers' key vaults.
    pub master_key_file: PathBuf,
    /// A file holding the tool token the projections read the event logs with.
    pub source_token_file: PathBuf,
}

impl Secrets {
    /// Writes the tokens file, the master key and the source token file in `dir`.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let tokens_file = dir.join("tokens");
        let tokens = Tokens::create(&tokens_file)
            .with_context(|| format!("cannot write the tokens file {}", tokens_file.display()))?;
        let master_key_file = dir.join("master.key");
        maillage_privacy::MasterKey::generate_file(&master_key_file)?;
        let source_token_file = dir.join("source.token");
        std::fs::write(&source_token_file, tokens.of(Role::Tool))?;
        Ok(Self {
            tokens,
            tokens_file,
            master_key_file,
            source_token_file,
        })
    }
}

/// Where each service is served (the same URL for all in one process).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// URL of the stakeholders service.
    pub stakeholders: String,
    /// URL of the engagement service.
    pub engagement: String,
    /// URL of the governance service.
    pub governance: String,
    /// URL of the projections service.
    pub projections: String,
}

impl Endpoints {
    /// Every service on one URL (the all-in-one platform).
    pub fn all_at(url: &str) -> Self {
        Self {
            stakeholders: url.to_owned(),
            engagement: url.to_owned(),
            governance: url.to_owned(),
            projections: url.to_owned(),
        }
    }
}

/// Connected clients of every service, with the principals' tokens.
#[derive(Clone)]
pub struct Clients {
    /// Client of the stakeholders service.
    pub stakeholders: StakeholdersClient<Channel>,
    /// Client of the engagement service.
    pub engagement: EngagementClient<Channel>,
    /// Client of the governance service.
    pub governance: GovernanceClient<Channel>,
    /// Client of the projections service.
    pub projections: ProjectionsClient<Channel>,
    /// The bearer token of each test principal (the test kit's, one per role).
    pub tokens: Tokens,
}

/// How long a connection may take to establish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

async fn channel(url: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(url.to_owned())?
        .connect_timeout(CONNECT_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("cannot connect to {url}"))
}

impl Clients {
    /// Connects to every endpoint.
    pub async fn connect(endpoints: &Endpoints, tokens: &Tokens) -> anyhow::Result<Self> {
        Ok(Self {
            stakeholders: StakeholdersClient::new(channel(&endpoints.stakeholders).await?),
            engagement: EngagementClient::new(channel(&endpoints.engagement).await?),
            governance: GovernanceClient::new(channel(&endpoints.governance).await?),
            projections: ProjectionsClient::new(channel(&endpoints.projections).await?),
            tokens: tokens.clone(),
        })
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn bearer<T>(token: &str, message: T) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .context("a token that cannot be a header value")?,
    );
    Ok(request)
}
