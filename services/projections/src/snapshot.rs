//! Snapshots of the read models for `as_of` queries: every table at some
//! per-context positions, in files beside the read-model database, so that
//! an `as_of` query loads the nearest snapshot at or before its instant (only
//! the tables it reads) and replays only the tail of each log
//! ([`crate::replay::replay_as_of_from`]).
//!
//! **Derived data.** A snapshot holds nothing the read models do not (no
//! sealed field, no personal data in clear: see [`crate::model`]), and
//! nothing but them: deleting every snapshot changes no answer, only its
//! speed. A snapshot is used only when its format version is
//! [`FORMAT_VERSION`] and, for every log, the event at its position is still
//! there with the same hash; otherwise it is ignored and deleted, and
//! written again later (by the live projection as it follows the logs, or by
//! the next `as_of` replay that had to start from further back).
//!
//! **Which snapshot.** Each log's `recorded_at` follows its commit order, so
//! a snapshot is usable for an instant when the event at each of its
//! positions was recorded at or before it; the model of an instant depends
//! only on each context's prefix (see the convergence note in
//! [`crate::model`]), so among the usable snapshots the one with the most
//! events leaves the shortest tail.
//!
//! **File layout** (`<events>-<context>-<position>-….snap`, `events` the
//! sum of the positions): the 8 bytes [`MAGIC`], the format version (`u32`,
//! little-endian), a header (bincode: each context's position and the hash
//! of the event there, and the tables' names in section order), then one
//! section per table: its length (`u64`, little-endian) and its rows
//! ([`ReadModel::encode_table`]), so that a loader skips the tables it does
//! not need. Written to a temporary file, synced, then renamed.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bincode::Options;
use serde::{Deserialize, Serialize};

use crate::model::{ReadModel, TABLES};
use crate::source::{SharedSource, SourceError};
use crate::time;

/// The version of the file layout and row encoding; a snapshot of another
/// version is ignored (and deleted). Bump it when a row type changes.
pub const FORMAT_VERSION: u32 = 2;

/// The first bytes of a snapshot file.
pub const MAGIC: &[u8; 8] = b"MLGSNAP\0";

/// Events of the logs (summed) between two snapshots by default (at least:
/// see [`GROWTH_DIVISOR`]).
pub const DEFAULT_EVERY: u64 = 50_000;

/// Past `every` times this many events, a snapshot is due every this
/// fraction of the logs rather than every `every` events. Writing a snapshot
/// costs time and bytes in proportion to the read models, which grow with
/// the logs: at a fixed step, following a log of `n` events would write
/// `n / every` snapshots of up to `n` events each, quadratic in `n`
/// (docs/benchmarks.md, "Région-scale run"). Growing the step
/// with the logs keeps the total linear (about `GROWTH_DIVISOR` times the
/// latest snapshot), and an `as_of` query's tail at most a twentieth of the
/// logs.
pub const GROWTH_DIVISOR: u64 = 20;

/// The snapshots' folder in the projections' data folder.
pub const DIR: &str = "snapshots";

/// The extension of a snapshot file.
const EXTENSION: &str = "snap";

/// The newest snapshots always kept, [`Snapshots::every`] events apart: the
/// recent past (a steering committee's quarter) is what as-of reports ask most.
const RECENT_KEPT: usize = 4;

/// Older snapshots are kept one per span of events growing by this factor
/// ([`thinned`]): an `as_of` query in the past replays a tail of at most
/// about two spans, a fifth of the events up to its instant at worst and
/// usually a tenth or less, while the folder grows with the logarithm of
/// the logs.
const SPAN_GROWTH: f64 = 1.1;

/// The names of the tables a query reads (a subset of [`TABLES`]).
pub type Tables = &'static [&'static str];

/// A snapshot's header.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    /// Each context's position and the hash of the event there.
    heads: Vec<Head>,
    /// The tables, in section order.
    tables: Vec<String>,
}

/// A context's position in a snapshot.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    context: String,
    position: u64,
    hash: [u8; 32],
}

/// Why a snapshot cannot be written or used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing its file failed.
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    /// Its header or rows do not encode or decode.
    #[error("snapshot encoding: {0}")]
    Encoding(#[from] bincode::Error),
    /// Not a snapshot file.
    #[error("not a read-model snapshot")]
    Magic,
    /// A snapshot of another format.
    #[error("snapshot format version {0}, not {FORMAT_VERSION}")]
    Version(u32),
    /// It does not match the logs (or lacks a table asked for).
    #[error("snapshot does not match: {0}")]
    Mismatch(String),
}

/// A snapshot found for an instant, with its file positioned after the header.
enum Found {
    /// Usable: the header and the file.
    Usable(Header, BufReader<File>),
    /// Some of its events were recorded after the instant.
    Later,
}

/// The snapshots of one projections service, in one folder.
pub struct Snapshots {
    dir: PathBuf,
    every: u64,
    /// The events of the latest snapshot kept (0: none).
    latest: AtomicU64,
}

/// The bincode options of the header (and of the rows: see [`crate::model::Table::encode`]).
fn options() -> impl Options {
    bincode::DefaultOptions::new()
}

/// The events a model holds: the sum of its checkpoints.
pub fn events(model: &ReadModel) -> u64 {
    model.checkpoints().values().sum()
}

impl Snapshots {
    /// The snapshots in `dir` (created if missing; temporary files an
    /// interrupted write left are removed), one every `every` events (at
    /// least 1; more apart once the logs are long: [`step`]).
    pub fn open(dir: &Path, every: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|extension| extension == "tmp") {
                std::fs::remove_file(&path)?;
            }
        }
        let snapshots = Self {
            dir: dir.to_owned(),
            every: every.max(1),
            latest: AtomicU64::new(0),
        };
        snapshots.refresh_latest()?;
        Ok(snapshots)
    }

    /// The least events between two snapshots.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// The snapshot files and their events, most events first.
    pub fn list(&self) -> std::io::Result<Vec<(u64, PathBuf)>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path
                .extension()
                .is_none_or(|extension| extension != EXTENSION)
            {
                continue;
            }
            let events = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.split('-').next())
                .and_then(|events| events.parse::<u64>().ok());
            if let Some(events) = events {
                files.push((events, path));
            }
        }
        files.sort_by(|a, b| b.cmp(a));
        Ok(files)
    }

    fn refresh_latest(&self) -> std::io::Result<()> {
        let latest = self.list()?.first().map_or(0, |(events, _)| *events);
        self.latest.store(latest, Ordering::Relaxed);
        Ok(())
    }

    /// Whether `model` is at least [`step`] events beyond the latest
    /// snapshot kept.
    pub fn due(&self, model: &ReadModel) -> bool {
        let latest = self.latest.load(Ordering::Relaxed);
        events(model) >= latest + step(latest, self.every)
    }

    /// Writes a snapshot of every table of `model`. Writes nothing (`None`)
    /// when the hash at a checkpoint is unknown (a checkpoint stored before
    /// hashes were kept: the snapshot could not be checked against its log)
    /// or when the model holds no event.
    pub fn write(&self, model: &ReadModel) -> Result<Option<PathBuf>, SnapshotError> {
        let mut heads = Vec::new();
        for (context, position) in model.checkpoints() {
            let Some(hash) = model.head_hash(context) else {
                return Ok(None);
            };
            heads.push(Head {
                context: context.clone(),
                position: *position,
                hash,
            });
        }
        let total = events(model);
        if total == 0 {
            return Ok(None);
        }
        let mut name = format!("{total:020}");
        for head in &heads {
            name.push_str(&format!("-{}-{}", head.context, head.position));
        }
        let path = self.dir.join(format!("{name}.{EXTENSION}"));
        let temporary = self
            .dir
            .join(format!("{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = write_file(&temporary, model, heads).and_then(|()| {
            std::fs::rename(&temporary, &path)?;
            Ok(())
        });
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
        self.latest.fetch_max(total, Ordering::Relaxed);
        self.thin();
        Ok(Some(path))
    }

    /// Deletes the snapshots [`thinned`] does not keep, so that the folder
    /// grows with the logarithm of the logs, not with their length.
    fn thin(&self) {
        let files = match self.list() {
            Ok(files) => files,
            Err(error) => {
                tracing::warn!(%error, "cannot list the read-model snapshots to thin them");
                return;
            }
        };
        let events: Vec<u64> = files.iter().map(|(events, _)| *events).collect();
        let kept = thinned(&events, self.every);
        for (events, path) in files {
            if !kept.contains(&events) {
                if let Err(error) = std::fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), %error, "cannot delete a read-model snapshot");
                }
            }
        }
    }

    /// The read model of the nearest usable snapshot at or before `as_of`
    /// (µs), with only `tables` loaded (the others empty), or `None`.
    /// Snapshots of another format, or that do not match the logs, are
    /// deleted on the way. Fails only when a source cannot be read.
    pub async fn load_as_of(
        &self,
        sources: &[SharedSource],
        as_of: i64,
        tables: Tables,
    ) -> Result<Option<ReadModel>, SourceError> {
        let files = match self.list() {
            Ok(files) => files,
            Err(error) => {
                tracing::warn!(%error, "cannot list the read-model snapshots; replaying from the start");
                return Ok(None);
            }
        };
        for (_, path) in files {
            let found = match find(&path, sources, as_of).await {
                Ok(found) => found,
                Err(FindError::Source(error)) => return Err(error),
                Err(FindError::Snapshot(error)) => {
                    self.discard(&path, &error);
                    continue;
                }
            };
            let Found::Usable(header, mut file) = found else {
                continue;
            };
            match load(&header, &mut file, tables) {
                Ok(model) => return Ok(Some(model)),
                Err(error) => self.discard(&path, &error),
            }
        }
        Ok(None)
    }

    /// Deletes a snapshot that cannot be used.
    fn discard(&self, path: &Path, error: &SnapshotError) {
        tracing::warn!(path = %path.display(), %error, "read-model snapshot ignored and deleted");
        if let Err(error) = std::fs::remove_file(path) {
            tracing::warn!(path = %path.display(), %error, "cannot delete a read-model snapshot");
        }
        if let Err(error) = self.refresh_latest() {
            tracing::warn!(%error, "cannot list the read-model snapshots");
        }
    }
}

/// The events after a snapshot of `latest` events before the next one is
/// due: `every`, or a [`GROWTH_DIVISOR`]th of `latest` when that is more.
pub fn step(latest: u64, every: u64) -> u64 {
    every.max(1).max(latest / GROWTH_DIVISOR)
}

/// Which snapshots to keep, given their events, most first: the
/// [`RECENT_KEPT`] newest, then the newest of each span of events — the spans
/// start at `every` and each is [`SPAN_GROWTH`] times longer than the one
/// before, on absolute event counts, so that thinning after each write (as
/// [`Snapshots::write`] does) keeps the same older snapshots as thinning once
/// at the end. An as-of query in the recent past replays at most `every`
/// events past its snapshot; one with `n` events up to its instant, about a
/// fifth of `n` at worst — while the folder holds a number of snapshots that
/// grows with the logarithm of the logs.
pub fn thinned(events_most_first: &[u64], every: u64) -> Vec<u64> {
    let mut spans = std::collections::BTreeSet::new();
    events_most_first
        .iter()
        .enumerate()
        .filter(|(index, events)| {
            let newest_of_its_span = spans.insert(span(**events, every));
            *index < RECENT_KEPT || newest_of_its_span
        })
        .map(|(_, events)| *events)
        .collect()
}

/// The span of events `events` falls in (see [`thinned`]): 0 below `every`,
/// then `k` from `every × SPAN_GROWTH^(k-1)` on.
fn span(events: u64, every: u64) -> u64 {
    let every = every.max(1);
    if events < every {
        return 0;
    }
    // Exact enough: a count a rounding moves to the next span is only kept
    // or dropped with that span, the same way at every thinning.
    1 + ((events as f64 / every as f64).ln() / SPAN_GROWTH.ln()).floor() as u64
}

/// Writes the snapshot file of `model` at `path`, synced.
fn write_file(path: &Path, model: &ReadModel, heads: Vec<Head>) -> Result<(), SnapshotError> {
    let mut file = BufWriter::new(File::create(path)?);
    file.write_all(MAGIC)?;
    file.write_all(&FORMAT_VERSION.to_le_bytes())?;
    let header = Header {
        heads,
        tables: TABLES.iter().map(|table| (*table).to_owned()).collect(),
    };
    options().serialize_into(&mut file, &header)?;
    for table in TABLES {
        // The section's length is written once its rows are.
        let start = file.stream_position()?;
        file.write_all(&0u64.to_le_bytes())?;
        model.encode_table(table, &mut file)?;
        let end = file.stream_position()?;
        file.seek(SeekFrom::Start(start))?;
        file.write_all(&(end - start - 8).to_le_bytes())?;
        file.seek(SeekFrom::Start(end))?;
    }
    let file = file.into_inner().map_err(|error| error.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// Why a snapshot was not found usable.
enum FindError {
    /// A source could not be read: the replay cannot go on either.
    Source(SourceError),
    /// The snapshot cannot be used.
    Snapshot(SnapshotError),
}

impl From<SnapshotError> for FindError {
    fn from(error: SnapshotError) -> Self {
        Self::Snapshot(error)
    }
}

impl From<std::io::Error> for FindError {
    fn from(error: std::io::Error) -> Self {
        Self::Snapshot(error.into())
    }
}

/// Reads the header of the snapshot at `path` and checks it against the
/// logs: usable for `as_of`, or later than it.
async fn find(path: &Path, sources: &[SharedSource], as_of: i64) -> Result<Found, FindError> {
    let mut file = BufReader::new(File::open(path)?);
    let mut magic = [0u8; 8];
    file.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(SnapshotError::Magic.into());
    }
    let mut version = [0u8; 4];
    file.read_exact(&mut version)?;
    let version = u32::from_le_bytes(version);
    if version != FORMAT_VERSION {
        return Err(SnapshotError::Version(version).into());
    }
    let header: Header = options()
        .deserialize_from(&mut file)
        .map_err(SnapshotError::from)?;
    let mut later = false;
    for head in &header.heads {
        let source = sources
            .iter()
            .find(|source| source.context() == head.context)
            .ok_or_else(|| SnapshotError::Mismatch(format!("no log of {}", head.context)))?;
        let events = source
            .read(head.position, 1)
            .await
            .map_err(FindError::Source)?;
        let event = events
            .first()
            .filter(|event| event.position == head.position && event.hash == head.hash)
            .ok_or_else(|| {
                SnapshotError::Mismatch(format!(
                    "the log of {} has no such event at position {}",
                    head.context, head.position
                ))
            })?;
        let recorded = event.recorded_at.as_ref().map_or(i64::MIN, time::micros);
        later |= recorded > as_of;
    }
    Ok(if later {
        Found::Later
    } else {
        Found::Usable(header, file)
    })
}

/// The read model of a snapshot whose header was read from `file`, with
/// only `tables` loaded.
fn load(
    header: &Header,
    file: &mut BufReader<File>,
    tables: Tables,
) -> Result<ReadModel, SnapshotError> {
    if let Some(missing) = tables
        .iter()
        .find(|table| !header.tables.iter().any(|held| held == *table))
    {
        return Err(SnapshotError::Mismatch(format!("no table {missing}")));
    }
    let mut model = ReadModel::for_replay();
    for head in &header.heads {
        model.restore_checkpoint(&head.context, head.position, head.hash);
    }
    for table in &header.tables {
        let mut length = [0u8; 8];
        file.read_exact(&mut length)?;
        let length = u64::from_le_bytes(length);
        if !tables.contains(&table.as_str()) {
            let skip = i64::try_from(length)
                .map_err(|_| SnapshotError::Mismatch(format!("section {table} too long")))?;
            file.seek_relative(skip)?;
            continue;
        }
        let mut section = file.by_ref().take(length);
        model.decode_table(table, &mut section)?;
        if section.limit() != 0 {
            return Err(SnapshotError::Mismatch(format!(
                "section {table} longer than its rows"
            )));
        }
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_a_long_log_writes_snapshots_in_linear_total() {
        // A log followed event by event, with a snapshot every 100 events at
        // least: what the snapshots hold in total (their cost) stays within a
        // constant times the log, not the log's square over the step.
        let every = 100;
        let total = 1_000_000;
        let (mut latest, mut written, mut snapshots) = (0u64, 0u64, 0u64);
        for events in 1..=total {
            if events >= latest + step(latest, every) {
                latest = events;
                written += events;
                snapshots += 1;
            }
        }
        // At a fixed step: 10,000 snapshots holding 5 billion events.
        assert!(
            written <= 25 * total,
            "{written} events written in snapshots"
        );
        assert!(snapshots < 200, "{snapshots} snapshots");
        // Up to `every` times the divisor, one every `every` events.
        assert_eq!(step(0, every), every);
        assert_eq!(step(every * GROWTH_DIVISOR, every), every);
        assert_eq!(step(total, every), total / GROWTH_DIVISOR);
        // The as-of tail is at most a twentieth of the logs past that.
        assert!(total - latest <= step(latest, every));
    }

    #[test]
    fn recent_snapshots_are_kept_and_older_ones_one_per_growing_span() {
        // A snapshot every 10 events, 100 of them: 1,000 events.
        let every = 10;
        let all: Vec<u64> = (1..=100).rev().map(|n| n * every).collect();
        let kept = thinned(&all, every);
        assert_eq!(&kept[..RECENT_KEPT], &[1000, 990, 980, 970]);
        // Then the newest of each span: every gap to the next kept is within
        // a fifth of the events, and the oldest snapshots are all kept.
        for pair in kept.windows(2) {
            assert!(pair[0] - pair[1] <= pair[1] / 5 + every, "{kept:?}");
        }
        assert_eq!(kept.last(), Some(&10));
        assert!(kept.len() < 40, "{} kept of 100", kept.len());
        // Thinning what was kept keeps it: the folder is stable between writes.
        assert_eq!(thinned(&kept, every), kept);
        // A log ten times longer holds only a few dozen more snapshots.
        let longer: Vec<u64> = (1..=1000).rev().map(|n| n * every).collect();
        assert!(thinned(&longer, every).len() <= kept.len() + 30);
        assert!(thinned(&[], every).is_empty());
    }

    #[test]
    fn thinning_after_each_write_keeps_older_snapshots_as_thinning_once() {
        // As a live projection writes them: a snapshot every 50,000 events up
        // to 1,000,000, the folder thinned after each. Before, each thinning
        // measured its gaps from the newest snapshots, so every older one
        // was deleted in turn and only the four newest remained: an `as_of`
        // query mid-way replayed half the logs.
        let every = 50_000;
        let mut folder: Vec<u64> = Vec::new();
        for n in 1..=20u64 {
            folder.insert(0, n * every);
            folder = thinned(&folder, every);
        }
        let all: Vec<u64> = (1..=20u64).rev().map(|n| n * every).collect();
        assert_eq!(folder, thinned(&all, every));
        assert!(folder.len() > RECENT_KEPT + 8, "{folder:?}");
        // Any instant past the first snapshot has one within a fifth of its events.
        for events in every..=1_000_000 {
            let nearest = folder.iter().find(|kept| **kept <= events).copied();
            let nearest = nearest.unwrap_or(0);
            assert!(
                events - nearest <= events / 5 + every,
                "{events}: {folder:?}"
            );
        }
    }
}
