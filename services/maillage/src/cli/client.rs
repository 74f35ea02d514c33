//! How the CLI reaches a running platform: endpoint, bearer token, clear errors.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

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
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A channel with the token attached, for any generated client.
pub type Authed = InterceptedService<Channel, Bearer>;

impl Connection {
    /// Connects, or says why not in words a user can act on.
    pub async fn connect(&self) -> anyhow::Result<Authed> {
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
        Ok(InterceptedService::new(channel, Bearer(bearer)))
    }
}

/// A refused call, explained.
pub fn explain(status: Status) -> anyhow::Error {
    match status.code() {
        Code::Unauthenticated => anyhow!("the token was refused: check --token or MAILLAGE_TOKEN"),
        Code::PermissionDenied => anyhow!("this token may not do that: {}", status.message()),
        Code::Unavailable => anyhow!("the platform is unavailable: {}", status.message()),
        _ => anyhow!("{}", status.message()),
    }
}
