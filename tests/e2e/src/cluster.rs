//! The platform under test, in its two shapes: every service as its own
//! process over a private `nats-server -js` or a NATS cluster the caller runs
//! ([`Processes`]), or everything in this process on the direct feed
//! ([`InProcess`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use maillage_nats_test::NatsServer;
use maillage_service_kit::testing::{logged_port, Spawned};
use maillage_service_kit::ServiceConfig;
use tokio::process::{Child, Command};

use crate::binaries::binary;
use crate::clients::{Endpoints, Secrets};
use crate::nats_users::{self, NatsUsers};

/// How long a process may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a process may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// The command services, in start order: (context, binary).
pub const COMMAND_SERVICES: [(&str, &str); 3] = [
    ("stakeholders", "maillage-stakeholders"),
    ("engagement", "maillage-engagement"),
    ("governance", "maillage-governance"),
];
/// The projections' binary.
pub const PROJECTIONS: &str = "maillage-projections";

/// One running service process.
struct ServiceProcess {
    name: String,
    child: Child,
    log: PathBuf,
    /// The port it bound (it is given `--listen 127.0.0.1:0`).
    port: u16,
}

/// The three command services and the projections service as separate
/// processes, each with its own data directory and port, over a private
/// NATS JetStream (or the caller's NATS, [`Processes::start_on`]). Dropping
/// it kills whatever still runs.
pub struct Processes {
    /// The private server, when this harness started one.
    nats: Option<NatsServer>,
    nats_url: String,
    services: Vec<ServiceProcess>,
    endpoints: Endpoints,
    _dir: tempfile::TempDir,
}

/// The port the process logging to `log` bound, once it says it is serving.
fn serving_port(log: &Path) -> Option<u16> {
    logged_port(&std::fs::read_to_string(log).ok()?, "serving gRPC")
}

/// The last lines of a process's log, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl ServiceProcess {
    /// Spawns `binary` with `args` (which make it listen on `127.0.0.1:0`) and
    /// `env`, its output to `<dir>/<name>.log`, and waits until it accepts
    /// connections on the port it bound, read from its log: no port is picked
    /// before it starts, so no other process can take it first.
    async fn spawn(
        name: &str,
        args: &[String],
        env: &[(&str, &str)],
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary(name)?)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let mut process = Self {
            name: name.to_owned(),
            child,
            log,
            port: 0,
        };
        process.wait_ready().await?;
        Ok(process)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status} before serving:\n{}",
                    self.name,
                    tail(&self.log)
                );
            }
            if let Some(port) = serving_port(&self.log) {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if tokio::net::TcpStream::connect(address).await.is_ok() {
                    self.port = port;
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{} did not accept connections within {START_TIMEOUT:?}:\n{}",
                    self.name,
                    tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    async fn terminate(mut self) -> anyhow::Result<(String, ExitStatus)> {
        let pid = self
            .child
            .id()
            .with_context(|| format!("{} has already been reaped", self.name))?;
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await?;
        if !sent.success() {
            bail!("kill -TERM {pid} ({}) failed: {sent}", self.name);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok((self.name, status?)),
            Err(_) => {
                self.child.kill().await?;
                bail!(
                    "{} did not exit within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
                    self.name,
                    tail(&self.log)
                )
            }
        }
    }
}

impl Processes {
    /// Starts a private nats-server under `deploy/nats/authorization.conf`
    /// (fresh passwords), creates `MAILLAGE_EVENTS` as admin, then the three
    /// command services (each relaying its log to JetStream as its own NATS
    /// user) and the projections (consuming JetStream, replaying from the
    /// services' `EventLog`s), and waits until all serve.
    pub async fn start(secrets: &Secrets) -> anyhow::Result<Self> {
        let users = NatsUsers::generate();
        let env = users.server_env();
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let authorization = std::fs::read_to_string(nats_users::authorization_file())?;
        let nats = NatsServer::start_with_config(&authorization, &env).await?;
        let url = nats.url();
        let admin = maillage_bus::connect(&users.config(&url, "admin"), "e2e-admin").await?;
        maillage_bus::ensure_stream(&async_nats::jetstream::new(admin), 1).await?;
        Self::start_services(secrets, url, &users, Some(nats)).await
    }

    /// The same services against a NATS the caller runs: `nats_urls` is a
    /// comma-separated URL list (e.g. the three nodes of deploy/nats), passed
    /// as is to every service's `--nats`, each service connecting as its
    /// user of `users`. The caller owns the servers and the stream (create
    /// `MAILLAGE_EVENTS` with the replicas it needs first).
    pub async fn start_on(
        secrets: &Secrets,
        nats_urls: &str,
        users: &NatsUsers,
    ) -> anyhow::Result<Self> {
        Self::start_services(secrets, nats_urls.to_owned(), users, None).await
    }

    async fn start_services(
        secrets: &Secrets,
        nats_url: String,
        users: &NatsUsers,
        nats: Option<NatsServer>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("maillage-e2e-").tempdir()?;
        let common = |name: &str, data_dir: &Path| -> Vec<String> {
            vec![
                "--nats-user".into(),
                users.for_binary(name).0.to_owned(),
                "--listen".into(),
                "127.0.0.1:0".into(),
                "--data-dir".into(),
                data_dir.display().to_string(),
                "--tokens-file".into(),
                secrets.tokens_file.display().to_string(),
                "--nats".into(),
                nats_url.clone(),
            ]
        };
        let mut services = Vec::new();
        let mut urls = Vec::new();
        for (context, name) in COMMAND_SERVICES {
            let mut args = common(name, &dir.path().join(context));
            args.push("--master-key-file".into());
            args.push(secrets.master_key_file.display().to_string());
            let env = [("MAILLAGE_NATS_PASSWORD", users.for_binary(name).1)];
            let service = ServiceProcess::spawn(name, &args, &env, dir.path()).await?;
            urls.push((context, format!("http://127.0.0.1:{}", service.port)));
            services.push(service);
        }
        let mut args = common(PROJECTIONS, &dir.path().join("projections"));
        for (context, url) in &urls {
            args.push("--source".into());
            args.push(format!("{context}={url}"));
        }
        args.push("--source-token-file".into());
        args.push(secrets.source_token_file.display().to_string());
        let env = [("MAILLAGE_NATS_PASSWORD", users.for_binary(PROJECTIONS).1)];
        let projections = ServiceProcess::spawn(PROJECTIONS, &args, &env, dir.path()).await?;
        let endpoints = Endpoints {
            stakeholders: urls[0].1.clone(),
            engagement: urls[1].1.clone(),
            governance: urls[2].1.clone(),
            projections: format!("http://127.0.0.1:{}", projections.port),
        };
        services.push(projections);
        Ok(Self {
            nats,
            nats_url,
            services,
            endpoints,
            _dir: dir,
        })
    }

    /// Where each service listens.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The NATS URL (list) the services were given.
    pub fn nats_url(&self) -> String {
        self.nats_url.clone()
    }

    /// Stops every service with SIGTERM (projections first, then the command
    /// services), then the private NATS if any; returns each service's exit
    /// status.
    pub async fn stop(mut self) -> anyhow::Result<Vec<(String, ExitStatus)>> {
        let mut statuses = Vec::new();
        while let Some(service) = self.services.pop() {
            statuses.push(service.terminate().await?);
        }
        if let Some(nats) = self.nats.as_mut() {
            nats.stop().await?;
        }
        Ok(statuses)
    }
}

/// The all-in-one platform (`maillage::platform::serve`) in this process on
/// 127.0.0.1:0, projections on the direct feed (no broker).
pub struct InProcess {
    url: String,
    /// Dropped, it stops the platform (without waiting for it).
    platform: Spawned,
    _dir: tempfile::TempDir,
}

impl InProcess {
    /// Serves the platform with `secrets` in a fresh data directory.
    pub async fn start(secrets: &Secrets) -> anyhow::Result<Self> {
        Self::start_with(secrets, None).await
    }

    /// The same, with the relays and the JetStream feed when `nats` is set.
    pub async fn start_with(secrets: &Secrets, nats: Option<String>) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("maillage-e2e-one-")
            .tempdir()?;
        let mut config = ServiceConfig::for_dir(dir.path().join("data"));
        config.tokens_file = Some(secrets.tokens_file.clone());
        config.master_key_file = Some(secrets.master_key_file.clone());
        config.nats.servers = nats;
        let platform = Spawned::spawn(move |listener, shutdown| async move {
            maillage::platform::serve(&config, listener, shutdown).await
        })
        .await?;
        Ok(Self {
            url: format!("http://{}", platform.address()),
            platform,
            _dir: dir,
        })
    }

    /// Every service's endpoint (one port).
    pub fn endpoints(&self) -> Endpoints {
        Endpoints::all_at(&self.url)
    }

    /// Shuts the platform down and returns how its serve ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.platform
            .stop()
            .await
            .context("the platform did not stop cleanly")
    }
}
