//! The relay: each command service's log, published to JetStream in order.
//!
//! The log *is* the outbox. A [`Relay`] runs in its own task: it subscribes
//! to its service's [`EventStore`] from its checkpoint + 1 (catch-up, then
//! live), publishes every record to `maillage.events.<context>.<category>.<EventType>`
//! (payload: the protobuf [`EventEnvelope`](maillage_proto::v1::EventEnvelope),
//! headers: see [`crate::headers`]) in log order, keeps at most
//! [`RelayConfig::max_in_flight`] publishes unacknowledged, and awaits their
//! acks in order.
//!
//! **Checkpoint.** The last position whose ack, and every earlier one, arrived.
//! It lives in the service's own sled database, tree [`CHECKPOINT_TREE`], key =
//! the context name, value = the position as 8 big-endian bytes. It is kept in
//! memory, written and flushed every [`RelayConfig::checkpoint_interval`], after
//! every interruption and on shutdown. Losing a little progress in a crash only
//! makes the relay publish some events again; JetStream drops them by
//! `Nats-Msg-Id` within its duplicate window, and consumers skip positions
//! they already applied.
//!
//! **NATS away.** Any failure (no connection, a publish refused or not acked in
//! [`RelayConfig::ack_timeout`], a log read error) ends the current pass: the
//! relay saves its checkpoint, waits (exponential back-off from
//! [`RelayConfig::backoff_min`] to [`RelayConfig::backoff_max`]), and starts
//! again from checkpoint + 1 on a connection that the NATS client re-establishes
//! on its own. Appends to the log never wait for the relay: the service's
//! commands succeed whether NATS is up or not.
//!
//! **Order.** Each pass publishes in log order. After an interruption, a publish
//! sent before the failure may still reach the server after an earlier event
//! that is republished, so the stream can hold one context's events out of
//! position order around a failure (never with a missing one once the relay
//! has caught up). [`JetStreamFeed`](crate::JetStreamFeed) puts them back in
//! order per context; see [`crate::feed`].
//!
//! **Lag.** [`Relay::lag`] = log head − checkpoint; [`Relay::status`] is a
//! `watch` of [`RelayStatus`]. The relay logs its lag every
//! [`RelayConfig::lag_log_interval`] (never payloads).
//!
//! ```no_run
//! # async fn demo(dir: &std::path::Path) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use maillage_bus::{Relay, RelayConfig};
//! use maillage_eventstore::{EventStore, SledEngine, SledOptions, StoreOptions};
//! use tokio_util::sync::CancellationToken;
//!
//! let engine = SledEngine::open(dir, &SledOptions::default())?;
//! let db = engine.db().clone();
//! let store = EventStore::with_engine(Arc::new(engine), StoreOptions::default())?;
//! let shutdown = CancellationToken::new();
//! let relay = Relay::spawn(
//!     store.clone(),
//!     &db,
//!     RelayConfig::new("stakeholders", "nats://127.0.0.1:4222"),
//!     shutdown.child_token(),
//! )?;
//! // ... serve commands; export relay.lag() as a metric ...
//! relay.shutdown().await?; // saves and flushes the checkpoint
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use crate::NatsConfig;
use async_nats::jetstream::{self, context::PublishError, publish::PublishAck};
use bytes::Bytes;
use futures::future::BoxFuture;
use maillage_eventstore::{EventStore, RecordedEvent, StoreError, SubscriptionFilter};
use prost::Message as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::subjects::{self, SubjectError};

/// The sled tree of the relay's checkpoints (one key per context).
pub const CHECKPOINT_TREE: &str = "relay.checkpoint";

/// How a relay is set up; [`RelayConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The context whose log this is: `stakeholders`, `engagement` or `governance`.
    pub context: String,
    /// The NATS servers (comma-separated URLs), credentials and TLS.
    pub nats: NatsConfig,
    /// Most publishes awaiting their ack at once (default 256).
    pub max_in_flight: usize,
    /// How long a publish may wait for its ack (default 5 s).
    pub ack_timeout: Duration,
    /// How often the checkpoint is written and flushed while it moves (default 1 s).
    pub checkpoint_interval: Duration,
    /// How often the lag is logged (default 30 s).
    pub lag_log_interval: Duration,
    /// First delay after a failure (default 100 ms); it doubles on each failure.
    pub backoff_min: Duration,
    /// Longest delay between attempts (default 5 s).
    pub backoff_max: Duration,
    /// Replicas of `MAILLAGE_EVENTS` if the relay has to create it (1; 3 on a cluster).
    pub stream_replicas: usize,
}

impl RelayConfig {
    /// The defaults for the log of `context`, publishing to the servers of
    /// `nats` (a URL list alone converts: no credentials, no TLS).
    pub fn new(context: impl Into<String>, nats: impl Into<NatsConfig>) -> Self {
        Self {
            context: context.into(),
            nats: nats.into(),
            max_in_flight: 256,
            ack_timeout: Duration::from_secs(5),
            checkpoint_interval: Duration::from_secs(1),
            lag_log_interval: Duration::from_secs(30),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            stream_replicas: 1,
        }
    }
}

/// Where the relay stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayStatus {
    /// The last position published and acknowledged, with every earlier one.
    pub checkpoint: u64,
    /// Whether a pass is running: NATS answered when it started, and nothing
    /// has failed since (an idle relay notices an outage at its next publish).
    pub connected: bool,
    /// Acks received since the relay started (duplicates included).
    pub acked: u64,
    /// Of those, how many JetStream reported as duplicates (republished events).
    pub duplicates: u64,
    /// Interruptions since the relay started.
    pub interruptions: u64,
    /// The last failure, if the relay has had one (no payloads in it).
    pub last_error: Option<String>,
}

/// Why a relay could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The context is not a valid subject token.
    #[error(transparent)]
    Subject(#[from] SubjectError),
    /// The checkpoint could not be read or written.
    #[error("relay checkpoint: {0}")]
    Checkpoint(#[from] sled::Error),
    /// The checkpoint holds something that is not a position.
    #[error("relay checkpoint of {context} is corrupt ({len} bytes)")]
    CorruptCheckpoint {
        /// The context.
        context: String,
        /// The stored value's length.
        len: usize,
    },
    /// The relay's task panicked or was aborted.
    #[error("relay task failed: {0}")]
    Task(String),
}

/// The checkpoint of `context` stored in `db` (0 if it has never published).
pub fn read_checkpoint(db: &sled::Db, context: &str) -> Result<u64, RelayError> {
    let tree = db.open_tree(CHECKPOINT_TREE)?;
    read_from(&tree, context)
}

/// Sets the checkpoint of `context` in `db` to `position`, flushed. For a
/// log restored from the stream ([`crate::restore()`]): the stream already
/// holds every event up to the restored head, so the relay starts after it.
pub fn write_checkpoint(db: &sled::Db, context: &str, position: u64) -> Result<(), RelayError> {
    let tree = db.open_tree(CHECKPOINT_TREE)?;
    tree.insert(context.as_bytes(), &position.to_be_bytes())?;
    tree.flush()?;
    Ok(())
}

fn read_from(tree: &sled::Tree, context: &str) -> Result<u64, RelayError> {
    match tree.get(context.as_bytes())? {
        None => Ok(0),
        Some(bytes) => {
            let array: [u8; 8] =
                bytes
                    .as_ref()
                    .try_into()
                    .map_err(|_| RelayError::CorruptCheckpoint {
                        context: context.to_owned(),
                        len: bytes.len(),
                    })?;
            Ok(u64::from_be_bytes(array))
        }
    }
}

/// A running relay; see the module docs.
pub struct Relay {
    store: EventStore,
    status: watch::Receiver<RelayStatus>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), RelayError>>,
}

impl Relay {
    /// Starts relaying `store` (the log of `config.context`), with its
    /// checkpoint in `db` (the service's sled database). Stops when `shutdown`
    /// is cancelled or [`Relay::shutdown`] is called, or once the store is closed.
    ///
    /// Needs a Tokio runtime. Never waits for NATS: connecting happens in the task.
    pub fn spawn(
        store: EventStore,
        db: &sled::Db,
        config: RelayConfig,
        shutdown: CancellationToken,
    ) -> Result<Self, RelayError> {
        subjects::context_filter(&config.context)?;
        let tree = db.open_tree(CHECKPOINT_TREE)?;
        let checkpoint = read_from(&tree, &config.context)?;
        let head = store.head().position;
        if checkpoint > head {
            tracing::warn!(
                context = %config.context,
                checkpoint,
                head,
                "relay checkpoint is past the log head; waiting for the log to reach it"
            );
        }
        let (status_tx, status) = watch::channel(RelayStatus {
            checkpoint,
            ..RelayStatus::default()
        });
        let stop = shutdown.child_token();
        let worker = Worker {
            store: store.clone(),
            db: db.clone(),
            tree,
            backoff: Backoff::new(config.backoff_min, config.backoff_max),
            config,
            status: status_tx,
            stop: stop.clone(),
            checkpoint,
            saved: checkpoint,
            client: None,
        };
        let task = tokio::spawn(worker.run());
        Ok(Self {
            store,
            status,
            stop,
            task,
        })
    }

    /// A `watch` of the relay's status (checkpoint, connection, counters).
    pub fn status(&self) -> watch::Receiver<RelayStatus> {
        self.status.clone()
    }

    /// The last position published and acknowledged with every earlier one.
    pub fn checkpoint(&self) -> u64 {
        self.status.borrow().checkpoint
    }

    /// Events in the log not yet acknowledged by JetStream: head − checkpoint.
    pub fn lag(&self) -> u64 {
        self.store.head().position.saturating_sub(self.checkpoint())
    }

    /// Waits until the checkpoint reaches `position`, for at most `timeout`;
    /// returns whether it did.
    pub async fn wait_for_checkpoint(&self, position: u64, timeout: Duration) -> bool {
        let mut status = self.status.clone();
        tokio::time::timeout(timeout, status.wait_for(|s| s.checkpoint >= position))
            .await
            .is_ok_and(|result| result.is_ok())
    }

    /// Stops the relay: lets the acks in flight arrive (each within the ack
    /// timeout), then saves and flushes the checkpoint.
    pub async fn shutdown(self) -> Result<(), RelayError> {
        self.stop.cancel();
        self.task
            .await
            .map_err(|error| RelayError::Task(error.to_string()))?
    }
}

/// Why a pass ended.
enum End {
    /// Asked to stop.
    Stopped,
    /// The log was closed (the service is shutting down).
    StoreClosed,
}

/// Why a pass failed (the relay backs off and starts another).
#[derive(Debug, thiserror::Error)]
enum PassError {
    #[error(transparent)]
    Connect(#[from] crate::ConnectError),
    #[error(transparent)]
    Stream(#[from] SubjectError),
    #[error("publish of position {position} failed: {source}")]
    Publish { position: u64, source: PublishError },
    #[error("reading the log: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Checkpoint(#[from] RelayError),
}

type AckFuture = BoxFuture<'static, Result<PublishAck, PublishError>>;

struct Worker {
    store: EventStore,
    db: sled::Db,
    tree: sled::Tree,
    config: RelayConfig,
    backoff: Backoff,
    status: watch::Sender<RelayStatus>,
    stop: CancellationToken,
    /// In memory; written to `tree` by `save`.
    checkpoint: u64,
    /// The value last written.
    saved: u64,
    /// Kept across passes: the NATS client reconnects by itself.
    client: Option<async_nats::Client>,
}

impl Worker {
    async fn run(mut self) -> Result<(), RelayError> {
        let context = self.config.context.clone();
        tracing::info!(%context, checkpoint = self.checkpoint, "relay started");
        loop {
            match self.pass().await {
                Ok(End::Stopped) => break,
                Ok(End::StoreClosed) => {
                    tracing::info!(%context, "log closed; relay stopping");
                    break;
                }
                Err(error) => {
                    let delay = self.backoff.next_delay();
                    tracing::warn!(
                        %context,
                        checkpoint = self.checkpoint,
                        lag = self.store.head().position.saturating_sub(self.checkpoint),
                        retry_in_ms = delay.as_millis() as u64,
                        %error,
                        "relay interrupted"
                    );
                    self.status.send_modify(|status| {
                        status.connected = false;
                        status.interruptions += 1;
                        status.last_error = Some(error.to_string());
                    });
                    if let Err(error) = self.save().await {
                        tracing::error!(%context, %error, "cannot save the relay checkpoint");
                    }
                    tokio::select! {
                        () = self.stop.cancelled() => break,
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        self.status.send_modify(|status| status.connected = false);
        self.save().await?;
        tracing::info!(%context, checkpoint = self.checkpoint, "relay stopped");
        Ok(())
    }

    /// One pass: connect if needed, make sure the stream exists, then publish
    /// from checkpoint + 1 until stopped or a failure.
    async fn pass(&mut self) -> Result<End, PassError> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => {
                let name = format!("maillage-relay-{}", self.config.context);
                let client = tokio::select! {
                    () = self.stop.cancelled() => return Ok(End::Stopped),
                    client = crate::connect(&self.config.nats, &name) => client?,
                };
                self.client = Some(client.clone());
                client
            }
        };
        let window = self.config.max_in_flight.max(1);
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(self.config.ack_timeout)
            .max_ack_inflight(window)
            .build(client);
        tokio::select! {
            () = self.stop.cancelled() => return Ok(End::Stopped),
            stream = subjects::ensure_stream(&jetstream, self.config.stream_replicas) => { stream?; }
        }
        self.status.send_modify(|status| status.connected = true);

        let mut log = self
            .store
            .subscribe(self.checkpoint + 1, SubscriptionFilter::All);
        let mut in_flight: VecDeque<(u64, AckFuture)> = VecDeque::with_capacity(window);
        let mut save_tick = tokio::time::interval(self.config.checkpoint_interval);
        save_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lag_tick = tokio::time::interval(self.config.lag_log_interval);
        lag_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut log_closed = false;
        loop {
            if log_closed && in_flight.is_empty() {
                return Ok(End::StoreClosed);
            }
            tokio::select! {
                biased;
                () = self.stop.cancelled() => {
                    self.drain(&mut in_flight).await;
                    return Ok(End::Stopped);
                }
                ack = async {
                    match in_flight.front_mut() {
                        Some((_, ack)) => ack.await,
                        // Unreachable: the branch is disabled when nothing is in flight.
                        None => std::future::pending().await,
                    }
                }, if !in_flight.is_empty() => {
                    let (position, _) = in_flight
                        .pop_front()
                        .ok_or_else(|| RelayError::Task("ack without a publish".into()))?;
                    match ack {
                        Ok(ack) => self.acked(position, ack.duplicate),
                        Err(source) => return Err(PassError::Publish { position, source }),
                    }
                }
                record = log.next(), if !log_closed && in_flight.len() < window => {
                    match record {
                        None => log_closed = true,
                        Some(Err(error)) => return Err(error.into()),
                        Some(Ok(record)) => {
                            let ack = self.publish(&jetstream, &record).await?;
                            in_flight.push_back((record.position, ack));
                        }
                    }
                }
                _ = save_tick.tick() => self.save().await?,
                _ = lag_tick.tick() => self.log_lag(),
            }
        }
    }

    /// Publishes one record and returns its ack future.
    async fn publish(
        &self,
        jetstream: &jetstream::Context,
        record: &RecordedEvent,
    ) -> Result<AckFuture, PassError> {
        let context = &self.config.context;
        let subject = subjects::event_subject(context, record)?;
        let envelope = maillage_envelope::to_envelope(context, record);
        let payload = Bytes::from(envelope.encode_to_vec());
        let headers = crate::headers::event_headers(context, record);
        let ack = jetstream
            .publish_with_headers(subject, headers, payload)
            .await
            .map_err(|source| PassError::Publish {
                position: record.position,
                source,
            })?;
        Ok(Box::pin(std::future::IntoFuture::into_future(ack)))
    }

    /// Records an ack, in order.
    fn acked(&mut self, position: u64, duplicate: bool) {
        self.checkpoint = position;
        self.backoff.reset();
        self.status.send_modify(|status| {
            status.checkpoint = position;
            status.acked += 1;
            if duplicate {
                status.duplicates += 1;
            }
        });
    }

    /// On shutdown: takes the acks of what is in flight, in order, stopping at
    /// the first failure (those events will be published again next time).
    async fn drain(&mut self, in_flight: &mut VecDeque<(u64, AckFuture)>) {
        while let Some((position, ack)) = in_flight.pop_front() {
            match ack.await {
                Ok(ack) => self.acked(position, ack.duplicate),
                Err(error) => {
                    tracing::debug!(
                        context = %self.config.context,
                        position,
                        %error,
                        "ack lost at shutdown; the event will be republished"
                    );
                    break;
                }
            }
        }
    }

    /// Writes and flushes the checkpoint if it moved.
    async fn save(&mut self) -> Result<(), RelayError> {
        if self.checkpoint == self.saved {
            return Ok(());
        }
        self.tree.insert(
            self.config.context.as_bytes(),
            &self.checkpoint.to_be_bytes(),
        )?;
        self.db.flush_async().await?;
        self.saved = self.checkpoint;
        Ok(())
    }

    fn log_lag(&self) {
        let head = self.store.head().position;
        let lag = head.saturating_sub(self.checkpoint);
        if lag > 0 {
            tracing::info!(context = %self.config.context, checkpoint = self.checkpoint, head, lag, "relay lag");
        } else {
            tracing::debug!(context = %self.config.context, checkpoint = self.checkpoint, head, lag, "relay lag");
        }
    }
}

/// Runs `serve` (a service's server) with, when `nats` names NATS servers, a
/// relay publishing `store`'s events as `context`; once `serve` ends, stops
/// the relay, which saves its checkpoint. Without servers, just runs `serve`.
pub async fn with_relay<T>(
    store: &EventStore,
    db: &sled::Db,
    context: &str,
    nats: &NatsConfig,
    serve: impl std::future::Future<Output = T>,
) -> Result<T, RelayError> {
    if nats.servers().is_none() {
        return Ok(serve.await);
    }
    let relay = Relay::spawn(
        store.clone(),
        db,
        RelayConfig::new(context, nats.clone()),
        CancellationToken::new(),
    )?;
    let output = serve.await;
    relay.shutdown().await?;
    Ok(output)
}
