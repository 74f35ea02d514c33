//! Append, replay and baseline benchmark of the event store.
//!
//! In one run it measures, on fresh directories:
//! - the raw sled ceiling: the same record bytes and stream-index entries written as
//!   large batches with one flush each (no checks, no event-id index, no hashing);
//! - the store: `--writers` tasks appending `--per-append` events at a time with
//!   `Exact(v)` to their own streams, each append durable before the next one;
//! - with `MAILLAGE_BENCH_PG` set to a PostgreSQL URL, the same workload against an
//!   event store on PostgreSQL with the same guarantees (unique (stream, version),
//!   unique event id, global position, check and insert in one transaction,
//!   `synchronous_commit = on`);
//! - with `--replay`, `read_all` and a catch-up subscription from position 1 over
//!   everything the store run wrote.
//!
//! The events carry a 200-byte payload padded with dots, or with
//! `--random-payloads` 200 random bytes (what compression cannot shrink:
//! sealed personal data), or, with `--payloads-from DIR`, the types, payloads and metadata of the first
//! records of the store in DIR (e.g. the logs `rebuild_bench` generates, with
//! real protobuf payloads), taken in turn under fresh event ids.
//!
//! `peak_rss_mib` is the process peak after the store run and replay, before the
//! baselines run. The last line printed is one JSON object with every figure.
//!
//! `cargo run --release -p maillage-eventstore --example append_bench -- --writers 64 --events 200000`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

#[path = "common/peak_rss.rs"]
mod peak_rss;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, Keyspace, SledEngine, SledOptions,
    StoreOptions, SubscriptionFilter, WriteBatch,
};
use uuid::Uuid;

const PAYLOAD_BYTES: usize = 200;
const RAW_BATCH: usize = 2048;

/// The store's append rate: writers appending small events, and a replay.
#[derive(clap::Parser)]
struct Args {
    /// Concurrent writers.
    #[arg(long, default_value_t = 64, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    writers: usize,
    /// Events appended in all.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Events per append.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    per_append: usize,
    /// Replay the log after the appends.
    #[arg(long)]
    replay: bool,
    /// sled's cache, in MiB (default: the store's).
    #[arg(long, default_value_t = SledOptions::default().cache_capacity >> 20)]
    cache_mib: u64,
    /// sled's segment size for the new database, in KiB (default: the store's).
    #[arg(long, default_value_t = SledOptions::default().segment_size >> 10)]
    segment_kib: usize,
    /// Write the store in this directory (created, must not hold a store) and
    /// leave it there, for `replay_bench`; a temporary directory otherwise.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
    /// zstd level sled compresses its pages with (default: not compressed).
    #[arg(long)]
    zstd: Option<i32>,
    /// Take the events' types, payloads and metadata from the first records
    /// (up to 200,000) of the store in this directory, in turn.
    #[arg(long, conflicts_with = "random_payloads")]
    payloads_from: Option<std::path::PathBuf>,
    /// Payloads of 200 random bytes instead of text padded with dots.
    #[arg(long)]
    random_payloads: bool,
    /// Flush as sled alone does, without the `fdatasync` of its data file
    /// the store adds by default (`SledOptions::sync_data`).
    #[arg(long)]
    no_sync_data: bool,
    /// Skip the raw sled ceiling (and the PostgreSQL baseline).
    #[arg(long)]
    no_baselines: bool,
}

/// Records read from `--payloads-from`, at most.
const SAMPLE_EVENTS: usize = 200_000;

/// The first records of the store in `dir`, as events to append again.
async fn sample(dir: &std::path::Path) -> anyhow::Result<Vec<EventData>> {
    let store = EventStore::open(dir, StoreOptions::default())?;
    let records = store.read_all(1, SAMPLE_EVENTS)?;
    store.close().await?;
    anyhow::ensure!(!records.is_empty(), "{} holds no event", dir.display());
    Ok(records
        .into_iter()
        .map(|record| EventData {
            event_id: record.event_id,
            event_type: record.event_type,
            payload: record.payload,
            metadata: record.metadata,
        })
        .collect())
}

/// What the appended events carry.
enum Payloads {
    /// Text padded with dots.
    Dots,
    /// Random bytes, as many.
    Random,
    /// Events of another store, taken in turn.
    Sample(Vec<EventData>),
}

/// The `n`th event of `writer`: generated, or taken in turn from the sample under a fresh id.
fn next_event(payloads: &Payloads, writers: usize, writer: usize, n: usize) -> EventData {
    match payloads {
        Payloads::Dots => event(writer, n),
        Payloads::Random => {
            let mut random = event(writer, n);
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut random.payload);
            random
        }
        Payloads::Sample(sample) => {
            let mut taken = sample[(n * writers + writer) % sample.len()].clone();
            taken.event_id = Uuid::new_v4();
            taken
        }
    }
}

/// Bytes of the record an event appended to a `bench-NN` stream becomes.
fn record_bytes_of(event: &EventData) -> usize {
    maillage_eventstore::record_len("bench-00", event)
}

fn event(writer: usize, n: usize) -> EventData {
    let mut payload = format!("writer {writer} event {n} ").into_bytes();
    payload.resize(PAYLOAD_BYTES, b'.');
    EventData {
        event_id: Uuid::new_v4(),
        event_type: "maillage.v1.bench.Appended".into(),
        payload,
        metadata: EventMetadata {
            actor: "bench".into(),
            request_id: Uuid::new_v4().to_string(),
            correlation_id: Uuid::new_v4().to_string(),
            causation_id: String::new(),
        },
    }
}

/// Bytes of one generated record.
fn record_bytes() -> usize {
    record_bytes_of(&event(0, 0))
}

/// The raw sled ceiling: the same bytes in large batches, one flush each.
fn raw_engine(events: usize, options: &SledOptions) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let engine = SledEngine::open(dir.path(), options)?;
    let value = vec![7u8; record_bytes()];
    let started = Instant::now();
    let mut position = 0u64;
    while (position as usize) < events {
        let mut batch = WriteBatch::new();
        for _ in 0..RAW_BATCH.min(events - position as usize) {
            position += 1;
            batch.put(Keyspace::Log, position.to_be_bytes(), value.clone());
            let mut stream_key = format!("bench-{:02}", position % 64).into_bytes();
            stream_key.push(0);
            stream_key.extend_from_slice(&position.to_be_bytes());
            batch.put(Keyspace::StreamIndex, stream_key, position.to_be_bytes());
        }
        maillage_eventstore::Engine::apply(&engine, batch)?;
        maillage_eventstore::Engine::flush(&engine)?;
    }
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

struct RunFigures {
    events_per_sec: f64,
    latencies: Histogram<u64>,
}

/// `writers` tasks, each appending to its own stream with `Exact(v)`.
async fn store_run(
    store: &EventStore,
    args: &Args,
    payloads: Arc<Payloads>,
) -> anyhow::Result<RunFigures> {
    let appends_per_writer = args.events / args.per_append / args.writers;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..args.writers {
        let store = store.clone();
        let per_append = args.per_append;
        let writers = args.writers;
        let payloads = payloads.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            let stream = format!("bench-{writer:02}");
            let mut version = 0;
            for n in 0..appends_per_writer {
                let events = (0..per_append)
                    .map(|i| next_event(&payloads, writers, writer, n * per_append + i))
                    .collect();
                let sent = Instant::now();
                let result = store
                    .append(&stream, ExpectedVersion::Exact(version), events)
                    .await?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
                version = result.stream_version;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies.add(task.await??)?;
    }
    let written = appends_per_writer * args.per_append * args.writers;
    Ok(RunFigures {
        events_per_sec: written as f64 / started.elapsed().as_secs_f64(),
        latencies,
    })
}

/// The same workload on PostgreSQL: what a user would otherwise pick.
async fn postgres_run(url: &str, args: &Args) -> anyhow::Result<RunFigures> {
    let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS bench_events;
             CREATE TABLE bench_events (
                 position bigserial PRIMARY KEY,
                 stream_id text NOT NULL,
                 version bigint NOT NULL,
                 event_id uuid NOT NULL UNIQUE,
                 event_type text NOT NULL,
                 payload bytea NOT NULL,
                 metadata jsonb NOT NULL,
                 recorded_at timestamptz NOT NULL DEFAULT now(),
                 UNIQUE (stream_id, version)
             );",
        )
        .await?;
    let appends_per_writer = args.events / args.per_append / args.writers;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..args.writers {
        let url = url.to_string();
        let per_append = args.per_append;
        tasks.push(tokio::spawn(async move {
            let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client.batch_execute("SET synchronous_commit = on").await?;
            let current = client
                .prepare("SELECT coalesce(max(version), 0) FROM bench_events WHERE stream_id = $1")
                .await?;
            let insert = client
                .prepare(
                    "INSERT INTO bench_events (stream_id, version, event_id, event_type, payload, metadata)
                     VALUES ($1, $2, $3::text::uuid, $4, $5, $6::text::jsonb)",
                )
                .await?;
            let mut latencies = Histogram::<u64>::new(3)?;
            let stream = format!("bench-{writer:02}");
            let mut version: i64 = 0;
            for n in 0..appends_per_writer {
                let events: Vec<EventData> =
                    (0..per_append).map(|i| event(writer, n * per_append + i)).collect();
                let sent = Instant::now();
                let tx = client.transaction().await?;
                let actual: i64 = tx.query_one(&current, &[&stream]).await?.get(0);
                anyhow::ensure!(actual == version, "wrong expected version");
                for e in &events {
                    version += 1;
                    let metadata = format!(
                        r#"{{"actor":"{}","request_id":"{}","correlation_id":"{}"}}"#,
                        e.metadata.actor, e.metadata.request_id, e.metadata.correlation_id
                    );
                    tx.execute(
                        &insert,
                        &[&stream, &version, &e.event_id.to_string(), &e.event_type, &e.payload, &metadata],
                    )
                    .await?;
                }
                tx.commit().await?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies.add(task.await??)?;
    }
    let written = appends_per_writer * args.per_append * args.writers;
    Ok(RunFigures {
        events_per_sec: written as f64 / started.elapsed().as_secs_f64(),
        latencies,
    })
}

/// `read_all` and a catch-up subscription from position 1 to the head: events/s each.
async fn replay(store: &EventStore) -> anyhow::Result<(f64, f64)> {
    let head = store.head().position;
    let started = Instant::now();
    let mut next = 1;
    let mut bytes = 0usize;
    while next <= head {
        let records = store.read_all(next, 4096)?;
        bytes += records.iter().map(|r| r.payload.len()).sum::<usize>();
        next = records.last().map_or(head + 1, |r| r.position + 1);
    }
    let read_all = head as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(bytes > 0 || head == 0, "read nothing");

    let started = Instant::now();
    let mut subscription = store.subscribe(1, SubscriptionFilter::All);
    let mut seen = 0;
    while seen < head {
        let record = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("subscription ended"))??;
        seen = record.position;
    }
    let subscription = head as f64 / started.elapsed().as_secs_f64();
    Ok((read_all, subscription))
}

/// Bytes of the files directly in `dir` (sled's blob files), 0 when there is none.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(|entry| entry.ok()?.metadata().ok())
            .map(|metadata| metadata.len())
            .sum()
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    eprintln!(
        "store: {} writers × {} events per append...",
        args.writers, args.per_append
    );
    let temporary = tempfile::tempdir()?;
    let dir = match &args.keep {
        Some(keep) => {
            std::fs::create_dir_all(keep)?;
            anyhow::ensure!(
                std::fs::read_dir(keep)?.next().is_none(),
                "{} is not empty",
                keep.display()
            );
            keep.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    let options = StoreOptions {
        sled: SledOptions {
            cache_capacity: args.cache_mib << 20,
            segment_size: args.segment_kib << 10,
            compression: args.zstd,
            sync_data: !args.no_sync_data,
        },
        ..StoreOptions::default()
    };
    let sled_options = options.sled.clone();
    let payloads = match &args.payloads_from {
        Some(from) => Payloads::Sample(sample(from).await?),
        None if args.random_payloads => Payloads::Random,
        None => Payloads::Dots,
    };
    // The sample is taken in turn: its mean record is the run's (exactly so
    // when the run appends a multiple of it).
    let record_bytes = match &payloads {
        Payloads::Sample(sample) => {
            sample.iter().map(record_bytes_of).sum::<usize>() as f64 / sample.len() as f64
        }
        Payloads::Dots | Payloads::Random => record_bytes() as f64,
    };
    let store = EventStore::open(&dir, options)?;
    let figures = store_run(&store, &args, Arc::new(payloads)).await?;
    let head = store.head().position;
    let bytes_per_event = store.size_on_disk()? as f64 / head.max(1) as f64;
    let blob_bytes_per_event = dir_bytes(&dir.join("blobs")) as f64 / head.max(1) as f64;
    let mut json = serde_json_like(&[
        ("writers", args.writers as f64),
        ("per_append", args.per_append as f64),
        ("cache_mib", args.cache_mib as f64),
        ("events", head as f64),
        ("events_per_sec", figures.events_per_sec),
        ("p50_us", figures.latencies.value_at_quantile(0.5) as f64),
        ("p99_us", figures.latencies.value_at_quantile(0.99) as f64),
        ("segment_kib", args.segment_kib as f64),
        ("zstd_level", f64::from(args.zstd.unwrap_or(0))),
        ("sync_data", f64::from(u8::from(!args.no_sync_data))),
        ("record_bytes", record_bytes),
        ("bytes_on_disk_per_event", bytes_per_event),
        ("blob_bytes_per_event", blob_bytes_per_event),
        ("disk_to_record_ratio", bytes_per_event / record_bytes),
    ]);
    if args.replay {
        eprintln!("replay of {head} events...");
        let (read_all, subscription) = replay(&store).await?;
        json.extend(serde_json_like(&[
            ("read_all_events_per_sec", read_all),
            ("subscription_events_per_sec", subscription),
        ]));
    }
    // The store's own footprint, before the baselines run in this process.
    json.extend(serde_json_like(&[(
        "peak_rss_mib",
        peak_rss::peak_rss_mib(),
    )]));
    store.close().await?;
    drop(store);
    if args.no_baselines {
        println!("{{{}}}", json.join(","));
        return Ok(());
    }

    eprintln!("raw sled ceiling over {} events...", args.events);
    let engine = raw_engine(args.events, &sled_options)?;
    json.extend(serde_json_like(&[
        ("engine_batch_events_per_sec", engine),
        ("ratio_to_engine", figures.events_per_sec / engine),
    ]));
    if let Some(url) = std::env::var("MAILLAGE_BENCH_PG")
        .ok()
        .filter(|url| !url.is_empty())
    {
        eprintln!("postgres baseline...");
        let pg = postgres_run(&url, &args).await?;
        json.extend(serde_json_like(&[
            ("postgres_events_per_sec", pg.events_per_sec),
            (
                "postgres_p50_us",
                pg.latencies.value_at_quantile(0.5) as f64,
            ),
            (
                "postgres_p99_us",
                pg.latencies.value_at_quantile(0.99) as f64,
            ),
            (
                "ratio_to_postgres",
                figures.events_per_sec / pg.events_per_sec,
            ),
        ]));
    }
    println!("{{{}}}", json.join(","));
    Ok(())
}

/// `"name":value` pairs, integers printed without a fraction.
fn serde_json_like(pairs: &[(&str, f64)]) -> Vec<String> {
    pairs
        .iter()
        .map(|(name, value)| {
            if value.fract() == 0.0 && value.abs() < 1e15 {
                format!("\"{name}\":{}", *value as i64)
            } else {
                format!("\"{name}\":{value:.3}")
            }
        })
        .collect()
}
