//! A private `nats-server -js` for tests: started on a free port with its own
//! store directory, stopped and restarted on the same port and directory.
//!
//! The binary is `$MAILLAGE_NATS_SERVER` (set by `scripts/test`), else
//! `nats-server` on `PATH`, else `/usr/sbin/nats-server`; if none is found,
//! [`NatsServer::start`] fails with a message saying how to get one (tests
//! fail loudly rather than skip).
//!
//! ```no_run
//! # async fn demo() -> Result<(), maillage_nats_test::NatsTestError> {
//! let mut nats = maillage_nats_test::NatsServer::start().await?;
//! let url = nats.url(); // "nats://127.0.0.1:<port>"
//! nats.stop().await?; // graceful: JetStream flushes its files
//! nats.restart().await?; // same port, same store directory
//! # Ok(()) }
//! ```
//!
//! [`NatsServer::start_with_config`] adds a nats-server configuration (an
//! `authorization` block, `tls`, an `include` of `deploy/nats/authorization.conf`…)
//! and environment variables (the passwords that configuration refers to) to
//! the same command line, for tests of credentials and TLS.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// How long a server may take to accept connections after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at finding a free port that no other test grabs first.
const PORT_ATTEMPTS: usize = 5;

/// Why the test server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NatsTestError {
    /// No nats-server binary was found.
    #[error(
        "no nats-server found: set MAILLAGE_NATS_SERVER, put nats-server on PATH, \
         install it at /usr/sbin/nats-server (Debian: apt-get install nats-server), \
         or run the tests through scripts/test"
    )]
    NotFound,
    /// An I/O failure (spawning, temp dir, port).
    #[error("nats-server harness: {0}")]
    Io(#[from] std::io::Error),
    /// The server did not accept connections in time, or exited.
    #[error("nats-server on port {port} did not start: {reason}")]
    NotStarted {
        /// The port it was given.
        port: u16,
        /// What happened.
        reason: String,
    },
}

/// The nats-server binary the tests use (see the module docs for the lookup order).
pub fn nats_server_binary() -> Result<PathBuf, NatsTestError> {
    if let Some(path) = std::env::var_os("MAILLAGE_NATS_SERVER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(NatsTestError::NotFound)
        };
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("nats-server");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let fallback = PathBuf::from("/usr/sbin/nats-server");
    if fallback.is_file() {
        return Ok(fallback);
    }
    Err(NatsTestError::NotFound)
}

/// A running (or stopped) private nats-server with JetStream.
///
/// Dropping it kills the process and removes its store directory.
pub struct NatsServer {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    /// A configuration file given with `-c` (written in `store`).
    config: Option<PathBuf>,
    /// Environment variables of the server process.
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free port and a fresh store directory,
    /// and waits until it accepts connections.
    pub async fn start() -> Result<Self, NatsTestError> {
        Self::start_with(None, Vec::new()).await
    }

    /// Like [`NatsServer::start`], with `config` (nats-server configuration
    /// text, e.g. an `authorization` block) given with `-c` and `env` set for
    /// the server process (e.g. the passwords `config` refers to as
    /// `$VARIABLE`); the command line still sets JetStream, the address, the
    /// port and the store directory.
    pub async fn start_with_config(
        config: &str,
        env: &[(&str, &str)],
    ) -> Result<Self, NatsTestError> {
        let env = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Self::start_with(Some(config), env).await
    }

    async fn start_with(
        config: Option<&str>,
        env: Vec<(String, String)>,
    ) -> Result<Self, NatsTestError> {
        let binary = nats_server_binary()?;
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let store = tempfile::Builder::new()
                .prefix("maillage-nats-")
                .tempdir()?;
            let config = match config {
                Some(text) => {
                    let path = store.path().join("server.conf");
                    std::fs::write(&path, text)?;
                    Some(path)
                }
                None => None,
            };
            let mut server = Self {
                binary: binary.clone(),
                port,
                store,
                config,
                env: env.clone(),
                child: None,
            };
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                // Another process may have taken the port between probe and bind.
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or(NatsTestError::NotFound))
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory (kept across restarts).
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// Whether the process is running (as far as the harness knows).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Stops the server gracefully (SIGTERM, so JetStream flushes its files),
    /// killing it if it has not exited after a while. Does nothing if stopped.
    pub async fn stop(&mut self) -> Result<(), NatsTestError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(result) => {
                result?;
            }
            Err(_) => {
                child.kill().await?;
            }
        }
        Ok(())
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub async fn kill(&mut self) -> Result<(), NatsTestError> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port and store directory (stopping it first
    /// if it runs), and waits until it accepts connections.
    pub async fn restart(&mut self) -> Result<(), NatsTestError> {
        self.stop().await?;
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn_and_wait().await {
                Ok(()) => return Ok(()),
                // The old socket may linger for a moment; retry until the deadline.
                Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn spawn_and_wait(&mut self) -> Result<(), NatsTestError> {
        let mut command = Command::new(&self.binary);
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        let mut child = command
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .arg("-js")
            .arg("-a")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.store.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(NatsTestError::NotStarted {
                    port: self.port,
                    reason: format!("it exited with {status}"),
                });
            }
            if tokio::net::TcpStream::connect(address).await.is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = child.kill().await;
                return Err(NatsTestError::NotStarted {
                    port: self.port,
                    reason: format!("no connection accepted within {START_TIMEOUT:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            // kill_on_drop would do it too; start_kill does not wait.
            let _ = child.start_kill();
        }
    }
}

/// A port that was free a moment ago (the OS picks it).
fn free_port() -> Result<u16, NatsTestError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_stops_and_restarts_on_the_same_port() {
        let mut server = NatsServer::start().await.expect("nats-server starts");
        let port = server.port();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(tokio::net::TcpStream::connect(address).await.is_ok());
        server.stop().await.unwrap();
        assert!(!server.is_running());
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
        server.restart().await.unwrap();
        assert_eq!(server.port(), port);
        assert!(tokio::net::TcpStream::connect(address).await.is_ok());
    }
}
