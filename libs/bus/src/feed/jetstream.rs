//! The JetStream feed: a durable pull consumer on `MAILLAGE_EVENTS`.
//!
//! The consumer is durable (its name is [`JetStreamFeedConfig::durable_name`];
//! JetStream remembers what it acked), delivers everything from the start of
//! the stream (`deliver_all`) under `maillage.events.>`, in stream order, and
//! wants an explicit ack per message, sent by [`Delivery::ack`](super::Delivery::ack)
//! after the consumer's commit. The feed puts each context back in position
//! order and drops duplicates, as the [module docs](super) explain.
//!
//! Connection trouble is never an error for the caller: the feed logs it,
//! backs off (exponential, capped), reconnects, looks the consumer up again
//! and goes on; unacked messages come again and are handled like any other.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, AckKind};
use futures::future::BoxFuture;
use futures::StreamExt;
use maillage_proto::v1::EventEnvelope;
use prost::Message as _;

use super::{lock, AckHandle, Checkpoints, Delivery, Feed, FeedError};
use crate::backoff::Backoff;
use crate::subjects;

/// How a [`JetStreamFeed`] is set up; [`JetStreamFeedConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct JetStreamFeedConfig {
    /// NATS server URLs, comma-separated.
    pub servers: String,
    /// The durable consumer's name (one per projection; letters, digits, `-`, `_`).
    pub durable_name: String,
    /// How long JetStream waits for an ack before delivering again (default 60 s).
    pub ack_wait: Duration,
    /// Most unacked messages JetStream hands out (default 20,000). Must exceed
    /// [`JetStreamFeedConfig::max_held`] plus what the consumer keeps unacked,
    /// or a held context could starve the feed.
    pub max_ack_pending: i64,
    /// Most events held for one context while an earlier one is missing
    /// (default 10,000); beyond it, [`Feed::next`] fails with [`FeedError::Gap`].
    pub max_held: usize,
    /// Messages asked for per pull request (default 256).
    pub batch: usize,
    /// First delay after a connection failure (default 100 ms).
    pub backoff_min: Duration,
    /// Longest delay between attempts (default 5 s).
    pub backoff_max: Duration,
    /// Replicas of `MAILLAGE_EVENTS` if the feed has to create it (1; 3 on a cluster).
    pub stream_replicas: usize,
    /// The subjects the consumer takes (default every event, `maillage.events.>`;
    /// `subjects::context_filter` gives one context's).
    pub filter_subject: String,
}

impl JetStreamFeedConfig {
    /// The defaults for the durable consumer `durable_name` on `servers`.
    pub fn new(servers: impl Into<String>, durable_name: impl Into<String>) -> Self {
        Self {
            servers: servers.into(),
            durable_name: durable_name.into(),
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 20_000,
            max_held: 10_000,
            batch: 256,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            stream_replicas: 1,
            filter_subject: subjects::ALL_EVENTS.to_owned(),
        }
    }

    /// The durable pull consumer's configuration.
    pub fn consumer_config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.durable_name.clone()),
            description: Some("Maillage projection".into()),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            filter_subject: self.filter_subject.clone(),
            max_ack_pending: self.max_ack_pending,
            ..Default::default()
        }
    }
}

/// A durable JetStream pull consumer as a [`Feed`]; see the module docs.
pub struct JetStreamFeed {
    config: JetStreamFeedConfig,
    client: Option<async_nats::Client>,
    messages: Option<pull::Stream>,
    /// Next position to deliver, per context seen so far.
    expected: HashMap<String, u64>,
    /// Events ahead of `expected`, per context, waiting for the missing ones.
    held: HashMap<String, BTreeMap<u64, (EventEnvelope, jetstream::Message)>>,
    /// The consumer's starting checkpoints, then every position it acked.
    acked: Arc<Mutex<Checkpoints>>,
    backoff: Backoff,
}

impl JetStreamFeed {
    /// A feed that delivers each context from `checkpoints.get(context) + 1`.
    /// Connects lazily, in [`Feed::next`]: NATS may be down when it is made.
    pub fn new(config: JetStreamFeedConfig, checkpoints: &Checkpoints) -> Result<Self, FeedError> {
        let name = &config.durable_name;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(FeedError::Config(format!(
                "durable name {name:?} must be letters, digits, '-' or '_'"
            )));
        }
        let backoff = Backoff::new(config.backoff_min, config.backoff_max);
        Ok(Self {
            config,
            client: None,
            messages: None,
            expected: HashMap::new(),
            held: HashMap::new(),
            acked: Arc::new(Mutex::new(checkpoints.clone())),
            backoff,
        })
    }

    async fn next_delivery(&mut self) -> Result<Delivery, FeedError> {
        loop {
            if let Some(delivery) = self.take_held() {
                return Ok(delivery);
            }
            let Some(messages) = self.messages.as_mut() else {
                if let Err(error) = self.open().await {
                    self.pause("cannot open the JetStream consumer", &error)
                        .await;
                }
                continue;
            };
            match messages.next().await {
                Some(Ok(message)) => {
                    self.backoff.reset();
                    if let Some(delivery) = self.accept(message).await? {
                        return Ok(delivery);
                    }
                }
                Some(Err(error)) => {
                    self.messages = None;
                    self.pause("JetStream consumer interrupted", &error.to_string())
                        .await;
                }
                None => {
                    self.messages = None;
                    self.pause("JetStream consumer ended", "no more messages")
                        .await;
                }
            }
        }
    }

    /// Logs a failure and waits before the next attempt.
    async fn pause(&mut self, what: &str, error: &str) {
        let delay = self.backoff.next_delay();
        tracing::warn!(
            durable = %self.config.durable_name,
            retry_in_ms = delay.as_millis() as u64,
            error,
            "{what}"
        );
        tokio::time::sleep(delay).await;
    }

    /// Connects (once; the client reconnects by itself), makes sure the stream
    /// and the durable consumer exist, and starts pulling.
    async fn open(&mut self) -> Result<(), String> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => {
                let name = format!("maillage-feed-{}", self.config.durable_name);
                let client = crate::connect(&self.config.servers, &name)
                    .await
                    .map_err(|error| error.to_string())?;
                self.client = Some(client.clone());
                client
            }
        };
        let jetstream = jetstream::new(client);
        let stream = subjects::ensure_stream(&jetstream, self.config.stream_replicas)
            .await
            .map_err(|error| error.to_string())?;
        let consumer: jetstream::consumer::Consumer<pull::Config> = stream
            .get_or_create_consumer(&self.config.durable_name, self.config.consumer_config())
            .await
            .map_err(|error| error.to_string())?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(self.config.batch.max(1))
            .messages()
            .await
            .map_err(|error| error.to_string())?;
        tracing::info!(durable = %self.config.durable_name, "JetStream feed consuming");
        self.messages = Some(messages);
        Ok(())
    }

    /// Sorts one message: deliver it, hold it, or drop it as a duplicate.
    async fn accept(&mut self, message: jetstream::Message) -> Result<Option<Delivery>, FeedError> {
        let envelope = match EventEnvelope::decode(message.payload.clone()) {
            Ok(envelope)
                if envelope.position > 0 && subjects::is_valid_token(&envelope.context) =>
            {
                envelope
            }
            _ => {
                let sequence = message.info().map(|info| info.stream_sequence).ok();
                tracing::error!(
                    subject = %message.subject,
                    ?sequence,
                    "message on the event stream is not an event envelope; terminated"
                );
                let _ = message.ack_with(AckKind::Term).await;
                return Ok(None);
            }
        };
        let context = envelope.context.clone();
        let position = envelope.position;
        let acked = lock(&self.acked).get(&context);
        let expected = *self.expected.entry(context.clone()).or_insert(acked + 1);
        if position < expected {
            // A duplicate of something delivered. Once the consumer has acked
            // that position it is committed, so this copy can go; until then
            // it stays unacked and comes back later.
            if position <= acked {
                let _ = message.ack().await;
            }
            return Ok(None);
        }
        if position == expected {
            self.expected.insert(context, expected + 1);
            return Ok(Some(self.delivery(envelope, message)));
        }
        let held = self.held.entry(context.clone()).or_default();
        if held.is_empty() {
            tracing::warn!(
                %context,
                expected,
                got = position,
                "event ahead of a missing one; holding it until the missing ones arrive"
            );
        }
        // A redelivery of a held event replaces the older copy.
        held.insert(position, (envelope, message));
        if held.len() > self.config.max_held {
            return Err(FeedError::Gap {
                context,
                expected,
                held: held.len(),
            });
        }
        Ok(None)
    }

    /// The held event that is next in its context's order, if any.
    fn take_held(&mut self) -> Option<Delivery> {
        let (context, (envelope, message)) = self.held.iter_mut().find_map(|(context, held)| {
            let expected = self.expected.get(context).copied()?;
            let entry = held.remove(&expected)?;
            Some((context.clone(), entry))
        })?;
        if self.held.get(&context).is_some_and(BTreeMap::is_empty) {
            self.held.remove(&context);
        }
        self.expected.insert(context, envelope.position + 1);
        Some(self.delivery(envelope, message))
    }

    fn delivery(&self, envelope: EventEnvelope, message: jetstream::Message) -> Delivery {
        let delivered = message
            .info()
            .map(|info| u64::try_from(info.delivered).unwrap_or(1))
            .unwrap_or(1);
        let context = envelope.context.clone();
        let position = envelope.position;
        let (_, acker) = message.split();
        Delivery::new(
            envelope,
            delivered,
            AckHandle::jetstream(acker, self.acked.clone(), context, position),
        )
    }
}

impl Feed for JetStreamFeed {
    fn next(&mut self) -> BoxFuture<'_, Result<Delivery, FeedError>> {
        Box::pin(self.next_delivery())
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), FeedError>> {
        Box::pin(async move {
            // Stop pulling first, then push out every ack queued on the connection.
            self.messages = None;
            self.held.clear();
            match self.client.take() {
                Some(client) => client
                    .flush()
                    .await
                    .map_err(|error| FeedError::Ack(error.to_string())),
                None => Ok(()),
            }
        })
    }
}
