//! A log written back from the JetStream stream its relay fed (`restore`),
//! on a real nats-server and real sled logs: the same records and head, with
//! forgeries, garbage and republished copies in the stream left out; a
//! stream that lacks a position is refused and the half-restored log stays
//! closed until a later run completes it; a log that holds the start of the
//! context (a backup) is continued.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use async_nats::jetstream;
use common::*;
use maillage_bus::{restore, subjects, RestoreConfig, RestoreError, STREAM_NAME};
use maillage_envelope::to_envelope;
use maillage_eventstore::{
    EventStore, Importer, RecordedEvent, SledEngine, SledOptions, StoreError, StoreOptions,
    Verification,
};
use maillage_nats_test::NatsServer;
use prost::Message as _;

/// An importer on a fresh log in a temp dir.
fn fresh() -> anyhow::Result<(Importer, Arc<SledEngine>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let engine = Arc::new(SledEngine::open(dir.path(), &SledOptions::default())?);
    Ok((Importer::new(engine.clone())?, engine, dir))
}

/// Publishes `record` of `context` as a relay would (or a stranger copying it).
async fn publish(
    js: &jetstream::Context,
    context: &str,
    record: &RecordedEvent,
) -> anyhow::Result<()> {
    let subject = subjects::event_subject(context, record)?;
    let payload = to_envelope(context, record).encode_to_vec();
    js.publish(subject, payload.into()).await?.await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_is_restored_from_the_stream_without_what_a_relay_did_not_publish(
) -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open("governance")?;
    let relay = spawn_relay(&log, &url)?;
    log.append(20).await?;
    wait_checkpoint(&relay, 20).await?;

    // In the stream besides the relay's events: bytes that are no envelope,
    // a well-hashed event of another log claiming position 21 and one
    // claiming position 5, an envelope whose content was changed, and a
    // genuine event published again after the duplicate window would have
    // dropped it (another message id).
    let js = jetstream::new(async_nats::connect(&url).await?);
    js.publish(
        "maillage.events.governance.consortium.ConsortiumFounded",
        "garbage".into(),
    )
    .await?
    .await?;
    let forger = Log::open("governance")?;
    forger.append(21).await?;
    let forged = forger.store.read_all(1, 100)?;
    publish(&js, "governance", &forged[20]).await?;
    publish(&js, "governance", &forged[4]).await?;
    let mut altered = log.store.read_all(7, 1)?.remove(0);
    altered.payload.push(1);
    publish(&js, "governance", &altered).await?;
    let genuine = log.store.read_all(1, 100)?;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "another-id");
    js.publish_with_headers(
        subjects::event_subject("governance", &genuine[2])?,
        headers,
        to_envelope("governance", &genuine[2])
            .encode_to_vec()
            .into(),
    )
    .await?
    .await?;
    // And the relay's next events, after all that.
    log.append(10).await?;
    wait_checkpoint(&relay, 30).await?;
    relay.shutdown().await?;

    let (mut importer, engine, _dir) = fresh()?;
    // Position 21 is claimed by the forgery first and the genuine event
    // later: the forgery does not chain, the genuine one does.
    let mut told = Vec::new();
    let report = restore(
        &RestoreConfig::new(url.as_str(), "governance"),
        &mut importer,
        |progress| told.push(progress),
    )
    .await?;
    // Progress is told after each message, up to every message the stream held.
    assert_eq!(told.len() as u64, report.messages);
    assert!(told
        .windows(2)
        .all(|w| w[0].messages_read < w[1].messages_read));
    assert_eq!(
        told.last().map(|p| (p.messages_read, p.messages_total)),
        Some((report.messages, report.messages))
    );
    assert_eq!(report.head, log.store.head());
    assert_eq!(report.published_head, 30);
    assert_eq!(report.written, 30);
    assert_eq!(report.copies, 1, "the republished event");
    assert_eq!(
        report.refusals.count(),
        4,
        "garbage, two forgeries, the altered event: {:?}",
        report.refusals.last()
    );
    importer.finish()?;
    let restored = EventStore::with_engine(engine, StoreOptions::default())?;
    assert_eq!(restored.read_all(1, 100)?, log.store.read_all(1, 100)?);
    assert_eq!(
        restored.verify()?,
        Verification::Intact {
            head: log.store.head()
        }
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_lacks_a_position_is_refused_and_a_backup_is_continued() -> anyhow::Result<()>
{
    let nats = NatsServer::start().await?;
    let url = nats.url();
    let log = Log::open("stakeholders")?;
    let relay = spawn_relay(&log, &url)?;
    log.append(12).await?;
    wait_checkpoint(&relay, 12).await?;
    relay.shutdown().await?;
    let records = log.store.read_all(1, 100)?;

    // Nothing published for a context: refused.
    let (mut importer, _, _dir) = fresh()?;
    let nothing = restore(
        &RestoreConfig::new(url.as_str(), "engagement"),
        &mut importer,
        |_| {},
    )
    .await;
    assert!(
        matches!(nothing, Err(RestoreError::NothingPublished { .. })),
        "{nothing:?}"
    );

    // The stream loses position 9 (an operator's mistake, a limit).
    let js = jetstream::new(async_nats::connect(&url).await?);
    let mut stream = js.get_stream(STREAM_NAME).await?;
    let mut sequence = None;
    for seq in 1..=stream.info().await?.state.last_sequence {
        let message = stream.get_raw_message(seq).await?;
        let envelope = maillage_proto::v1::EventEnvelope::decode(message.payload)?;
        if envelope.position == 9 {
            sequence = Some(seq);
        }
    }
    stream
        .delete_message(sequence.expect("position 9 was published"))
        .await?;
    let (mut importer, engine, dir) = fresh()?;
    let incomplete = restore(
        &RestoreConfig::new(url.as_str(), "stakeholders"),
        &mut importer,
        |_| {},
    )
    .await;
    match incomplete {
        Err(RestoreError::Incomplete {
            reached: 8,
            published: 12,
            missing: 9,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    drop(importer);
    let refused = EventStore::with_engine(engine, StoreOptions::default());
    assert!(
        matches!(refused, Err(StoreError::RestoreUnfinished { position: 8 })),
        "{:?}",
        refused.err()
    );

    // The missing event comes back (a relay republishing it, an operator
    // re-adding it): a second run continues the same log and completes it.
    publish(&js, "stakeholders", &records[8]).await?;
    let engine = Arc::new(SledEngine::open(dir.path(), &SledOptions::default())?);
    let mut importer = Importer::new(engine.clone())?;
    assert!(importer.continues_a_restore());
    let report = restore(
        &RestoreConfig::new(url.as_str(), "stakeholders"),
        &mut importer,
        |_| {},
    )
    .await?;
    assert_eq!((report.from.position, report.head), (8, log.store.head()));
    assert_eq!(report.copies, 8);
    importer.finish()?;
    let restored = EventStore::with_engine(engine, StoreOptions::default())?;
    assert_eq!(restored.read_all(1, 100)?, records);

    // A backup holding positions 1 to 5 is continued from the stream.
    let (mut importer, engine, _backup) = fresh()?;
    importer.import(&records[..5])?;
    importer.finish()?;
    let mut importer = Importer::new(engine.clone())?;
    let report = restore(
        &RestoreConfig::new(url.as_str(), "stakeholders"),
        &mut importer,
        |_| {},
    )
    .await?;
    assert_eq!((report.from.position, report.written), (5, 7));
    importer.finish()?;
    let restored = EventStore::with_engine(engine, StoreOptions::default())?;
    assert_eq!(restored.read_all(1, 100)?, records);
    Ok(())
}
