//! Fuzzing the JetStream feed's decoders: arbitrary messages on the event
//! stream, on a real nats-server, between a relay's genuine events.
//!
//! The inputs are arbitrary bytes, genuine envelopes with bytes flipped, cut
//! or appended, genuine envelopes with one field replaced by an arbitrary
//! value, and envelopes built field by field from arbitrary values; each is
//! published on the subject a relay would give it, or on an arbitrary
//! subject of the stream. The consumer must apply exactly the relay's
//! events, in order, and refuse every fuzzed message, with two exceptions
//! told apart by decoding each message: a genuine event on its genuine
//! subject (a copy, dropped as a duplicate: the same record, even when its
//! envelope is encoded otherwise, e.g. with nanoseconds below the
//! microsecond the log keeps), and a genuine event whose only change is its
//! `context`, on that context's subject ("misplaced"):
//! the record hash does not cover the context, so such a message passes the
//! checks of one message and is judged by the chain of the context it
//! names, where it may be held or applied (only a publisher allowed on that
//! context's subjects can put it there: docs/architecture.md, "What this
//! does not stop"). The count of refusals is checked exactly, and anything
//! applied under another context must be such a genuine event. A panic
//! anywhere in the feed fails the test.
//!
//! 400 messages, times `MAILLAGE_FUZZ_SCALE` (default 1), from the seed
//! `MAILLAGE_FUZZ_SEED` (default fixed); the count and the seed are printed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use async_nats::jetstream;
use common::*;
use maillage_bus::{subjects, Checkpoints, JetStreamFeed, JetStreamFeedConfig};
use maillage_envelope::{from_envelope, to_envelope};
use maillage_eventstore::StreamId;
use maillage_nats_test::NatsServer;
use maillage_proto::v1::{EventEnvelope, EventMetadata};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use prost::Message as _;

const CONTEXT: &str = "stakeholders";

/// One fuzzed message.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    /// The encoding of genuine envelope `n` (modulo the count), changed.
    Mutated(usize, Mutation),
    /// Genuine envelope `n` with one field replaced.
    Field(usize, Field),
    /// An envelope made of arbitrary fields.
    Built(Box<EventEnvelope>),
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Vec<(usize, u8)>),
    Cut(usize),
    Extend(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Field {
    Context(String),
    Position(u64),
    StreamId(String),
    Version(u64),
    EventId(String),
    EventType(String),
    Payload(Vec<u8>),
    Metadata(Option<EventMetadata>),
    RecordedAt(Option<prost_types::Timestamp>),
    PrevHash(Vec<u8>),
    Hash(Vec<u8>),
}

/// Where it is published: the subject a relay would use, or another one.
#[derive(Debug, Clone)]
enum Subject {
    Relay,
    Other(String, String),
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,12}-[a-z0-9]{1,12}",
        "maillage\\.v1\\.[A-Z][a-zA-Z]{0,20}",
        "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        any::<String>(),
        ".{0,300}",
    ]
}

fn number() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1u64..40, any::<u64>()]
}

fn hash() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 32),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    prop::option::of(
        (
            prop_oneof![any::<i64>(), 1_700_000_000i64..1_900_000_000],
            prop_oneof![any::<i32>(), 0i32..1_000_000_000],
        )
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

fn metadata() -> impl Strategy<Value = Option<EventMetadata>> {
    prop::option::of((text(), text(), text(), text()).prop_map(
        |(actor, request_id, correlation_id, causation_id)| EventMetadata {
            actor,
            request_id,
            correlation_id,
            causation_id,
        },
    ))
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        prop_oneof![Just("engagement".to_owned()), text()].prop_map(Field::Context),
        number().prop_map(Field::Position),
        text().prop_map(Field::StreamId),
        number().prop_map(Field::Version),
        text().prop_map(Field::EventId),
        text().prop_map(Field::EventType),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Field::Payload),
        metadata().prop_map(Field::Metadata),
        timestamp().prop_map(Field::RecordedAt),
        hash().prop_map(Field::PrevHash),
        hash().prop_map(Field::Hash),
    ]
}

fn built() -> impl Strategy<Value = EventEnvelope> {
    (
        (
            prop_oneof![Just(CONTEXT.to_owned()), text()],
            number(),
            text(),
            number(),
            text(),
            text(),
        ),
        (
            prop::collection::vec(any::<u8>(), 0..64),
            metadata(),
            timestamp(),
            hash(),
            hash(),
        ),
    )
        .prop_map(
            |(
                (context, position, stream_id, version, event_id, event_type),
                (payload, metadata, recorded_at, prev_hash, hash),
            )| EventEnvelope {
                context,
                position,
                stream_id,
                version,
                event_id,
                event_type,
                payload,
                metadata,
                recorded_at,
                prev_hash,
                hash,
            },
        )
}

fn input() -> impl Strategy<Value = (Input, Subject)> {
    let mutation = prop_oneof![
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..4).prop_map(Mutation::Flip),
        any::<usize>().prop_map(Mutation::Cut),
        prop::collection::vec(any::<u8>(), 1..20).prop_map(Mutation::Extend),
    ];
    let input = prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..400).prop_map(Input::Bytes),
        3 => (any::<usize>(), mutation).prop_map(|(n, m)| Input::Mutated(n, m)),
        3 => (any::<usize>(), field()).prop_map(|(n, f)| Input::Field(n, f)),
        2 => built().prop_map(|envelope| Input::Built(Box::new(envelope))),
    ];
    let subject = prop_oneof![
        3 => Just(Subject::Relay),
        1 => ("[a-zA-Z0-9_]{1,12}", "[a-zA-Z0-9_]{1,12}")
            .prop_map(|(category, kind)| Subject::Other(category, kind)),
    ];
    (input, subject)
}

/// The payload and subject of one fuzzed message.
fn message(genuine: &[EventEnvelope], input: &Input, subject: &Subject) -> (Vec<u8>, String) {
    let pick = |n: usize| genuine[n % genuine.len()].clone();
    let envelope = match input {
        Input::Bytes(bytes) => return (bytes.clone(), other_subject(subject)),
        Input::Mutated(n, mutation) => {
            let envelope = pick(*n);
            let mut bytes = envelope.encode_to_vec();
            match mutation {
                Mutation::Flip(flips) => {
                    let len = bytes.len();
                    for (offset, mask) in flips {
                        bytes[offset % len] ^= mask | 1;
                    }
                }
                Mutation::Cut(keep) => bytes.truncate(keep % bytes.len()),
                Mutation::Extend(tail) => bytes.extend_from_slice(tail),
            }
            let subject = relay_subject(&envelope).unwrap_or_else(|| other_subject(subject));
            return (bytes, subject);
        }
        Input::Field(n, field) => {
            let mut envelope = pick(*n);
            match field.clone() {
                Field::Context(value) => envelope.context = value,
                Field::Position(value) => envelope.position = value,
                Field::StreamId(value) => envelope.stream_id = value,
                Field::Version(value) => envelope.version = value,
                Field::EventId(value) => envelope.event_id = value,
                Field::EventType(value) => envelope.event_type = value,
                Field::Payload(value) => envelope.payload = value,
                Field::Metadata(value) => envelope.metadata = value,
                Field::RecordedAt(value) => envelope.recorded_at = value,
                Field::PrevHash(value) => envelope.prev_hash = value,
                Field::Hash(value) => envelope.hash = value,
            }
            envelope
        }
        Input::Built(envelope) => (**envelope).clone(),
    };
    let subject = match subject {
        Subject::Relay => relay_subject(&envelope).unwrap_or_else(|| other_subject(subject)),
        Subject::Other(..) => other_subject(subject),
    };
    (envelope.encode_to_vec(), subject)
}

/// The subject a relay gives `envelope`, if it has one.
fn relay_subject(envelope: &EventEnvelope) -> Option<String> {
    let stream = StreamId::parse(envelope.stream_id.as_str()).ok()?;
    subjects::subject(&envelope.context, stream.category(), &envelope.event_type).ok()
}

/// A subject of the stream that no relay gives this message.
fn other_subject(subject: &Subject) -> String {
    match subject {
        Subject::Other(category, kind) => format!("maillage.events.{CONTEXT}.{category}.{kind}"),
        Subject::Relay => format!("maillage.events.{CONTEXT}.fuzz.Bytes"),
    }
}

/// What a fuzzed message is, decoded.
enum Kind {
    /// A genuine envelope on its genuine subject.
    Copy,
    /// A genuine envelope but for its context, on that context's subject.
    Misplaced,
    /// Anything else: to be refused.
    Other,
}

fn classify(genuine: &[EventEnvelope], payload: &[u8], subject: &str) -> Kind {
    let Ok(decoded) = EventEnvelope::decode(payload) else {
        return Kind::Other;
    };
    if relay_subject(&decoded).as_deref() != Some(subject) {
        return Kind::Other;
    }
    let Ok(record) = from_envelope(&decoded) else {
        return Kind::Other;
    };
    let is_genuine = genuine
        .iter()
        .any(|g| from_envelope(g).is_ok_and(|g| g == record));
    match (is_genuine, decoded.context == CONTEXT) {
        (true, true) => Kind::Copy,
        (true, false) => Kind::Misplaced,
        (false, _) => Kind::Other,
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_messages_on_the_stream_are_refused_and_the_genuine_events_all_applied(
) -> anyhow::Result<()> {
    let count = 400 * env("MAILLAGE_FUZZ_SCALE", 1) as usize;
    let seed = env("MAILLAGE_FUZZ_SEED", 2026);
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open(CONTEXT)?;
    let relay = spawn_relay(&log, &url)?;
    log.append(10).await?;
    wait_checkpoint(&relay, 10).await?;
    // The default ack wait (60 s): messages the client pulled while the
    // test was still publishing must not come again and be counted twice.
    let config = JetStreamFeedConfig::new(url.as_str(), "fuzz");
    let refusals = config.refusals.clone();
    let mut feed = JetStreamFeed::new(config, &Checkpoints::new())?;
    let mut fold = Fold::default();
    fold.consume_until(&mut feed, &heads(&[&log])).await?;

    let genuine: Vec<EventEnvelope> = log
        .store
        .read_all(1, 100)?
        .iter()
        .map(|record| to_envelope(CONTEXT, record))
        .collect();
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    let strategy = input();
    let js = jetstream::new(async_nats::connect(&url).await?);
    let (mut copies, mut misplaced) = (0, 0);
    for _ in 0..count {
        let (input, subject) = strategy
            .new_tree(&mut runner)
            .map_err(|reason| anyhow::anyhow!("{reason}"))?
            .current();
        let (payload, subject) = message(&genuine, &input, &subject);
        match classify(&genuine, &payload, &subject) {
            Kind::Copy => copies += 1,
            Kind::Misplaced => misplaced += 1,
            Kind::Other => {}
        }
        js.publish(subject, payload.into()).await?.await?;
    }
    log.append(10).await?;
    wait_checkpoint(&relay, 20).await?;
    fold.consume_until(&mut feed, &heads(&[&log])).await?;
    relay.shutdown().await?;

    let applied_here: Vec<u64> = fold
        .applied
        .iter()
        .filter(|(context, _)| context == CONTEXT)
        .map(|(_, p)| *p)
        .collect();
    assert_eq!(applied_here, (1..=20).collect::<Vec<_>>());
    fold.assert_genuine(&log)?;
    let mut applied_elsewhere = 0;
    for ((context, position), hash) in fold.applied.iter().zip(&fold.hashes) {
        if context != CONTEXT {
            let original = &genuine[*position as usize - 1];
            assert_eq!(original.hash, hash.to_vec(), "{context} {position}");
            applied_elsewhere += 1;
        }
    }
    let others = count - copies - misplaced;
    assert_eq!(
        refusals.count(),
        others as u64,
        "every fuzzed message but {copies} copies and {misplaced} misplaced events is refused; \
         last: {:?}",
        refusals.last()
    );
    println!(
        "fuzz (JetStream feed): {count} messages tried (seed {seed}): {others} refused, {copies} \
         exact copies dropped as duplicates, {misplaced} genuine events under another context's \
         name ({applied_elsewhere} of them applied there); the 20 genuine events applied in \
         order; no panic"
    );
    Ok(())
}
