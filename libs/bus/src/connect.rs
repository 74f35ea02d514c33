//! Connecting to NATS with a process's [`NatsConfig`]: its servers, its
//! credentials (user and password, token, nkey seed or `.creds` file) and
//! TLS (a CA file, a client certificate). Every part of the bus connects
//! through [`connect`], so a relay, a JetStream feed and a replica's follower
//! prove who they are the same way. Errors name the servers and say what to
//! check; they never carry a secret.

use std::time::Duration;

use crate::nats_config::{NatsAuth, NatsConfig, NatsConfigError};

/// Why a connection to NATS could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No servers were given.
    #[error("no NATS servers given (--nats / MAILLAGE_NATS_URL)")]
    NoServers,
    /// A server URL does not parse.
    #[error("NATS server URL {url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The credentials or TLS files cannot be used.
    #[error(transparent)]
    Config(#[from] NatsConfigError),
    /// The servers refused the credentials (or asked for some).
    #[error(
        "NATS at {servers} refused the connection ({source}): check the credentials \
         (--nats-user with MAILLAGE_NATS_PASSWORD or --nats-password-file, --nats-creds, \
         a token or an nkey) and the user's permissions"
    )]
    Refused {
        /// The servers.
        servers: String,
        /// The client's error.
        source: async_nats::ConnectError,
    },
    /// TLS failed (a certificate the CA does not vouch for, a server without TLS…).
    #[error(
        "TLS with NATS at {servers} failed ({source}): check --nats-ca and the client certificate"
    )]
    Tls {
        /// The servers.
        servers: String,
        /// The client's error.
        source: async_nats::ConnectError,
    },
    /// Any other failure (no server answering, a time-out).
    #[error("cannot connect to NATS at {servers}: {source}")]
    Unreachable {
        /// The servers.
        servers: String,
        /// The client's error.
        source: async_nats::ConnectError,
    },
}

/// Connects to the servers of `config` as it says, with the options every
/// part of the bus uses: the client name `name`, and reconnection forever
/// (with the same credentials, read again from their files at each new
/// connection made by a caller).
pub async fn connect(config: &NatsConfig, name: &str) -> Result<async_nats::Client, ConnectError> {
    let servers = config.servers().ok_or(ConnectError::NoServers)?;
    let addresses = server_addresses(servers)?;
    let mut options = match config.auth()? {
        NatsAuth::None => async_nats::ConnectOptions::new(),
        NatsAuth::UserPassword { user, password } => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
        }
        NatsAuth::Token(token) => async_nats::ConnectOptions::with_token(token),
        NatsAuth::Nkey(seed) => async_nats::ConnectOptions::with_nkey(seed),
        NatsAuth::CredsFile(path) => async_nats::ConnectOptions::with_credentials_file(&path)
            .await
            .map_err(|source| NatsConfigError::File {
                what: "credentials",
                path,
                source,
            })?,
    };
    if let Some(ca) = &config.ca {
        options = options.add_root_certificates(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&config.tls_client_cert, &config.tls_client_key) {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    if config.requires_tls() {
        options = options.require_tls(true);
    }
    options
        .name(name)
        .connection_timeout(Duration::from_secs(2))
        .connect(addresses)
        .await
        .map_err(|source| {
            let servers = servers.to_owned();
            match source.kind() {
                async_nats::ConnectErrorKind::Authentication
                | async_nats::ConnectErrorKind::AuthorizationViolation => {
                    ConnectError::Refused { servers, source }
                }
                async_nats::ConnectErrorKind::Tls => ConnectError::Tls { servers, source },
                // A certificate rustls refuses comes back as invalid data read.
                async_nats::ConnectErrorKind::Io if is_invalid_data(&source) => {
                    ConnectError::Tls { servers, source }
                }
                _ => ConnectError::Unreachable { servers, source },
            }
        })
}

/// Whether the I/O error under `error` is invalid data (a TLS refusal).
fn is_invalid_data(error: &async_nats::ConnectError) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
}

/// The addresses of a comma-separated list of NATS URLs (`nats://a:4222,nats://b:4222`).
fn server_addresses(servers: &str) -> Result<Vec<async_nats::ServerAddr>, ConnectError> {
    let addresses = servers
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            url.parse::<async_nats::ServerAddr>()
                .map_err(|error| ConnectError::BadUrl {
                    url: url.to_owned(),
                    reason: error.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if addresses.is_empty() {
        return Err(ConnectError::NoServers);
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_comma_separated_list_gives_every_server() {
        let addresses =
            super::server_addresses("nats://127.0.0.1:14222, nats://127.0.0.1:14223,").unwrap();
        let ports: Vec<u16> = addresses.iter().map(|address| address.port()).collect();
        assert_eq!(ports, [14222, 14223]);
        assert!(super::server_addresses("nats://bad host:x").is_err());
        assert!(super::server_addresses(" , ").is_err());
    }
}
