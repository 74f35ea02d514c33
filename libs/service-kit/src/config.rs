//! The settings every Maillage server shares, as clap arguments that each
//! binary flattens into its own command line; every flag can also come from
//! the environment (`MAILLAGE_*`).
//!
//! ```no_run
//! use clap::Parser;
//! use maillage_service_kit::ServiceConfig;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     service: ServiceConfig,
//! }
//!
//! let cli = Cli::parse();
//! let tokens = cli.service.token_store()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maillage_privacy::MasterKey;

use crate::auth::{AuthError, TokenStore};
use crate::telemetry::LogFormat;
use maillage_bus::NatsConfig;

/// The environment variable that may hold the master key itself (hex or base64).
pub const MASTER_KEY_ENV: &str = "MAILLAGE_MASTER_KEY";

/// Settings shared by every server binary.
#[derive(Debug, Clone, clap::Args)]
pub struct ServiceConfig {
    /// Address to serve gRPC on.
    #[arg(long, env = "MAILLAGE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Directory of the service's databases (event log, key vault, checkpoints).
    #[arg(long, env = "MAILLAGE_DATA_DIR", default_value = "maillage-data")]
    pub data_dir: PathBuf,

    /// The tokens file (default: `<data-dir>/tokens`).
    #[arg(long, env = "MAILLAGE_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// File holding the master key (hex or base64). Without it the key is read
    /// from the environment variable MAILLAGE_MASTER_KEY.
    #[arg(long, env = "MAILLAGE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Log format.
    #[arg(long, env = "MAILLAGE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// NATS: the servers (`--nats`), credentials and TLS (see [`NatsConfig`]).
    #[command(flatten)]
    pub nats: NatsConfig,

    /// PEM certificate chain for TLS (with --tls-key); plain HTTP/2 without it.
    #[arg(long, env = "MAILLAGE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, env = "MAILLAGE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Seconds a handler may take to answer before the call ends with
    /// DEADLINE_EXCEEDED (the items of a stream, once it is open, are not
    /// counted).
    #[arg(long, env = "MAILLAGE_REQUEST_TIMEOUT", default_value_t = crate::server::DEFAULT_REQUEST_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,

    /// Requests of one client connection in handlers at once; more wait
    /// their turn.
    #[arg(long, env = "MAILLAGE_MAX_REQUESTS_PER_CONNECTION", default_value_t = crate::server::DEFAULT_REQUESTS_PER_CONNECTION,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_requests_per_connection: u32,

    /// Projections: `as_of` replays and rebuilds running at once; more are
    /// refused with RESOURCE_EXHAUSTED (each holds a whole read model in memory).
    #[arg(long, env = "MAILLAGE_MAX_REPLAYS", default_value_t = DEFAULT_MAX_REPLAYS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_replays: u32,

    /// Whether each flush of a log ends with an `fdatasync` of its data
    /// file, so that an acknowledged append survives a power cut (`false`
    /// only on storage whose write cache survives one: docs/operations.md,
    /// "What durable rests on").
    #[arg(long, env = "MAILLAGE_SYNC_DATA", default_value_t = true, action = clap::ArgAction::Set)]
    pub sync_data: bool,
}

/// `as_of` replays and rebuilds a projections service runs at once by default.
pub const DEFAULT_MAX_REPLAYS: u32 = 2;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The tokens file is missing or malformed.
    #[error(transparent)]
    Tokens(#[from] AuthError),
    /// The master key could not be loaded.
    #[error("master key: {0}")]
    MasterKey(#[from] maillage_privacy::PrivacyError),
    /// Neither a master key file nor MAILLAGE_MASTER_KEY is set.
    #[error(
        "no master key: set --master-key-file (MAILLAGE_MASTER_KEY_FILE) or MAILLAGE_MASTER_KEY"
    )]
    NoMasterKey,
    /// The NATS credentials or TLS files cannot be used.
    #[error(transparent)]
    Nats(#[from] maillage_bus::NatsConfigError),
    /// A TLS file could not be read.
    #[error("TLS file {path}: {source}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ServiceConfig {
    /// Settings for tests and embedding: listen on 127.0.0.1:0, data in `data_dir`.
    pub fn for_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            tokens_file: None,
            master_key_file: None,
            log_format: LogFormat::Human,
            nats: NatsConfig::default(),
            tls_cert: None,
            tls_key: None,
            request_timeout: crate::server::DEFAULT_REQUEST_TIMEOUT.as_secs(),
            max_requests_per_connection: crate::server::DEFAULT_REQUESTS_PER_CONNECTION,
            max_replays: DEFAULT_MAX_REPLAYS,
            sync_data: true,
        }
    }

    /// How a service's log database is opened (`--sync-data`).
    pub fn sled_options(&self) -> maillage_eventstore::SledOptions {
        maillage_eventstore::SledOptions {
            sync_data: self.sync_data,
            ..maillage_eventstore::SledOptions::default()
        }
    }

    /// The tokens file: `--tokens-file`, else `<data-dir>/tokens`.
    pub fn tokens_path(&self) -> PathBuf {
        self.tokens_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("tokens"))
    }

    /// Loads the tokens file into a live [`TokenStore`].
    pub fn token_store(&self) -> Result<Arc<TokenStore>, ConfigError> {
        Ok(TokenStore::open(self.tokens_path())?)
    }

    /// The directory for one service's databases: `<data-dir>/<name>`.
    pub fn service_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// Loads the master key from `--master-key-file`, else from
    /// MAILLAGE_MASTER_KEY. A key file readable by others is reported with a
    /// warning in the log.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        if let Some(path) = &self.master_key_file {
            let loaded = MasterKey::from_file(path)?;
            if let Some(warning) = &loaded.permission_warning {
                tracing::warn!("{warning}");
            }
            return Ok(loaded.key);
        }
        match std::env::var_os(MASTER_KEY_ENV) {
            Some(_) => Ok(MasterKey::from_env(MASTER_KEY_ENV)?),
            None => Err(ConfigError::NoMasterKey),
        }
    }

    /// The TLS identity (certificate chain and key, PEM) when both are set.
    pub fn tls_identity(&self) -> Result<Option<tonic::transport::Identity>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(tonic::transport::Identity::from_pem(
                read(cert)?,
                read(key)?,
            ))),
            _ => Ok(None),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Tls {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        service: ServiceConfig,
    }

    #[test]
    fn flags_parse_and_default() {
        let cli = Cli::try_parse_from([
            "svc",
            "--listen",
            "127.0.0.1:7000",
            "--data-dir",
            "/tmp/m",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(cli.service.listen.port(), 7000);
        assert_eq!(cli.service.tokens_path(), PathBuf::from("/tmp/m/tokens"));
        assert_eq!(cli.service.log_format, LogFormat::Json);
        assert_eq!(cli.service.request_timeout, 60);
        assert_eq!(cli.service.max_requests_per_connection, 32);
        assert_eq!(cli.service.max_replays, 2);
        assert!(Cli::try_parse_from(["svc", "--max-replays", "0"]).is_err());
        assert!(Cli::try_parse_from(["svc", "--tls-cert", "c.pem"]).is_err());
        assert!(Cli::try_parse_from(["svc", "--log-format", "xml"]).is_err());
    }

    #[test]
    fn master_key_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::generate_file(&path).unwrap();
        let mut config = ServiceConfig::for_dir(dir.path());
        config.master_key_file = Some(path);
        assert_eq!(
            config.master_key().unwrap().fingerprint(),
            key.fingerprint()
        );
    }
}
