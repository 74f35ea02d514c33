//! The test kit every crate's gRPC tests share (feature `testing`), in the
//! manner of zero2prod's `spawn_app`:
//!
//! - [`TestData`]: a temporary data directory with a master key and a tokens
//!   file holding one principal per role ([`Tokens`], named by [`principal_name`]);
//! - [`Spawned`]: binds `127.0.0.1:0` itself and hands the bound listener to
//!   the service's serve function, so no port is guessed and none is raced
//!   for; [`Spawned::stop`] shuts the service down gracefully and waits for it;
//! - [`Bearer`]: the interceptor that puts a token (and any other header a
//!   test wants by default) on each request; [`Spawned::client`] returns a
//!   connected channel with it, ready to wrap in any generated client;
//! - [`raw`]: any bytes as an RPC's request message (malformed input);
//!   [`logged_port`]: the port a child process bound, read from its log.
//!
//! ```ignore
//! let data = TestData::new()?;
//! let config = data.config();
//! let server = Spawned::spawn(move |listener, shutdown| async move {
//!     maillage_stakeholders::serve(&config, listener, shutdown).await
//! })
//! .await?;
//! let mut client = StakeholdersClient::new(server.client(data.bearer(Role::Facilitator)).await?);
//! server.stop().await?;
//! ```

pub mod raw;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context as _;
use maillage_privacy::MasterKey;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::auth::AuthError;
use crate::{Role, ServiceConfig, TokenFile};

/// How long a test waits for a service to stop: a deadlock guard, not a timing assertion.
pub const WAIT: Duration = Duration::from_secs(30);

/// The name of the kit's principal with `role`: the actor its commands record,
/// the principal of its reads in the access journal.
pub const fn principal_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "adam",
        Role::Facilitator => "alice",
        Role::Secretary => "sam",
        Role::Analyst => "ana",
        Role::Auditor => "aude",
        Role::Tool => "bi-tool",
        Role::Respondent => "rose",
    }
}

/// A tokens file holding one principal per role, and their tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    path: PathBuf,
    tokens: Vec<(Role, String)>,
}

impl Tokens {
    /// Adds one principal per role ([`principal_name`]) to the tokens file at `path`.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, AuthError> {
        let path = path.into();
        let tokens = Role::ALL
            .into_iter()
            .map(|role| Ok((role, TokenFile::add(&path, principal_name(role), &[role])?)))
            .collect::<Result<_, AuthError>>()?;
        Ok(Self { path, tokens })
    }

    /// The token of the principal with `role`.
    pub fn of(&self, role: Role) -> &str {
        self.tokens
            .iter()
            .find(|(has, _)| *has == role)
            .map(|(_, token)| token.as_str())
            .unwrap_or_default()
    }

    /// Adds another principal (a second facilitator, a principal with two roles); its token.
    pub fn add(&self, name: &str, roles: &[Role]) -> Result<String, AuthError> {
        TokenFile::add(&self.path, name, roles)
    }

    /// The tokens file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A service's data directory under test: a temporary directory (removed when
/// dropped) with a master key (`master.key`) and [`Tokens`] (`tokens`).
#[derive(Debug)]
pub struct TestData {
    dir: tempfile::TempDir,
    tokens: Tokens,
}

impl TestData {
    /// A new directory with a master key and one principal per role.
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        MasterKey::generate_file(dir.path().join("master.key"))?;
        let tokens = Tokens::create(dir.path().join("tokens"))?;
        Ok(Self { dir, tokens })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The principals' tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The token of the principal with `role`.
    pub fn token(&self, role: Role) -> &str {
        self.tokens.of(role)
    }

    /// An interceptor presenting the token of the principal with `role`.
    pub fn bearer(&self, role: Role) -> Bearer {
        Bearer::token(self.token(role))
    }

    /// A service configuration over this directory: its tokens file and master key.
    pub fn config(&self) -> ServiceConfig {
        let mut config = ServiceConfig::for_dir(self.path());
        config.master_key_file = Some(self.path().join("master.key"));
        config
    }
}

/// The future a spawned service stops on: it resolves when [`Spawned::stop`] is called.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A service running in a task of the test's runtime on a listener the kit
/// bound. Dropped without [`Spawned::stop`], it stops too (its shutdown
/// future resolves), without anyone waiting for it.
pub struct Spawned {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Spawned {
    /// Binds `127.0.0.1:0` and runs `serve(listener, shutdown)` in a task.
    /// The port is the listener's: it is held from the bind on, so it is the
    /// service's and no other test's.
    pub async fn spawn<S, F, E>(serve: S) -> anyhow::Result<Self>
    where
        S: FnOnce(TcpListener, Shutdown) -> F,
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<anyhow::Error>,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown: Shutdown = Box::pin(async {
            let _ = stopped.await;
        });
        let served = serve(listener, shutdown);
        let task = tokio::spawn(async move { served.await.map_err(Into::into) });
        Ok(Self {
            address,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Where the service listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A channel to the service. It connects at once: the listener was bound
    /// before the service was spawned, so the connection waits in its backlog.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        connect(self.address).await
    }

    /// A channel to the service whose requests carry `bearer`'s headers: wrap
    /// it in any generated client (`StakeholdersClient::new(...)`).
    pub async fn client(&self, bearer: Bearer) -> anyhow::Result<Authed> {
        Ok(InterceptedService::new(self.channel().await?, bearer))
    }

    /// Stops the service through its shutdown future and waits (bounded by
    /// [`WAIT`]) until it returned; its error, if it failed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .context("the service did not stop")???;
        }
        Ok(())
    }
}

/// A channel to a server listening at `address` (a service the test spawned,
/// or a child process whose port is open).
pub async fn connect(address: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?)
}

/// A channel whose requests carry a [`Bearer`]'s headers.
pub type Authed = InterceptedService<Channel, Bearer>;

/// Puts `authorization: Bearer <token>` (when it has a token) and the other
/// headers it was given on each request that does not carry them already.
#[derive(Debug, Clone, Default)]
pub struct Bearer {
    headers: Vec<(&'static str, MetadataValue<Ascii>)>,
}

impl Bearer {
    /// Presents `token`.
    pub fn token(token: &str) -> Self {
        Self::anonymous().with("authorization", &format!("Bearer {token}"))
    }

    /// Presents no token.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Also sets `name: value` on requests that do not set it (an invalid
    /// value is left out, and the server sees the request without it).
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(value) = value.parse() {
            self.headers.push((name, value));
        }
        self
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        for (name, value) in &self.headers {
            if !request.metadata().contains_key(*name) {
                request.metadata_mut().insert(*name, value.clone());
            }
        }
        Ok(request)
    }
}

/// The port of the `127.0.0.1:<port>` in the first line of `log` that holds
/// `marker` ("serving gRPC", "maillage is up"), human or JSON: how a test
/// learns which port a child process bound when it was told to listen on
/// `127.0.0.1:0`.
pub fn logged_port(log: &str, marker: &str) -> Option<u16> {
    log.lines()
        .filter(|line| line.contains(marker))
        .find_map(|line| {
            let (_, after) = line.split_once("127.0.0.1:")?;
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
}

/// `message` with `authorization: Bearer <token>` (none when `token` is empty).
pub fn authed<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if token.is_empty() {
        return request;
    }
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
