//! Shared helpers of the bus tests: real sled stores in temp dirs, appends,
//! relays with short back-offs, reading the JetStream stream back, and a fake
//! projection that folds a feed.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use async_nats::jetstream;
use maillage_bus::{Checkpoints, Feed, Relay, RelayConfig, STREAM_NAME};
use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, SledEngine, SledOptions, StoreOptions,
};
use tokio_util::sync::CancellationToken;

/// Upper bound of every wait on a condition (not a performance threshold).
pub const PATIENCE: Duration = Duration::from_secs(90);

/// The event types the tests append, by protobuf full name.
pub const TYPES: [&str; 3] = [
    "maillage.v1.PersonRegistered",
    "maillage.v1.OrganisationRegistered",
    "maillage.v1.InteractionLogged",
];

/// A command service's log in a temp dir, with the sled db it shares.
pub struct Log {
    pub store: EventStore,
    pub db: sled::Db,
    pub context: String,
    _dir: tempfile::TempDir,
}

impl Log {
    pub fn open(context: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (store, db) = open_at(dir.path())?;
        Ok(Self {
            store,
            db,
            context: context.to_owned(),
            _dir: dir,
        })
    }

    /// Appends `count` events, one per append, over a few streams of two
    /// categories, cycling through [`TYPES`]; returns the last position.
    pub async fn append(&self, count: usize) -> anyhow::Result<u64> {
        let mut last = self.store.head().position;
        for _ in 0..count {
            let n = last as usize;
            let category = if n % 2 == 1 {
                "organisation"
            } else {
                "stakeholder"
            };
            let stream = format!("{category}-{}", n % 5);
            let event = EventData {
                event_id: uuid::Uuid::now_v7(),
                event_type: TYPES[n % TYPES.len()].to_owned(),
                payload: format!("payload {n}").into_bytes(),
                metadata: EventMetadata {
                    actor: "facilitator".into(),
                    request_id: format!("req-{n}"),
                    correlation_id: uuid::Uuid::now_v7().to_string(),
                    causation_id: format!("req-{n}"),
                },
            };
            let result = self
                .store
                .append(&stream, ExpectedVersion::Any, vec![event])
                .await
                .context("append")?;
            last = result.last_position;
        }
        Ok(last)
    }
}

/// Opens a store and its shared sled db in `dir`.
pub fn open_at(dir: &std::path::Path) -> anyhow::Result<(EventStore, sled::Db)> {
    let engine = SledEngine::open(dir, &SledOptions::default())?;
    let db = engine.db().clone();
    let store = EventStore::with_engine(Arc::new(engine), StoreOptions::default())?;
    Ok((store, db))
}

/// A relay config for tests: short back-offs so outages resolve quickly.
pub fn relay_config(context: &str, url: &str) -> RelayConfig {
    let mut config = RelayConfig::new(context, url);
    config.backoff_min = Duration::from_millis(50);
    config.backoff_max = Duration::from_millis(500);
    config.ack_timeout = Duration::from_secs(2);
    config.checkpoint_interval = Duration::from_millis(100);
    config
}

pub fn spawn_relay(log: &Log, url: &str) -> anyhow::Result<Relay> {
    Ok(Relay::spawn(
        log.store.clone(),
        &log.db,
        relay_config(&log.context, url),
        CancellationToken::new(),
    )?)
}

pub async fn wait_checkpoint(relay: &Relay, position: u64) -> anyhow::Result<()> {
    if !relay.wait_for_checkpoint(position, PATIENCE).await {
        bail!(
            "relay checkpoint stuck at {} (wanted {position}); status {:?}",
            relay.checkpoint(),
            *relay.status().borrow()
        );
    }
    Ok(())
}

/// Every message of `MAILLAGE_EVENTS`, in stream order.
pub async fn stream_messages(url: &str) -> anyhow::Result<Vec<jetstream::message::StreamMessage>> {
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client);
    let stream = js.get_stream(STREAM_NAME).await?;
    let info = stream.get_info().await?;
    let mut messages = Vec::new();
    if info.state.messages == 0 {
        return Ok(messages);
    }
    for sequence in info.state.first_sequence..=info.state.last_sequence {
        messages.push(stream.get_raw_message(sequence).await?);
    }
    Ok(messages)
}

pub fn header<'a>(message: &'a jetstream::message::StreamMessage, name: &str) -> Option<&'a str> {
    message.headers.get(name).map(|value| value.as_str())
}

/// A fake projection: counts per event type and the last position (and its
/// hash) per context.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fold {
    pub counts: BTreeMap<String, u64>,
    pub checkpoints: Checkpoints,
    /// Every applied (context, position), in application order.
    pub applied: Vec<(String, u64)>,
    /// The hash of each applied event, in application order.
    pub hashes: Vec<[u8; 32]>,
    /// Deliveries skipped as already applied.
    pub skipped: u64,
}

impl Fold {
    pub fn starting_at(checkpoints: Checkpoints) -> Self {
        Self {
            checkpoints,
            ..Self::default()
        }
    }

    /// Folds deliveries until every context of `target` reaches its position.
    /// Asserts the feed contract: per context, positions come dense and in order.
    pub async fn consume_until(
        &mut self,
        feed: &mut dyn Feed,
        target: &Checkpoints,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while target
            .iter()
            .any(|(context, position)| self.checkpoints.get(context) < position)
        {
            let delivery = tokio::time::timeout_at(deadline, feed.next())
                .await
                .with_context(|| format!("feed stalled at {:?}", self.checkpoints))??;
            let context = delivery.context().to_owned();
            let position = delivery.position();
            if self.checkpoints.is_applied(&context, position) {
                self.skipped += 1;
            } else {
                let last = self.checkpoints.get(&context);
                if position != last + 1 {
                    bail!("{context}: got position {position} after {last}");
                }
                *self
                    .counts
                    .entry(delivery.envelope.event_type.clone())
                    .or_default() += 1;
                let hash = delivery.envelope.hash.as_slice().try_into()?;
                self.checkpoints.record_event(&context, position, hash);
                self.applied.push((context, position));
                self.hashes.push(hash);
            }
            delivery.ack().await?;
        }
        Ok(())
    }

    /// Fails unless every event applied from `log` is the one the log holds.
    pub fn assert_genuine(&self, log: &Log) -> anyhow::Result<()> {
        for ((context, position), hash) in self.applied.iter().zip(&self.hashes) {
            if *context == log.context {
                let record = log.store.read_all(*position, 1)?.remove(0);
                if record.hash != *hash {
                    bail!("{context} position {position}: applied an event the log does not hold");
                }
            }
        }
        Ok(())
    }

    /// Everything but the application order (which differs between feeds).
    pub fn result(&self) -> (BTreeMap<String, u64>, Checkpoints) {
        (self.counts.clone(), self.checkpoints.clone())
    }
}

/// The checkpoints `{context: head}` of these logs, with the heads' hashes.
pub fn heads(logs: &[&Log]) -> Checkpoints {
    logs.iter()
        .map(|log| {
            let head = log.store.head();
            (log.context.clone(), head.position, head.hash)
        })
        .collect()
}
