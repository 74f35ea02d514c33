//! Disaster recovery: a command service's log written back from the
//! JetStream stream its relay fed (`maillage restore`).
//!
//! [`restore`] reads every message of one context (`maillage.events.<context>.>`)
//! from the start of the stream with a consumer of its own, checks each one
//! as the JetStream feed does ([`crate::feed`]: an envelope, on the subject a
//! relay gives it, whose hash is the hash of its content), puts the context
//! back in position order with the feed's own rules (the relay may have
//! published some events out of order, or twice), and hands the events that
//! chain, from the log's head on, to an [`Importer`], which checks each again
//! and writes it exactly as the lost log held it. Messages that are not what
//! a relay publishes are refused, counted and logged, never written; copies
//! of an event already in the log (the relay publishes again what it was not
//! sure was acked) are skipped once their hash is found equal to the log's.
//!
//! The result must reach the **last published head**: the highest position
//! of the context among the well-formed, well-hashed events the stream holds.
//! If the chain stops before it (a position missing from the stream, or
//! none of its candidates chaining), [`RestoreError::Incomplete`] says where;
//! what was written stays marked as an unfinished restore, which the store
//! refuses to open, until a later run completes it.
//!
//! What it cannot bring back: events the relay had not published when the
//! log was lost (its lag is the recovery point), and everything else in the
//! service's database (its key vault above all: docs/operations.md §4).

use std::time::Duration;

use crate::NatsConfig;
use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use maillage_envelope::from_envelope;
use maillage_eventstore::{Head, Importer, RecordedEvent, StoreError};
use maillage_proto::v1::EventEnvelope;
use prost::Message as _;

use crate::feed::chain::{self, Candidate, Chain, Sorted};
use crate::feed::{Refusal, Refusals};
use crate::subjects;
use crate::ConnectError;

/// Records written per batch (one flush each).
const BATCH: usize = 1024;

/// What to restore, from where.
#[derive(Debug, Clone)]
pub struct RestoreConfig {
    /// The NATS servers, credentials and TLS (a user allowed to read the
    /// stream: `reader` or `admin` in deploy/nats/authorization.conf).
    pub nats: NatsConfig,
    /// The JetStream stream (default `MAILLAGE_EVENTS`).
    pub stream: String,
    /// The context whose log is restored (`stakeholders`, `engagement`, `governance`).
    pub context: String,
}

impl RestoreConfig {
    /// Restores `context` from `MAILLAGE_EVENTS` on the servers of `nats`.
    pub fn new(nats: impl Into<NatsConfig>, context: impl Into<String>) -> Self {
        Self {
            nats: nats.into(),
            stream: subjects::STREAM_NAME.to_owned(),
            context: context.into(),
        }
    }
}

/// How far a restore is, told after each message read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreProgress {
    /// Messages of the context read from the stream so far.
    pub messages_read: u64,
    /// Messages of the context the stream held when the restore started.
    pub messages_total: u64,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The log's head before the restore (position 0 for an empty log).
    pub from: Head,
    /// The log's head after it.
    pub head: Head,
    /// The highest position of the context the stream holds.
    pub published_head: u64,
    /// Messages of the context read from the stream.
    pub messages: u64,
    /// Events written into the log.
    pub written: u64,
    /// Copies of events already in the log (a relay's republish), same hash.
    pub copies: u64,
    /// Messages refused (not what a relay publishes), with the last reason.
    pub refusals: Refusals,
}

/// Why a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// NATS could not be reached.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The stream could not be read.
    #[error("JetStream stream {stream}: {reason}")]
    Stream {
        /// The stream.
        stream: String,
        /// What failed.
        reason: String,
    },
    /// The stream holds no event of the context (a wrong context or stream name?).
    #[error("the JetStream stream {stream} holds no event of {context}")]
    NothingPublished {
        /// The stream.
        stream: String,
        /// The context.
        context: String,
    },
    /// The events that chain stop before the last published head.
    #[error(
        "the events of {context} that chain stop at position {reached}, but the stream holds \
         events up to position {published}: position {missing} is missing from the stream, or \
         none of its copies chains to position {reached} ({refused} messages refused; last: \
         {last_refusal}); the log holds positions 1 to {reached}, marked as an unfinished restore"
    )]
    Incomplete {
        /// The context.
        context: String,
        /// The log's head after the restore.
        reached: u64,
        /// The last published head.
        published: u64,
        /// The first position that could not be restored.
        missing: u64,
        /// Messages refused.
        refused: u64,
        /// The last refusal's reason.
        last_refusal: String,
    },
    /// The log refused a record, or could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Restores `config.context`'s log from the stream into `importer` (made on
/// that log), from the log's head on; see the module docs. Does not call
/// [`Importer::finish`]: the caller does once it has checked the result.
/// `progress` is told how far it is after each message (a terminal's bar).
pub async fn restore(
    config: &RestoreConfig,
    importer: &mut Importer,
    mut progress: impl FnMut(RestoreProgress),
) -> Result<RestoreReport, RestoreError> {
    let stream_error = |reason: String| RestoreError::Stream {
        stream: config.stream.clone(),
        reason,
    };
    let filter = subjects::context_filter(&config.context)
        .map_err(|error| stream_error(error.to_string()))?;
    let client = crate::connect(
        &config.nats,
        &format!("maillage-restore-{}", config.context),
    )
    .await?;
    let stream = jetstream::new(client)
        .get_stream(&config.stream)
        .await
        .map_err(|error| stream_error(error.to_string()))?;
    let mut consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .create_consumer(pull::Config {
            name: Some(format!(
                "maillage-restore-{}-{}",
                config.context,
                uuid::Uuid::now_v7().simple()
            )),
            description: Some("maillage restore: reads one context once".into()),
            filter_subject: filter,
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ack_policy: jetstream::consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .map_err(|error| stream_error(error.to_string()))?;
    let pending = consumer
        .info()
        .await
        .map_err(|error| stream_error(error.to_string()))?
        .num_pending;
    if pending == 0 {
        return Err(RestoreError::NothingPublished {
            stream: config.stream.clone(),
            context: config.context.clone(),
        });
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|error| stream_error(error.to_string()))?;

    let from = importer.head();
    let mut sorter = Sorter {
        chain: Chain::new(&config.context, from.position, Some(from.hash), usize::MAX),
        report: RestoreReport {
            from,
            head: from,
            published_head: 0,
            messages: 0,
            written: 0,
            copies: 0,
            refusals: Refusals::new(),
        },
        ready: Vec::new(),
    };
    loop {
        let message = match messages.next().await {
            Some(Ok(message)) => message,
            Some(Err(error)) => return Err(stream_error(error.to_string())),
            None => {
                return Err(stream_error(
                    "the consumer ended before the last message".into(),
                ))
            }
        };
        let remaining = message
            .info()
            .map_err(|error| stream_error(error.to_string()))?
            .pending;
        sorter.sort(&message.subject, &message.payload, importer)?;
        if sorter.ready.len() >= BATCH {
            sorter.write(importer)?;
        }
        progress(RestoreProgress {
            messages_read: sorter.report.messages,
            messages_total: pending,
        });
        if remaining == 0 {
            break;
        }
    }
    sorter.write(importer)?;
    let report = sorter.report;
    if report.head.position < report.published_head {
        return Err(RestoreError::Incomplete {
            context: config.context.clone(),
            reached: report.head.position,
            published: report.published_head,
            missing: report.head.position + 1,
            refused: report.refusals.count(),
            last_refusal: report.refusals.last().unwrap_or_else(|| "none".into()),
        });
    }
    Ok(report)
}

/// Puts one context's messages back in chain order.
struct Sorter {
    chain: Chain<()>,
    report: RestoreReport,
    /// Events that chain, not yet written.
    ready: Vec<RecordedEvent>,
}

impl Sorter {
    /// Checks one message and sorts it: ready, held for later, a copy, or refused.
    fn sort(
        &mut self,
        subject: &str,
        payload: &[u8],
        importer: &Importer,
    ) -> Result<(), RestoreError> {
        self.report.messages += 1;
        let envelope = match EventEnvelope::decode(payload) {
            Ok(envelope) => envelope,
            Err(error) => {
                self.refuse(subject, None, Refusal::NotAnEnvelope(error.to_string()));
                return Ok(());
            }
        };
        if let Err(refusal) = chain::check(&envelope, subject) {
            self.refuse(subject, Some(&envelope), refusal);
            return Ok(());
        }
        self.report.published_head = self.report.published_head.max(envelope.position);
        let now = tokio::time::Instant::now();
        let candidate = Candidate {
            envelope,
            message: (),
        };
        match self.chain.offer(candidate, now) {
            Sorted::Deliver(candidate) => self.take(candidate.envelope)?,
            Sorted::Behind(candidate) => {
                let envelope = candidate.envelope;
                if self.taken_hash(envelope.position, importer)?.as_deref()
                    == Some(envelope.hash.as_slice())
                {
                    self.report.copies += 1;
                } else {
                    self.refuse(subject, Some(&envelope), Refusal::Conflicting);
                }
            }
            Sorted::Refused(candidate, refusal) => {
                self.refuse(subject, Some(&candidate.envelope), refusal)
            }
            // The window is unbounded: nothing is ever evicted.
            Sorted::Held { .. } => {}
        }
        loop {
            let (next, losers) = self.chain.take_next(now);
            for (loser, refusal) in losers {
                self.refuse(subject, Some(&loser.envelope), refusal);
            }
            match next {
                Some(candidate) => self.take(candidate.envelope)?,
                None => return Ok(()),
            }
        }
    }

    /// The hash of the event taken at `position`: ready, or in the log.
    fn taken_hash(
        &self,
        position: u64,
        importer: &Importer,
    ) -> Result<Option<Vec<u8>>, RestoreError> {
        if let Some(first) = self.ready.first().map(|record| record.position) {
            if position >= first {
                let index = usize::try_from(position - first).unwrap_or(usize::MAX);
                return Ok(self.ready.get(index).map(|record| record.hash.to_vec()));
            }
        }
        Ok(importer.hash_at(position)?.map(|hash| hash.to_vec()))
    }

    fn take(&mut self, envelope: EventEnvelope) -> Result<(), RestoreError> {
        // `chain::check` has converted it once already.
        let record = from_envelope(&envelope).map_err(|error| StoreError::ImportRefused {
            position: envelope.position,
            reason: error.to_string(),
        })?;
        self.ready.push(record);
        Ok(())
    }

    fn refuse(&mut self, subject: &str, envelope: Option<&EventEnvelope>, refusal: Refusal) {
        let position = envelope.map_or(0, |envelope| envelope.position);
        tracing::warn!(
            subject,
            position,
            reason = %refusal,
            "message on the event stream refused by the restore: not written"
        );
        self.report
            .refusals
            .record(format!("{subject} position {position}: {refusal}"));
    }

    /// Writes the events ready, in one batch.
    fn write(&mut self, importer: &mut Importer) -> Result<(), RestoreError> {
        if self.ready.is_empty() {
            return Ok(());
        }
        self.report.head = importer.import(&self.ready)?;
        self.report.written += self.ready.len() as u64;
        self.ready.clear();
        Ok(())
    }
}
