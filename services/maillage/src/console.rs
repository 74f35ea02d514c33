//! The web console as `maillage up` serves it: in the same process, on its
//! own HTTP listener (`--http`), talking to the platform's own gRPC listener
//! like any client (over TLS when the platform serves TLS), with the public
//! survey page's `respondent` token made at first start (see
//! [`bootstrap::respondent_token`]) and its sessions kept in
//! `<data-dir>/console-sessions` unless `--session-dir` says otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use maillage_console::{Console, HttpArgs, HttpListen};
use maillage_service_kit::ServiceConfig;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bootstrap;

/// How long a stopping console waits for its requests in flight.
const DRAIN: Duration = Duration::from_secs(5);

/// A console started beside the platform.
pub struct RunningConsole {
    /// Where it listens.
    pub address: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningConsole {
    /// Stops it (requests in flight get a few seconds to finish).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        match tokio::time::timeout(DRAIN, self.task).await {
            Ok(served) => Ok(served.context("the console panicked")??),
            Err(_) => Ok(()),
        }
    }
}

/// Where `maillage up` keeps the console's sessions by default.
pub fn sessions_path(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("console-sessions")
}

/// Starts the console `http` asks for, in front of the platform's gRPC
/// listener at `grpc` (`https` when the platform serves TLS: the console
/// trusts `--grpc-ca` and checks the name `--grpc-tls-name`, or the loopback
/// address it connects to); `None` with `--http off`.
pub async fn start(
    config: &ServiceConfig,
    grpc: SocketAddr,
    http: &HttpArgs,
) -> anyhow::Result<Option<RunningConsole>> {
    let HttpListen::At(address) = http.http else {
        return Ok(None);
    };
    // A platform listening on every address is reached on loopback.
    let host = match grpc.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if config.tls_cert.is_some() {
        if http.grpc_ca.is_none() {
            bail!(
                "with --tls-cert the web console needs --grpc-ca (the CA that signed the \
                 certificate) to reach the services, or --http off"
            );
        }
        "https"
    } else {
        "http"
    };
    let mut options = http.options(format!("{scheme}://{}", SocketAddr::new(host, grpc.port())))?;
    if options.session_dir.is_none() {
        options.session_dir = Some(sessions_path(&config.data_dir));
    }
    options.respondent_token = Some(bootstrap::respondent_token(config)?);
    let router = Console::router(options)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("the web console cannot listen on {address}"))?;
    let address = listener.local_addr()?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(Console::serve(
        listener,
        router,
        stop.clone().cancelled_owned(),
    ));
    Ok(Some(RunningConsole {
        address,
        stop,
        task,
    }))
}
