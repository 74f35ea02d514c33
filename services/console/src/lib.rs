//! Maillage's web console: server-rendered French pages for the people who do
//! the work (facilitators, the collectivité's officers, analysts) and the
//! public survey page for inhabitants.
//!
//! The console is a gRPC client of the services: every rule, role check and
//! validation stays in them; it renders what they answer and submits what a
//! person types, under that person's own token (kept server-side in the
//! session, never in the browser). Pages are askama templates compiled into
//! the binary; there is no JavaScript and no external resource.
//!
//! `maillage up` serves it in-process ([`Console::router`] over its own gRPC
//! listener); the `maillage-console` binary serves it alone, for split
//! deployments.

pub mod args;
mod assets;
mod backend;
mod csrf;
mod form;
mod labels;
mod limit;
mod pages;
mod session;
mod time;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use maillage_eventstore::{Clock, SystemClock};

pub use args::{HttpArgs, HttpListen};
use backend::Backend;
use limit::Limiter;
use session::Sessions;

/// What a console needs to run.
#[derive(Clone)]
pub struct ConsoleOptions {
    /// The services' gRPC endpoint, e.g. `http://127.0.0.1:50051`
    /// (`https://…`: over TLS).
    pub endpoint: String,
    /// PEM certificates of the authorities trusted for an `https` endpoint
    /// (required with one).
    pub grpc_ca: Option<Vec<u8>>,
    /// The name the services' certificate must bear, when it is not the
    /// endpoint's host.
    pub grpc_tls_name: Option<String>,
    /// Where sessions are stored, so that they survive a restart (`None`: a
    /// temporary store, removed when the console stops).
    pub session_dir: Option<PathBuf>,
    /// The token of the `respondent` principal under which the public survey
    /// page reads and answers surveys (`None`: the page says it is unavailable).
    pub respondent_token: Option<String>,
    /// Mark the session cookie `Secure` (served under TLS or behind https).
    pub secure_cookies: bool,
    /// The console's public base URL (no trailing `/`): public survey links
    /// start with it. `None`: the address the browser used.
    pub public_url: Option<String>,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever its activity.
    pub session_max: Duration,
    /// Failed sign-ins allowed per client address and quarter of an hour.
    pub sign_in_failures: u32,
    /// Survey submissions allowed per client address and hour.
    pub survey_submissions: u32,
    /// The clock sessions expire by (a fixed one in tests).
    pub clock: Arc<dyn Clock>,
}

impl ConsoleOptions {
    /// The defaults for `endpoint`: 30 minutes idle, 12 hours at most, 5
    /// failed sign-ins per quarter of an hour, 20 survey answers per hour.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            grpc_ca: None,
            grpc_tls_name: None,
            session_dir: None,
            respondent_token: None,
            secure_cookies: false,
            public_url: None,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            sign_in_failures: 5,
            survey_submissions: 20,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Everything a request handler reads: the services, the sessions, the limits.
pub(crate) struct State {
    pub(crate) backend: Backend,
    pub(crate) sessions: Sessions,
    pub(crate) csrf: csrf::Signer,
    pub(crate) sign_in_limit: Limiter,
    pub(crate) survey_limit: Limiter,
    pub(crate) secure_cookies: bool,
    pub(crate) public_url: Option<String>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The console's HTTP application.
pub struct Console;

impl Console {
    /// The router serving every page, for `options`. The gRPC channel
    /// connects lazily: the services may start after it. Fails when the
    /// endpoint or its TLS settings are invalid, or the session store cannot
    /// be opened (another console holds it).
    pub fn router(options: ConsoleOptions) -> anyhow::Result<Router> {
        let backend = Backend::new(&options, options.respondent_token.clone())?;
        let state = Arc::new(State {
            backend,
            sessions: Sessions::open_store(
                options.session_dir.as_deref(),
                options.clock.clone(),
                options.session_idle,
                options.session_max,
            )?,
            csrf: csrf::Signer::new(options.clock.clone()),
            sign_in_limit: Limiter::new(
                options.clock.clone(),
                Duration::from_secs(15 * 60),
                options.sign_in_failures,
            ),
            survey_limit: Limiter::new(
                options.clock.clone(),
                Duration::from_secs(3600),
                options.survey_submissions,
            ),
            secure_cookies: options.secure_cookies,
            public_url: options.public_url,
            clock: options.clock,
        });
        Ok(pages::routes(state))
    }

    /// Serves `router` on `listener` until `shutdown` completes, with each
    /// request's client address (for the rate limits).
    pub async fn serve(
        listener: tokio::net::TcpListener,
        router: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(address = %listener.local_addr()?, "web console is up");
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}
