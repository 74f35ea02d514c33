//! The console's command-line options, shared by `maillage up` and the
//! `maillage-console` binary.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Where the console listens: an address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpListen {
    /// No console.
    Off,
    /// Serve it on this address.
    At(SocketAddr),
}

impl FromStr for HttpListen {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.eq_ignore_ascii_case("off") {
            return Ok(HttpListen::Off);
        }
        value
            .parse()
            .map(HttpListen::At)
            .map_err(|_| format!("{value:?} is neither `off` nor an address like 127.0.0.1:8080"))
    }
}

impl fmt::Display for HttpListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpListen::Off => f.write_str("off"),
            HttpListen::At(address) => write!(f, "{address}"),
        }
    }
}

/// The web console's options: its HTTP listener, its sessions, and how it
/// reaches the services over TLS.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Address of the web console (`off`: no console).
    #[arg(long = "http", env = "MAILLAGE_HTTP", default_value = "127.0.0.1:8080")]
    pub http: HttpListen,

    /// Mark the session cookie `Secure`: set it when the console is reached
    /// over https (behind a TLS-terminating proxy).
    #[arg(long, env = "MAILLAGE_HTTP_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The console's public address as inhabitants reach it (e.g.
    /// `https://maillage.example.org`): the base of the public survey links
    /// and of their QR codes. Unset: the address the browser used.
    #[arg(long, env = "MAILLAGE_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,

    /// Minutes without a request after which a console session ends.
    #[arg(long, env = "MAILLAGE_SESSION_MINUTES", default_value_t = 30)]
    pub session_minutes: u64,

    /// Directory of the console's sessions, so that they survive a restart
    /// (created mode 0700; `maillage up`: `<data-dir>/console-sessions` by
    /// default; `maillage-console` without it: a restart signs everyone out).
    #[arg(long, env = "MAILLAGE_SESSION_DIR")]
    pub session_dir: Option<PathBuf>,

    /// PEM file of the authority that signed the services' TLS certificate:
    /// required with an `https://` gRPC endpoint (`maillage up --tls-cert`).
    #[arg(long, env = "MAILLAGE_GRPC_CA")]
    pub grpc_ca: Option<PathBuf>,

    /// The name the services' TLS certificate bears, when it is not the
    /// endpoint's host (e.g. `maillage up` reached on 127.0.0.1 with a
    /// certificate for `maillage.example.org`).
    #[arg(long, env = "MAILLAGE_GRPC_TLS_NAME")]
    pub grpc_tls_name: Option<String>,
}

impl HttpArgs {
    /// The console's options for the services at `endpoint` (reads the CA
    /// file).
    pub fn options(&self, endpoint: impl Into<String>) -> anyhow::Result<crate::ConsoleOptions> {
        let mut options = crate::ConsoleOptions::new(endpoint);
        options.secure_cookies = self.secure_cookies;
        options.public_url.clone_from(&self.public_url);
        options.session_idle = Duration::from_secs(self.session_minutes.max(1) * 60);
        options.session_dir = self.session_dir.clone();
        options.grpc_tls_name = self.grpc_tls_name.clone();
        if let Some(path) = &self.grpc_ca {
            options.grpc_ca = Some(std::fs::read(path).map_err(|error| {
                anyhow::anyhow!("cannot read the gRPC CA {}: {error}", path.display())
            })?);
        }
        Ok(options)
    }
}

/// A public base URL: `http://` or `https://`, a host, no query nor
/// fragment; kept without its trailing `/`.
fn public_url(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("{value:?} does not start with http:// or https://"))?;
    let ok = !rest.is_empty()
        && !rest.starts_with('/')
        && rest.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '/' | '[' | ']' | '_' | '~')
        });
    if ok {
        Ok(value.trim_end_matches('/').to_owned())
    } else {
        Err(format!(
            "{value:?} is not a base URL like https://maillage.example.org"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        http: HttpArgs,
    }

    #[test]
    fn the_session_directory_and_the_grpc_ca_reach_the_options() {
        let dir = std::env::temp_dir().join(format!("maillage-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let cli = Cli::try_parse_from([
            "console".as_ref(),
            "--session-dir".as_ref(),
            dir.join("sessions").as_os_str(),
            "--grpc-ca".as_ref(),
            ca.as_os_str(),
            "--grpc-tls-name".as_ref(),
            "maillage.example.org".as_ref(),
        ])
        .unwrap();
        let options = cli.http.options("https://127.0.0.1:50051").unwrap();
        assert_eq!(options.session_dir, Some(dir.join("sessions")));
        assert_eq!(
            options.grpc_ca.as_deref(),
            Some(&b"-----BEGIN CERTIFICATE-----\n"[..])
        );
        assert_eq!(
            options.grpc_tls_name.as_deref(),
            Some("maillage.example.org")
        );
        // A CA file that cannot be read is an error, not a console without TLS.
        let cli = Cli::try_parse_from([
            "console".as_ref(),
            "--grpc-ca".as_ref(),
            dir.join("missing.pem").as_os_str(),
        ])
        .unwrap();
        assert!(cli.http.options("https://127.0.0.1:50051").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_public_url_is_an_http_base_without_query() {
        assert_eq!(
            public_url("https://maillage.example.org/").unwrap(),
            "https://maillage.example.org"
        );
        assert_eq!(
            public_url("http://10.0.0.1:8080/console").unwrap(),
            "http://10.0.0.1:8080/console"
        );
        assert!(public_url("maillage.example.org").is_err());
        assert!(public_url("https://").is_err());
        assert!(public_url("https://x.org/?a=1").is_err());
        assert!(public_url("https://x.org/#a").is_err());
        assert!(public_url("https://x.org/\"<").is_err());
    }
}
