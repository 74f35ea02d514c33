//! Serving a set of tonic services the Maillage way: token auth on every RPC
//! (except health and reflection), gRPC health and reflection, a tracing span
//! per RPC, and a graceful shutdown that drains in-flight requests, ends
//! server streams, then closes the event stores.
//!
//! ```no_run
//! # async fn f(store: maillage_eventstore::EventStore, tokens: std::sync::Arc<maillage_service_kit::auth::TokenStore>) -> Result<(), Box<dyn std::error::Error>> {
//! use maillage_service_kit::{EventLogService, Server};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! Server::builder(tokens)
//!     .add_service(EventLogService::new("stakeholders", store.clone()).into_server())
//!     .serve_with_shutdown(listener, vec![store], async { let _ = stopped.await; })
//!     .await?;
//! # drop(stop); Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::Frame;
use maillage_eventstore::EventStore;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, ServerTlsConfig};
use tonic_health::ServingStatus;
use tracing::Instrument;

use crate::auth::{AuthLayer, Credential, TokenStore};
use crate::config::{ConfigError, ServiceConfig};
use crate::context::{CORRELATION_ID_HEADER, REQUEST_ID_HEADER};

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The transport failed (TLS set-up, accept loop).
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not be built from the descriptors.
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// How long a handler may take to answer by default (the reply's headers: a
/// stream, once open, is not cut).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Requests of one connection in handlers at once by default; more wait.
pub const DEFAULT_REQUESTS_PER_CONNECTION: u32 = 32;

/// Gathers the services of one server, then serves them.
pub struct Server {
    tokens: Arc<TokenStore>,
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    /// Services whose health follows a store: NOT_SERVING once it has failed.
    backed: Vec<(&'static str, EventStore)>,
    /// Services whose health follows a signal: SERVING while it is `true`.
    followed: Vec<(&'static str, watch::Receiver<bool>)>,
    tls: Option<Identity>,
    request_timeout: Duration,
    /// Services given a request timeout of their own (the longer applies).
    service_timeouts: BTreeMap<&'static str, Duration>,
    requests_per_connection: usize,
}

impl Server {
    /// A server whose RPCs are authenticated against `tokens`.
    pub fn builder(tokens: Arc<TokenStore>) -> Self {
        Self {
            tokens,
            routes: RoutesBuilder::default(),
            names: Vec::new(),
            backed: Vec::new(),
            followed: Vec::new(),
            tls: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            service_timeouts: BTreeMap::new(),
            requests_per_connection: DEFAULT_REQUESTS_PER_CONNECTION as usize,
        }
    }

    /// A server set up from the shared configuration: its tokens file, its
    /// limits and, when `--tls-cert`/`--tls-key` are given, TLS.
    pub fn from_config(config: &ServiceConfig) -> Result<Self, ConfigError> {
        // Unusable NATS settings stop the process now, not in a retry loop.
        config.nats.check()?;
        let mut server = Self::builder(config.token_store()?)
            .request_timeout(Duration::from_secs(config.request_timeout))
            .requests_per_connection(config.max_requests_per_connection as usize);
        server.tls = config.tls_identity()?;
        Ok(server)
    }

    /// Ends with DEADLINE_EXCEEDED, naming the limit, a call whose handler has
    /// not answered within `timeout` (default [`DEFAULT_REQUEST_TIMEOUT`]).
    /// Only the wait for the reply's headers counts: a stream, once open, runs
    /// on. A client's shorter `grpc-timeout` still applies.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Lets the handlers of `service` (its gRPC name, e.g.
    /// `maillage.v1.Projections`) answer within `timeout` when that is longer
    /// than the server's request timeout: for services whose answers may need
    /// minutes of work by design (a report `as_of` an instant replays the
    /// logs), so that the server-wide limit, which catches stuck handlers,
    /// does not cut them.
    pub fn request_timeout_of(mut self, service: &'static str, timeout: Duration) -> Self {
        self.service_timeouts.insert(service, timeout);
        self
    }

    /// At most `limit` requests of one connection in handlers at once (default
    /// [`DEFAULT_REQUESTS_PER_CONNECTION`]); the others wait their turn. An
    /// open stream whose handler has answered does not count.
    pub fn requests_per_connection(mut self, limit: usize) -> Self {
        self.requests_per_connection = limit.max(1);
        self
    }

    /// Serves TLS with this certificate chain and key instead of plain HTTP/2.
    pub fn tls(mut self, identity: Identity) -> Self {
        self.tls = Some(identity);
        self
    }

    /// Mounts a generated tonic server (e.g. `EventLogServer::new(...)`). Its
    /// name is reported SERVING by the health service and listed by reflection.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower_service::Service<
                http::Request<Body>,
                Response = http::Response<Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Mounts a command service writing to `store`, like
    /// [`Server::add_service`]; its health turns NOT_SERVING, and so does the
    /// whole server's (`""`), as soon as `store` has failed (a failed write or
    /// flush: the store then refuses every append until the process restarts
    /// and reopens it). Orchestrators probing health restart it.
    pub fn add_command_service<S>(mut self, service: S, store: &EventStore) -> Self
    where
        S: tower_service::Service<
                http::Request<Body>,
                Response = http::Response<Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.backed.push((S::NAME, store.clone()));
        self.add_service(service)
    }

    /// Mounts a service like [`Server::add_service`] whose health follows
    /// `serving`: SERVING while it holds `true`, NOT_SERVING otherwise (the
    /// projections while their consumer is down). The whole server (`""`)
    /// does not follow it: the process itself needs no restart.
    pub fn add_service_with_health<S>(mut self, service: S, serving: watch::Receiver<bool>) -> Self
    where
        S: tower_service::Service<
                http::Request<Body>,
                Response = http::Response<Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.followed.push((S::NAME, serving));
        self.add_service(service)
    }

    /// The names of the services mounted so far.
    pub fn service_names(&self) -> &[&'static str] {
        &self.names
    }

    /// Serves until SIGTERM or SIGINT, then shuts down like [`Server::serve_with_shutdown`].
    pub async fn serve(
        self,
        listener: TcpListener,
        stores: Vec<EventStore>,
    ) -> Result<(), ServerError> {
        self.serve_with_shutdown(listener, stores, std::future::pending())
            .await
    }

    /// Serves on `listener` until `shutdown` completes or the process gets
    /// SIGTERM or SIGINT. Then: health turns NOT_SERVING, the listener closes,
    /// open server streams end with UNAVAILABLE, in-flight requests finish, and
    /// finally every store in `stores` is closed (its queued appends flushed).
    pub async fn serve_with_shutdown<F>(
        self,
        listener: TcpListener,
        stores: Vec<EventStore>,
        shutdown: F,
    ) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send,
    {
        let Server {
            tokens,
            mut routes,
            names,
            backed,
            followed,
            tls,
            request_timeout,
            service_timeouts,
            requests_per_connection,
        } = self;
        let address = listener.local_addr().ok();

        let (reporter, health) = tonic_health::server::health_reporter();
        for name in &names {
            reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let mut reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(maillage_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(HEALTH_SERVICE)
            .with_service_name(REFLECTION_SERVICE);
        for name in &names {
            reflection = reflection.with_service_name(*name);
        }
        routes.add_service(health);
        routes.add_service(reflection.build_v1()?);
        let mut watchers = watch_stores(&reporter, backed, &stores);
        watchers.extend(follow_signals(&reporter, followed));
        let aborts: Vec<tokio::task::AbortHandle> = watchers
            .iter()
            .map(|watcher| watcher.abort_handle())
            .collect();

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut transport = tonic::transport::Server::builder()
            .concurrency_limit_per_connection(requests_per_connection);
        if let Some(identity) = tls {
            transport = transport.tls_config(ServerTlsConfig::new().identity(identity))?;
        }
        let router = transport
            .layer(RpcLayer {
                shutdown: shutdown_rx.clone(),
                timeouts: Arc::new(Timeouts {
                    default: request_timeout,
                    services: service_timeouts,
                }),
            })
            .layer(AuthLayer::new(tokens))
            .add_routes(routes.routes());

        let stop_serving = {
            let mut shutdown_rx = shutdown_rx.clone();
            async move {
                let _ = shutdown_rx.wait_for(|stopping| *stopping).await;
            }
        };
        let serving = router.serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            stop_serving,
        );
        let trigger = async move {
            tokio::select! {
                () = shutdown => tracing::info!("shutdown requested"),
                () = termination_signal() => tracing::info!("termination signal received"),
            }
            // No watcher may turn a service back to SERVING from now on.
            for abort in aborts {
                abort.abort();
            }
            for name in &names {
                reporter
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
            let _ = shutdown_tx.send(true);
            // Keep the sender: streams opened while draining see `true` at once.
            shutdown_tx
        };
        tracing::info!(address = ?address, "serving gRPC");
        tokio::pin!(serving);
        tokio::pin!(trigger);
        let mut held_sender = None;
        let result = tokio::select! {
            result = &mut serving => result,
            sender = &mut trigger => {
                held_sender = Some(sender);
                serving.await
            }
        };
        for watcher in watchers {
            watcher.abort();
        }
        tracing::info!("requests drained; closing event stores");
        for store in stores {
            if let Err(error) = store.close().await {
                tracing::warn!(%error, "closing an event store failed");
            }
        }
        drop(held_sender);
        tracing::info!("server stopped");
        Ok(result?)
    }
}

/// Spawns one task per store that, once the store has failed, logs why and
/// turns NOT_SERVING the services `backed` by it and the whole server (`""`):
/// every store in `stores` counts for the whole server.
fn watch_stores(
    reporter: &tonic_health::server::HealthReporter,
    backed: Vec<(&'static str, EventStore)>,
    stores: &[EventStore],
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut watched: Vec<(EventStore, Vec<&'static str>)> = stores
        .iter()
        .map(|store| (store.clone(), Vec::new()))
        .collect();
    for (name, store) in backed {
        match watched
            .iter_mut()
            .find(|(known, _)| known.same_store(&store))
        {
            Some((_, names)) => names.push(name),
            None => watched.push((store, vec![name])),
        }
    }
    watched
        .into_iter()
        .map(|(store, names)| {
            let reporter = reporter.clone();
            tokio::spawn(async move {
                let reason = store.failed().await;
                tracing::error!(
                    services = ?names,
                    %reason,
                    "event store failed: appends are refused until the process restarts; health is NOT_SERVING"
                );
                for name in names.into_iter().chain([""]) {
                    reporter
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
            })
        })
        .collect()
}

/// Spawns one task per followed service that sets its health from its
/// signal, now and at every change, until the signal's sender is gone.
fn follow_signals(
    reporter: &tonic_health::server::HealthReporter,
    followed: Vec<(&'static str, watch::Receiver<bool>)>,
) -> Vec<tokio::task::JoinHandle<()>> {
    followed
        .into_iter()
        .map(|(name, mut serving)| {
            let reporter = reporter.clone();
            tokio::spawn(async move {
                loop {
                    let status = if *serving.borrow_and_update() {
                        ServingStatus::Serving
                    } else {
                        ServingStatus::NotServing
                    };
                    tracing::info!(
                        service = name,
                        ?status,
                        "health follows the service's state"
                    );
                    reporter.set_service_status(name, status).await;
                    if serving.changed().await.is_err() {
                        return;
                    }
                }
            })
        })
        .collect()
}

/// The gRPC health service's name.
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
/// The gRPC reflection service's name (v1).
const REFLECTION_SERVICE: &str = "grpc.reflection.v1.ServerReflection";

/// Completes on SIGTERM or SIGINT (Ctrl-C). If the handlers cannot be
/// installed it never completes, and only the caller's future stops the server.
async fn termination_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The tracing span of one RPC, put in the request extensions so that
/// [`crate::RequestContext::from_request`] can record the request's ids on it.
#[derive(Clone, Debug)]
pub(crate) struct RpcSpan(tracing::Span);

impl RpcSpan {
    /// Records the request and correlation ids (once per RPC).
    pub(crate) fn record_ids(&self, request_id: &str, correlation_id: &str) {
        self.0.record("request_id", request_id);
        self.0.record("correlation_id", correlation_id);
    }

    /// Records the ids the client sent in headers (for RPCs refused before any handler ran).
    pub(crate) fn record_header_ids(&self, headers: &http::HeaderMap) {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .filter(|value| value.len() <= crate::context::MAX_ID_LEN)
        };
        if let Some(request_id) = get(REQUEST_ID_HEADER) {
            self.0.record("request_id", request_id);
            if let Some(correlation_id) = get(CORRELATION_ID_HEADER).or(Some(request_id)) {
                self.0.record("correlation_id", correlation_id);
            }
        }
    }
}

/// Outermost layer: opens the RPC's span, ends with DEADLINE_EXCEEDED a
/// handler that does not answer in time, logs the outcome, and ends open
/// response streams when the server shuts down.
#[derive(Clone)]
struct RpcLayer {
    shutdown: watch::Receiver<bool>,
    timeouts: Arc<Timeouts>,
}

/// How long a handler may take to answer.
struct Timeouts {
    /// The server's request timeout.
    default: Duration,
    /// Longer ones for some services, by gRPC name.
    services: BTreeMap<&'static str, Duration>,
}

impl Timeouts {
    /// The timeout of a call to `path` (`/package.Service/Method`): the
    /// server's, or its service's when that is longer.
    fn of(&self, path: &str) -> Duration {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        self.services
            .get(service)
            .map_or(self.default, |timeout| (*timeout).max(self.default))
    }
}

impl<S> tower_layer::Layer<S> for RpcLayer {
    type Service = RpcService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcService {
            inner,
            shutdown: self.shutdown.clone(),
            timeouts: self.timeouts.clone(),
        }
    }
}

#[derive(Clone)]
struct RpcService<S> {
    inner: S,
    shutdown: watch::Receiver<bool>,
    timeouts: Arc<Timeouts>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for RpcService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Default + Send + 'static,
{
    type Response = http::Response<RpcBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The path names the service and method only: no personal data, never the token.
        let span = tracing::info_span!(
            "rpc",
            method = %request.uri().path(),
            request_id = tracing::field::Empty,
            correlation_id = tracing::field::Empty,
        );
        request.extensions_mut().insert(RpcSpan(span.clone()));
        let started = Instant::now();
        let timeout = self.timeouts.of(request.uri().path());
        let call = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        let shutdown = self.shutdown.clone();
        let body_span = span.clone();
        Box::pin(
            async move {
                // Dropping the handler's future cancels it; work it handed to
                // a task of its own (a replay, an erasure) finishes there.
                let mut response = match tokio::time::timeout(timeout, call).await {
                    Ok(response) => response?,
                    Err(_) => {
                        tracing::warn!(
                            ?timeout,
                            "the handler did not answer within the request timeout"
                        );
                        tonic::Status::deadline_exceeded(format!(
                            "no answer within the server's request timeout ({timeout:?})"
                        ))
                        .into_http()
                    }
                };
                // A trailers-only reply (an error status) carries its code in the headers.
                rewrite_decode_status(response.headers_mut());
                let code = grpc_code(response.headers());
                let credential = response.extensions_mut().remove::<Credential>();
                Ok(response.map(|inner| RpcBody {
                    inner: Box::pin(inner),
                    shutdown: Some(shutdown),
                    shutdown_wait: None,
                    credential: credential.map(CredentialCheck::new),
                    span: body_span,
                    started,
                    code,
                    done: false,
                }))
            }
            .instrument(span),
        )
    }
}

/// The code in a `grpc-status` header, if any.
fn grpc_code(headers: &http::HeaderMap) -> Option<tonic::Code> {
    headers
        .get("grpc-status")
        .map(|value| tonic::Code::from_bytes(value.as_bytes()))
}

/// Start of the message of the INTERNAL status tonic's prost codec gives to
/// a message it cannot decode (`prost::DecodeError`'s display).
const PROST_DECODE_ERROR: &str = "failed to decode Protobuf message";
/// Messages of the INTERNAL statuses tonic gives to a request body that ends
/// before its message is whole, or holds none.
const TRUNCATED_REQUEST: [&str; 2] = [
    "Unexpected EOF decoding stream.",
    "Missing request message.",
];
/// Start of the message of the OUT_OF_RANGE status tonic gives to a message
/// over its decoding limit ("… found {len} bytes, the limit is: {limit} bytes").
const TOO_LARGE: &str = "Error, decoded message length too large: found ";

/// Rewrites, in a status carried by `headers` (a trailers-only reply or the
/// trailers of a body), the codes tonic gives to a request it cannot decode,
/// which the error contract (DESIGN.md §8) does not allow:
///
/// - INTERNAL for malformed protobuf, or a body cut short, becomes
///   INVALID_ARGUMENT (INTERNAL is for bugs and storage failures);
/// - OUT_OF_RANGE for a message over the size limit becomes
///   RESOURCE_EXHAUSTED, and its message names the size and the limit.
///
/// Handlers never produce these messages (their INTERNAL says only
/// "internal error"), so other statuses pass unchanged. The message of an
/// INTERNAL status about compression flags is left alone: gRPC requires it.
fn rewrite_decode_status(headers: &mut http::HeaderMap) {
    let Some(code) = grpc_code(headers) else {
        return;
    };
    if !matches!(code, tonic::Code::Internal | tonic::Code::OutOfRange) {
        return;
    }
    let Some(status) = tonic::Status::from_header_map(headers) else {
        return;
    };
    let message = status.message();
    let replacement = match code {
        tonic::Code::Internal
            if message.starts_with(PROST_DECODE_ERROR) || TRUNCATED_REQUEST.contains(&message) =>
        {
            crate::error::french_status(
                tonic::Code::InvalidArgument,
                format!("malformed request message: {message}"),
                "La demande est mal formée (message protobuf illisible) : \
                 vérifiez la version du client.",
            )
        }
        tonic::Code::OutOfRange => match too_large(message) {
            Some((size, limit)) => crate::error::french_status(
                tonic::Code::ResourceExhausted,
                format!("request message is {size} bytes, over the {limit}-byte limit"),
                format!(
                    "La demande fait {size} octets, au-delà de la limite de {limit} octets : \
                     envoyez-en moins à la fois."
                ),
            ),
            None => return,
        },
        _ => return,
    };
    headers.remove("grpc-message");
    headers.remove("grpc-status-details-bin");
    // Invariant: the new message is built from ASCII digits and tonic's own
    // (percent-encoded when sent) text, so it always encodes into headers.
    let _ = replacement.add_header(headers);
}

/// The size and the limit in tonic's "message too large" text.
fn too_large(message: &str) -> Option<(u64, u64)> {
    let rest = message.strip_prefix(TOO_LARGE)?;
    let (size, rest) = rest.split_once(" bytes, the limit is: ")?;
    let limit = rest.strip_suffix(" bytes")?;
    Some((size.parse().ok()?, limit.parse().ok()?))
}

/// How often an open response stream checks that its token is still valid
/// (not revoked, not expired).
pub const CREDENTIAL_CHECK_PERIOD: Duration = Duration::from_secs(1);

/// The token of an open response stream, checked again every
/// [`CREDENTIAL_CHECK_PERIOD`], whether the stream is sending or waiting.
struct CredentialCheck {
    credential: Credential,
    /// When to check next.
    next: tokio::time::Instant,
    /// Wakes a waiting stream at `next` (made the first time it waits: a
    /// unary reply never waits, and needs no timer).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl CredentialCheck {
    fn new(credential: Credential) -> Self {
        Self {
            credential,
            next: tokio::time::Instant::now() + CREDENTIAL_CHECK_PERIOD,
            timer: None,
        }
    }

    /// The refusal if a check is due and the token is no longer valid.
    fn due(&mut self) -> Option<tonic::Status> {
        let now = tokio::time::Instant::now();
        if now < self.next {
            return None;
        }
        self.next = now + CREDENTIAL_CHECK_PERIOD;
        if let Some(timer) = &mut self.timer {
            timer.as_mut().reset(self.next);
        }
        self.credential.check().err()
    }

    /// Ready with the refusal once a check, when due, finds the token no
    /// longer valid; wakes the waiting stream for each check.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<tonic::Status> {
        loop {
            if let Some(status) = self.due() {
                return Poll::Ready(status);
            }
            let next = self.next;
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next)));
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

/// A response body that ends with UNAVAILABLE when the server shuts down
/// while it waits for more (a live subscription), with UNAUTHENTICATED once
/// its token is revoked or expired, and logs the RPC's outcome when it is
/// done or dropped (client gone).
struct RpcBody<B> {
    inner: Pin<Box<B>>,
    shutdown: Option<watch::Receiver<bool>>,
    shutdown_wait: Option<BoxFuture<()>>,
    credential: Option<CredentialCheck>,
    span: tracing::Span,
    started: Instant,
    code: Option<tonic::Code>,
    done: bool,
}

impl<B> RpcBody<B> {
    /// Ends the stream with `status`, a refusal of its token, in its trailers.
    fn end_refused<E>(&mut self, status: tonic::Status) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        tracing::info!(
            message = status.message(),
            "stream ended: its token is no longer valid"
        );
        self.end_with(status)
    }

    /// Ends the stream with `status` in its trailers.
    fn end_with<E>(&mut self, status: tonic::Status) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        self.done = true;
        self.code = Some(status.code());
        let mut trailers = http::HeaderMap::new();
        // Invariant: our messages are ASCII and always encode into headers.
        let _ = status.add_header(&mut trailers);
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    /// Ready once the server is shutting down.
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.shutdown_wait.is_none() {
            let Some(mut shutdown) = self.shutdown.take() else {
                return Poll::Pending;
            };
            self.shutdown_wait = Some(Box::pin(async move {
                // An error means the server is gone: that is a shutdown too.
                let _ = shutdown.wait_for(|stopping| *stopping).await;
            }));
        }
        match &mut self.shutdown_wait {
            Some(wait) => wait.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<B> http_body::Body for RpcBody<B>
where
    B: http_body::Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let span = this.span.clone();
        let _entered = span.enter();
        // Checked before sending more too: a stream kept busy by a long
        // catch-up never waits.
        if let Some(status) = this.credential.as_mut().and_then(CredentialCheck::due) {
            return this.end_refused(status);
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) => {
                if let Some(trailers) = frame.trailers_mut() {
                    rewrite_decode_status(trailers);
                    this.code = grpc_code(trailers).or(this.code);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.done = true;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => {
                if this.poll_shutdown(cx).is_ready() {
                    return this
                        .end_with(tonic::Status::unavailable("the server is shutting down"));
                }
                match this.credential.as_mut().map(|check| check.poll(cx)) {
                    Some(Poll::Ready(status)) => this.end_refused(status),
                    _ => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for RpcBody<B> {
    fn drop(&mut self) {
        let _entered = self.span.enter();
        let elapsed = self.started.elapsed();
        match self.code {
            Some(code) => tracing::info!(code = ?code, ?elapsed, "rpc finished"),
            None => tracing::info!(?elapsed, "rpc ended without a status (client gone)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_codes_parse() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(grpc_code(&headers), None);
        headers.insert("grpc-status", http::HeaderValue::from_static("16"));
        assert_eq!(grpc_code(&headers), Some(tonic::Code::Unauthenticated));
    }

    fn rewritten(status: tonic::Status) -> tonic::Status {
        let mut headers = http::HeaderMap::new();
        status.add_header(&mut headers).unwrap();
        rewrite_decode_status(&mut headers);
        tonic::Status::from_header_map(&headers).unwrap()
    }

    #[test]
    fn decode_failures_are_rewritten_and_nothing_else() {
        let malformed = rewritten(tonic::Status::internal(
            "failed to decode Protobuf message: invalid wire type value: 7",
        ));
        assert_eq!(malformed.code(), tonic::Code::InvalidArgument);
        assert!(
            malformed.message().contains("invalid wire type"),
            "{malformed:?}"
        );

        let large = rewritten(tonic::Status::out_of_range(
            "Error, decoded message length too large: found 5000000 bytes, the limit is: 4194304 bytes",
        ));
        assert_eq!(large.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            large.message(),
            "request message is 5000000 bytes, over the 4194304-byte limit"
        );

        for kept in [
            tonic::Status::internal("internal error"),
            tonic::Status::out_of_range("page 9 is past the end"),
            tonic::Status::not_found("stakeholder x not found"),
        ] {
            let after = rewritten(kept.clone());
            assert_eq!(after.code(), kept.code());
            assert_eq!(after.message(), kept.message());
        }
    }
}
