//! The JetStream feed: a durable pull consumer on `MAILLAGE_EVENTS`.
//!
//! The consumer is durable (its name is [`JetStreamFeedConfig::durable_name`];
//! JetStream remembers what it acked), delivers everything from the start of
//! the stream (`deliver_all`) under `maillage.events.>`, in stream order, and
//! wants an explicit ack per message, sent by [`Delivery::ack`](super::Delivery::ack)
//! after the consumer's commit. The feed checks every message, puts each
//! context back in position order and drops duplicates, as the
//! [module docs](super) explain; [`super::chain`] holds the rules.
//!
//! What it does with each message on JetStream: a delivered event is acked by
//! the consumer after its commit; a copy of a delivered event is acked once
//! the consumer acked that position; a refused message (see
//! [`Refusal`](super::Refusal)) is *terminated* (`+TERM`), so that JetStream
//! never redelivers it to this consumer, and counted in
//! [`JetStreamFeedConfig::refusals`]; a candidate held for later stays
//! unacked, and one pushed out of a full window is given back (`-NAK` with a
//! delay) to be offered again.
//!
//! Connection trouble is never an error for the caller: the feed logs it,
//! backs off (exponential, capped), reconnects, looks the consumer up again
//! and goes on; unacked messages come again and are handled like any other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::NatsConfig;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use futures::future::BoxFuture;
use futures::StreamExt;
use maillage_proto::v1::EventEnvelope;
use prost::Message as _;

use super::chain::{self, Candidate, Chain, Sorted};
use super::{lock, AckHandle, Checkpoints, Delivery, Feed, FeedError, Refusal, Refusals};
use crate::backoff::Backoff;
use crate::subjects;

/// How a [`JetStreamFeed`] is set up; [`JetStreamFeedConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct JetStreamFeedConfig {
    /// The NATS servers (comma-separated URLs), credentials and TLS.
    pub nats: NatsConfig,
    /// The durable consumer's name (one per projection; letters, digits, `-`, `_`).
    pub durable_name: String,
    /// How long JetStream waits for an ack before delivering again (default 60 s).
    pub ack_wait: Duration,
    /// Most unacked messages JetStream hands out (default 20,000). Must exceed
    /// [`JetStreamFeedConfig::max_held`] plus what the consumer keeps unacked,
    /// or a held context could starve the feed.
    pub max_ack_pending: i64,
    /// Most events held for one context while an earlier one is missing, and
    /// how far ahead of it they may be (default 10,000; keep it above the
    /// relay's `max_in_flight`). An event farther ahead is refused; past that
    /// many held, the farthest is given back to JetStream for later.
    pub max_held: usize,
    /// How long a missing position may be awaited while later events are
    /// held (default 60 s); then [`Feed::next`] fails with [`FeedError::Gap`].
    pub gap_timeout: Duration,
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
    /// Where refused messages are counted (shared: clone one into every
    /// feed a consumer makes to count across restarts).
    pub refusals: Refusals,
}

impl JetStreamFeedConfig {
    /// The defaults for the durable consumer `durable_name` on the servers
    /// of `nats` (a URL list alone converts: no credentials, no TLS).
    pub fn new(nats: impl Into<NatsConfig>, durable_name: impl Into<String>) -> Self {
        Self {
            nats: nats.into(),
            durable_name: durable_name.into(),
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 20_000,
            max_held: 10_000,
            gap_timeout: Duration::from_secs(60),
            batch: 256,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            stream_replicas: 1,
            filter_subject: subjects::ALL_EVENTS.to_owned(),
            refusals: Refusals::new(),
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
    /// Per context seen so far: the next position, its anchor, the held candidates.
    chains: HashMap<String, Chain<jetstream::Message>>,
    /// The consumer's starting checkpoints (with the hashes it stored).
    start: Checkpoints,
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
            chains: HashMap::new(),
            start: checkpoints.clone(),
            acked: Arc::new(Mutex::new(checkpoints.clone())),
            backoff,
        })
    }

    async fn next_delivery(&mut self) -> Result<Delivery, FeedError> {
        loop {
            if let Some(delivery) = self.take_held().await {
                return Ok(delivery);
            }
            self.check_gaps()?;
            let Some(messages) = self.messages.as_mut() else {
                if let Err(error) = self.open().await {
                    self.pause("cannot open the JetStream consumer", &error)
                        .await;
                }
                continue;
            };
            let deadline = self
                .chains
                .values()
                .filter_map(|chain| chain.deadline(self.config.gap_timeout))
                .min();
            let next = match deadline {
                Some(deadline) => tokio::select! {
                    next = messages.next() => next,
                    () = tokio::time::sleep_until(deadline) => continue,
                },
                None => messages.next().await,
            };
            match next {
                Some(Ok(message)) => {
                    self.backoff.reset();
                    if let Some(delivery) = self.accept(message).await {
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

    /// Fails with a gap when a context's next position has been missing for
    /// the gap timeout while later events wait.
    fn check_gaps(&self) -> Result<(), FeedError> {
        let now = tokio::time::Instant::now();
        for (context, chain) in &self.chains {
            if let Some((expected, held)) = chain.overdue(now, self.config.gap_timeout) {
                return Err(FeedError::Gap {
                    context: context.clone(),
                    expected,
                    held,
                });
            }
        }
        Ok(())
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
                let client = crate::connect(&self.config.nats, &name)
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

    /// Checks and sorts one message: deliver it, hold it, drop it as a
    /// duplicate, or refuse it.
    async fn accept(&mut self, message: jetstream::Message) -> Option<Delivery> {
        let envelope = match EventEnvelope::decode(message.payload.clone()) {
            Ok(envelope) => envelope,
            Err(error) => {
                let refusal = Refusal::NotAnEnvelope(error.to_string());
                self.refuse(None, message, refusal).await;
                return None;
            }
        };
        if let Err(refusal) = chain::check(&envelope, &message.subject) {
            self.refuse(Some(&envelope), message, refusal).await;
            return None;
        }
        let context = envelope.context.clone();
        let (start, window) = (&self.start, self.config.max_held);
        let chain = self.chains.entry(context.clone()).or_insert_with(|| {
            Chain::new(&context, start.get(&context), start.hash(&context), window)
        });
        let now = tokio::time::Instant::now();
        match chain.offer(Candidate { envelope, message }, now) {
            Sorted::Deliver(candidate) => Some(self.delivery(candidate)),
            Sorted::Behind(candidate) => {
                // A copy of something delivered. Once the consumer has acked
                // that position it is committed, so this copy can go; until
                // then it stays unacked and comes back later.
                let position = candidate.envelope.position;
                if position <= lock(&self.acked).get(&context) {
                    let _ = candidate.message.ack().await;
                }
                None
            }
            Sorted::Refused(candidate, refusal) => {
                self.refuse(Some(&candidate.envelope), candidate.message, refusal)
                    .await;
                None
            }
            Sorted::Held { evicted } => {
                if let Some(evicted) = evicted {
                    tracing::warn!(
                        %context,
                        position = evicted.envelope.position,
                        held = self.config.max_held,
                        "too many events held ahead of a missing one; the farthest is given back \
                         to JetStream for later"
                    );
                    let delay = AckKind::Nak(Some(self.config.backoff_max));
                    let _ = evicted.message.ack_with(delay).await;
                }
                None
            }
        }
    }

    /// The held candidate that is next in its context's order, if any
    /// (refusing the others held at that position).
    async fn take_held(&mut self) -> Option<Delivery> {
        let now = tokio::time::Instant::now();
        let mut delivered = None;
        let mut refused = Vec::new();
        for chain in self.chains.values_mut() {
            let (next, losers) = chain.take_next(now);
            refused.extend(losers);
            if next.is_some() {
                delivered = next;
                break;
            }
        }
        for (candidate, refusal) in refused {
            self.refuse(Some(&candidate.envelope), candidate.message, refusal)
                .await;
        }
        delivered.map(|candidate| self.delivery(candidate))
    }

    /// Refuses a message: logs it, counts it, and terminates it on JetStream
    /// so that it is never redelivered to this consumer.
    async fn refuse(
        &self,
        envelope: Option<&EventEnvelope>,
        message: jetstream::Message,
        refusal: Refusal,
    ) {
        let sequence = message.info().map(|info| info.stream_sequence).ok();
        let (context, position) = envelope
            .map(|envelope| (envelope.context.as_str(), envelope.position))
            .unwrap_or(("?", 0));
        tracing::error!(
            durable = %self.config.durable_name,
            subject = %message.subject,
            ?sequence,
            context,
            position,
            reason = %refusal,
            "message on the event stream refused: not delivered, terminated"
        );
        self.config
            .refusals
            .record(format!("{context} position {position}: {refusal}"));
        let _ = message.ack_with(AckKind::Term).await;
    }

    fn delivery(&self, candidate: Candidate<jetstream::Message>) -> Delivery {
        let Candidate { envelope, message } = candidate;
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
            // Held candidates stay unacked: JetStream offers them again later.
            self.chains.clear();
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
