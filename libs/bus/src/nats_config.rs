//! How a Maillage process reaches NATS: the servers, how it proves who it is
//! (a user and password, a token, an nkey seed, or a `.creds` file), and how
//! it checks the servers (TLS with a CA file, and a client certificate when
//! the servers ask for one). Every relay, JetStream feed and replica
//! follower connects with it (`maillage_bus::connect`).
//!
//! Flags and `MAILLAGE_NATS_*` environment variables, like every setting.
//! Secrets never come from a flag, which `ps` would show: the password, the
//! token and the nkey seed come from a file (`--nats-password-file`, …) or
//! from the environment (`MAILLAGE_NATS_PASSWORD`, `MAILLAGE_NATS_TOKEN`,
//! `MAILLAGE_NATS_NKEY`). They are read when a connection is made, and never
//! reach a log line: `Debug` shows only which kind of credential is set.

use std::path::{Path, PathBuf};

/// The environment variable that may hold the NATS password.
pub const NATS_PASSWORD_ENV: &str = "MAILLAGE_NATS_PASSWORD";
/// The environment variable that may hold the NATS token.
pub const NATS_TOKEN_ENV: &str = "MAILLAGE_NATS_TOKEN";
/// The environment variable that may hold the NATS nkey seed (`SU…`).
pub const NATS_NKEY_ENV: &str = "MAILLAGE_NATS_NKEY";

/// The NATS settings every process shares (flattened into
/// `ServiceConfig` of the service kit).
#[derive(Clone, Default, clap::Args)]
pub struct NatsConfig {
    /// NATS server(s), comma-separated URLs (`tls://` to require TLS). The
    /// command services' relays publish their log there (JetStream stream
    /// `MAILLAGE_EVENTS`), the projections and replicas consume from there;
    /// no relay and no JetStream feed without it.
    #[arg(long = "nats", env = "MAILLAGE_NATS_URL")]
    pub servers: Option<String>,

    /// A NATS `.creds` file (user JWT and nkey seed), as `nsc` makes them.
    #[arg(long = "nats-creds", env = "MAILLAGE_NATS_CREDS")]
    pub creds: Option<PathBuf>,

    /// NATS user name; its password comes from --nats-password-file or
    /// MAILLAGE_NATS_PASSWORD.
    #[arg(long = "nats-user", env = "MAILLAGE_NATS_USER")]
    pub user: Option<String>,

    /// File holding the NATS user's password (else MAILLAGE_NATS_PASSWORD).
    #[arg(long = "nats-password-file", env = "MAILLAGE_NATS_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,

    /// File holding a NATS token (else MAILLAGE_NATS_TOKEN).
    #[arg(long = "nats-token-file", env = "MAILLAGE_NATS_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// File holding an nkey seed (`SU…`; else MAILLAGE_NATS_NKEY).
    #[arg(long = "nats-nkey-file", env = "MAILLAGE_NATS_NKEY_FILE")]
    pub nkey_file: Option<PathBuf>,

    /// PEM file of the CA(s) that signed the NATS servers' certificates;
    /// TLS is then required.
    #[arg(long = "nats-ca", env = "MAILLAGE_NATS_CA")]
    pub ca: Option<PathBuf>,

    /// PEM client certificate, for NATS servers that verify clients (with
    /// --nats-tls-key); TLS is then required.
    #[arg(
        long = "nats-tls-cert",
        env = "MAILLAGE_NATS_TLS_CERT",
        requires = "tls_client_key"
    )]
    pub tls_client_cert: Option<PathBuf>,

    /// PEM private key of --nats-tls-cert.
    #[arg(
        long = "nats-tls-key",
        env = "MAILLAGE_NATS_TLS_KEY",
        requires = "tls_client_cert"
    )]
    pub tls_client_key: Option<PathBuf>,

    /// The password itself, for embedding and tests (a process reads it from
    /// a file or the environment instead).
    #[arg(skip)]
    pub password: Option<String>,
}

/// How a process proves who it is to NATS.
#[derive(Clone, PartialEq, Eq)]
pub enum NatsAuth {
    /// No credentials (a server without authorization).
    None,
    /// A user and its password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
    /// A token.
    Token(String),
    /// An nkey seed.
    Nkey(String),
    /// A `.creds` file.
    CredsFile(PathBuf),
}

impl std::fmt::Debug for NatsAuth {
    /// Names the kind of credential and the user, never a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NatsAuth::None => f.write_str("None"),
            NatsAuth::UserPassword { user, .. } => write!(f, "UserPassword({user:?}, <redacted>)"),
            NatsAuth::Token(_) => f.write_str("Token(<redacted>)"),
            NatsAuth::Nkey(_) => f.write_str("Nkey(<redacted>)"),
            NatsAuth::CredsFile(path) => write!(f, "CredsFile({})", path.display()),
        }
    }
}

/// Why the NATS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NatsConfigError {
    /// Two kinds of credentials were given.
    #[error("NATS credentials: give only one of --nats-creds, --nats-user, a token or an nkey (got {0})")]
    Conflict(String),
    /// A user without a password, or a password without a user.
    #[error("NATS credentials: {0}")]
    Incomplete(&'static str),
    /// A secret or TLS file cannot be read.
    #[error("NATS {what} file {path}: {source}")]
    File {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A secret file or variable is empty.
    #[error("NATS {0} is empty")]
    Empty(&'static str),
}

impl From<&str> for NatsConfig {
    /// Servers without credentials nor TLS.
    fn from(servers: &str) -> Self {
        Self {
            servers: Some(servers.to_owned()),
            ..Self::default()
        }
    }
}

impl From<String> for NatsConfig {
    /// Servers without credentials nor TLS.
    fn from(servers: String) -> Self {
        Self {
            servers: Some(servers),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for NatsConfig {
    /// Everything but the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConfig")
            .field("servers", &self.servers)
            .field("creds", &self.creds)
            .field("user", &self.user)
            .field("password_file", &self.password_file)
            .field("token_file", &self.token_file)
            .field("nkey_file", &self.nkey_file)
            .field("ca", &self.ca)
            .field("tls_client_cert", &self.tls_client_cert)
            .field("tls_client_key", &self.tls_client_key)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl NatsConfig {
    /// The servers (comma-separated URLs), if NATS is used at all.
    pub fn servers(&self) -> Option<&str> {
        self.servers.as_deref()
    }

    /// The credentials, read from their files or the environment now.
    pub fn auth(&self) -> Result<NatsAuth, NatsConfigError> {
        let password = || {
            secret(
                self.password.clone(),
                self.password_file.as_deref(),
                NATS_PASSWORD_ENV,
                "password",
            )
        };
        let token = secret(None, self.token_file.as_deref(), NATS_TOKEN_ENV, "token")?;
        let nkey = secret(None, self.nkey_file.as_deref(), NATS_NKEY_ENV, "nkey seed")?;
        let mut given = Vec::new();
        if self.creds.is_some() {
            given.push("a .creds file");
        }
        if self.user.is_some() {
            given.push("a user");
        }
        if token.is_some() {
            given.push("a token");
        }
        if nkey.is_some() {
            given.push("an nkey");
        }
        if given.len() > 1 {
            return Err(NatsConfigError::Conflict(given.join(", ")));
        }
        if let Some(path) = &self.creds {
            std::fs::metadata(path).map_err(|source| NatsConfigError::File {
                what: "credentials",
                path: path.clone(),
                source,
            })?;
            return Ok(NatsAuth::CredsFile(path.clone()));
        }
        if let Some(user) = &self.user {
            let password = password()?.ok_or(NatsConfigError::Incomplete(
                "--nats-user needs a password: --nats-password-file or MAILLAGE_NATS_PASSWORD",
            ))?;
            return Ok(NatsAuth::UserPassword {
                user: user.clone(),
                password,
            });
        }
        if self.password_file.is_some() || self.password.is_some() {
            return Err(NatsConfigError::Incomplete(
                "a NATS password needs --nats-user",
            ));
        }
        Ok(match (token, nkey) {
            (Some(token), _) => NatsAuth::Token(token),
            (_, Some(seed)) => NatsAuth::Nkey(seed),
            (None, None) => NatsAuth::None,
        })
    }

    /// Whether TLS is required: a CA or a client certificate is given (a
    /// `tls://` URL requires it too).
    pub fn requires_tls(&self) -> bool {
        self.ca.is_some() || self.tls_client_cert.is_some()
    }

    /// Checks that the settings can be used (credentials complete and
    /// readable, TLS files present), so that a process fails at start with a
    /// clear message rather than retrying forever.
    pub fn check(&self) -> Result<(), NatsConfigError> {
        self.auth()?;
        for (what, path) in [
            ("CA", &self.ca),
            ("client certificate", &self.tls_client_cert),
            ("client key", &self.tls_client_key),
        ] {
            if let Some(path) = path {
                std::fs::metadata(path).map_err(|source| NatsConfigError::File {
                    what,
                    path: path.clone(),
                    source,
                })?;
            }
        }
        Ok(())
    }
}

/// A secret given in memory, else read from `file`, else from the
/// environment variable `env`; surrounding whitespace (a final newline) is dropped.
fn secret(
    given: Option<String>,
    file: Option<&Path>,
    env: &str,
    what: &'static str,
) -> Result<Option<String>, NatsConfigError> {
    let value = match (given, file) {
        (Some(value), _) => value,
        (None, Some(path)) => {
            std::fs::read_to_string(path).map_err(|source| NatsConfigError::File {
                what,
                path: path.to_owned(),
                source,
            })?
        }
        (None, None) => match std::env::var(env) {
            Ok(value) => value,
            Err(_) => return Ok(None),
        },
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(NatsConfigError::Empty(what));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        nats: NatsConfig,
    }

    #[test]
    fn credentials_come_from_files_and_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "s3cret-pw\n").unwrap();
        let cli = Cli::try_parse_from([
            "svc",
            "--nats",
            "nats://127.0.0.1:4222",
            "--nats-user",
            "relay",
            "--nats-password-file",
            password.to_str().unwrap(),
        ])
        .unwrap();
        let auth = cli.nats.auth().unwrap();
        assert_eq!(
            auth,
            NatsAuth::UserPassword {
                user: "relay".into(),
                password: "s3cret-pw".into()
            }
        );
        assert!(!format!("{auth:?}").contains("s3cret"));
        let mut config = cli.nats;
        config.password = Some("in-memory-pw".into());
        assert!(!format!("{config:?}").contains("in-memory-pw"));
        assert!(!config.requires_tls());
        config.check().unwrap();
    }

    #[test]
    fn incomplete_or_conflicting_credentials_are_refused() {
        let user_only = Cli::try_parse_from(["svc", "--nats-user", "relay"]).unwrap();
        // MAILLAGE_NATS_PASSWORD is not set in the test environment.
        if std::env::var_os(NATS_PASSWORD_ENV).is_none() {
            assert!(matches!(
                user_only.nats.auth(),
                Err(NatsConfigError::Incomplete(_))
            ));
        }
        let both = Cli::try_parse_from([
            "svc",
            "--nats-user",
            "relay",
            "--nats-creds",
            "/etc/maillage/relay.creds",
        ])
        .unwrap();
        assert!(matches!(
            both.nats.auth(),
            Err(NatsConfigError::Conflict(_))
        ));
        let missing = Cli::try_parse_from(["svc", "--nats-creds", "/nonexistent.creds"]).unwrap();
        let error = missing.nats.check().unwrap_err().to_string();
        assert!(error.contains("/nonexistent.creds"), "{error}");
        assert!(Cli::try_parse_from(["svc", "--nats-tls-cert", "c.pem"]).is_err());
        let tls = Cli::try_parse_from(["svc", "--nats-ca", "ca.pem"]).unwrap();
        assert!(tls.nats.requires_tls());
        assert_eq!(
            Cli::try_parse_from(["svc"]).unwrap().nats.auth().unwrap(),
            NatsAuth::None
        );
    }
}
