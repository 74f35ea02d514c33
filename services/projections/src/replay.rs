//! Replays: fresh read models built by reading source logs from position 1,
//! optionally only the events recorded up to an instant (`as_of`), or from
//! the nearest [`crate::snapshot`] before it.

use maillage_proto::v1::EventEnvelope;

use crate::model::{Applied, ReadModel, TABLES};
use crate::snapshot::{self, Snapshots, Tables};
use crate::source::{EventSource, SharedSource, SourceError};
use crate::time;

/// Events read per request to a source.
pub const READ_BATCH: u32 = 5_000;

/// Replays every source into `model` from its checkpoint + 1 up to the
/// source's head, or, with `as_of`, up to the last event recorded at or
/// before it (a log's `recorded_at` follows its commit order, so the events
/// recorded up to an instant are a prefix of the log). Returns how many
/// events were applied.
pub async fn replay_into(
    model: &mut ReadModel,
    sources: &[SharedSource],
    as_of: Option<i64>,
) -> Result<u64, SourceError> {
    let mut applied = 0;
    for source in sources {
        applied += replay_source(model, source.as_ref(), as_of, None).await?;
    }
    Ok(applied)
}

/// Replays one source into `model`, from its checkpoint + 1, up to `as_of`
/// (see [`replay_into`]) and at most up to position `until`.
pub async fn replay_source(
    model: &mut ReadModel,
    source: &dyn EventSource,
    as_of: Option<i64>,
    until: Option<u64>,
) -> Result<u64, SourceError> {
    let mut applied = 0;
    loop {
        let from = model.checkpoint(source.context()) + 1;
        if until.is_some_and(|until| from > until) {
            return Ok(applied);
        }
        let events = source.read(from, READ_BATCH).await?;
        if events.is_empty() {
            return Ok(applied);
        }
        for envelope in &events {
            if until.is_some_and(|until| envelope.position > until) || after(envelope, as_of) {
                return Ok(applied);
            }
            if let Applied::Undecodable(reason) = model.apply(envelope) {
                return Err(SourceError::Undecodable {
                    context: source.context().to_owned(),
                    reason,
                });
            }
            applied += 1;
        }
        if model.checkpoint(source.context()) < from {
            return Err(SourceError::Config {
                context: source.context().to_owned(),
                reason: "the log answered with events of another context or position".into(),
            });
        }
    }
}

/// Whether the event was recorded after `as_of`.
fn after(envelope: &EventEnvelope, as_of: Option<i64>) -> bool {
    match as_of {
        None => false,
        Some(as_of) => envelope
            .recorded_at
            .as_ref()
            .is_some_and(|recorded_at| time::micros(recorded_at) > as_of),
    }
}

/// A fresh read model of every source's events recorded up to `as_of`
/// (without change tracking: it is only queried).
pub async fn replay_as_of(sources: &[SharedSource], as_of: i64) -> Result<ReadModel, SourceError> {
    let mut model = ReadModel::for_replay();
    replay_into(&mut model, sources, Some(as_of)).await?;
    Ok(model)
}

/// The read model of every source's events recorded up to `as_of`, with at
/// least `tables` as a full replay would give them (the others may be
/// partial): the nearest usable snapshot at or before `as_of`, when
/// `snapshots` has one, then the tail of each log. When no snapshot was
/// usable, or `tables` are every table, and the model is at least
/// [`Snapshots::every`] events beyond where it started, it is kept as a
/// snapshot (a failure to write it is logged: snapshots only save time).
pub async fn replay_as_of_from(
    snapshots: Option<&Snapshots>,
    sources: &[SharedSource],
    as_of: i64,
    tables: Tables,
) -> Result<ReadModel, SourceError> {
    let Some(snapshots) = snapshots else {
        return replay_as_of(sources, as_of).await;
    };
    let loaded = snapshots.load_as_of(sources, as_of, tables).await?;
    let whole = loaded.is_none() || tables.len() == TABLES.len();
    let mut model = loaded.unwrap_or_else(ReadModel::for_replay);
    let start = snapshot::events(&model);
    replay_into(&mut model, sources, Some(as_of)).await?;
    if whole && snapshot::events(&model) >= start + snapshots.every() {
        if let Err(error) = snapshots.write(&model) {
            tracing::warn!(%error, "cannot write a read-model snapshot");
        }
    }
    Ok(model)
}
