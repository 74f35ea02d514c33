//! Rebuild and `as_of` benchmark of the projections over a million events
//! or more.
//!
//! Generates realistic protobuf payloads of the three contexts into real
//! event stores (`generator.rs`: sled, large pipelined appends,
//! `recorded_at` by a fixed clock, deterministic for `--generator-seed`): a
//! few thousand stakeholders across the communes of CA du Pays Basque (158
//! communes) over 2026 — or, with `--region 24 --years 5`, across every
//! EPCI of a région over five years —, contacts with one to three of them,
//! actions with invitations, answers and attendance, survey responses, and
//! a consortium. The logs are laid out as `maillage up` lays out its data
//! directory (`<dir>/stakeholders`, `engagement`, `governance`). Then, on
//! the same logs, measures:
//! - the store's raw replay: `read_all` from position 1 of every log;
//! - a full rebuild (`LiveProjection::rebuild` from local sources) into
//!   in-memory storage, then into a sled read-model database;
//! - the territory report (of the EPCI, or of the région) `as_of` the middle
//!   of the generated years and `as_of` the end (a replay of the events
//!   recorded up to the instant into fresh read models, then the query),
//!   with the process's peak RSS during each (reset through
//!   `/proc/self/clear_refs` before it).
//!
//! With `--as-of-only`, only the `as_of` reports, and with `--snapshot-every
//! N` (N > 0) the same reports from snapshots against full replays: the
//! snapshots are written first (when `<dir>/snapshots` holds none) by a live
//! projection fed the three logs in the order of their `recorded_at`, in
//! batches of 1,000, as it would follow them; then, mid-span, at the end and
//! at `--instants` random instants of the years, the report from the nearest snapshot and
//! the tail, then by a full replay (the baseline), each with its time and
//! peak RSS, and the two encoded reports compared.
//!
//! With `--steady`, only the steady state of a live projection on sled: a
//! rebuild into a fresh read-model database against the raw replay (and how
//! long a query of the previous models waited while it ran), the resident
//! memory holding the rebuilt models, and after loading them back from sled
//! (with the rows and bytes each table stores).
//!
//! The last line printed is one JSON object with every figure.
//!
//! `cargo run --release -p maillage-projections --example rebuild_bench -- --events 1000000`
//! (a région: `-- --region 24 --years 5 --stakeholders 50000 --events 10000000 --dir D`)
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod generator;

use std::sync::Arc;
use std::time::{Duration, Instant};

use generator::{Plan, Rng, Writer, END, EPCI};
use maillage_eventstore::EventStore;
use maillage_projections::queries::{territory, Page};
use maillage_projections::{
    local_sources, replay, snapshot, storage, LiveProjection, MemoryStorage, SharedSource,
    SledStorage, Snapshots,
};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};
use prost::Message;

/// The allocator of `maillage up` (see `services/maillage/src/main.rs`), so
/// that the figures are those of the platform.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The projections' rebuild and as-of replay over a generated platform.
#[derive(clap::Parser)]
struct Args {
    /// Events in the generated logs.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Stakeholders registered.
    #[arg(long, default_value_t = 4_000)]
    stakeholders: usize,
    /// Generate over every EPCI of this région (INSEE code, e.g. 24 for
    /// Centre-Val de Loire) instead of CA du Pays Basque, and report on the
    /// région.
    #[arg(long)]
    region: Option<String>,
    /// Years of activity, ending 2026-12-31 (the as-of instants are in
    /// them). Give the same `--region` and `--years` when reusing `--dir`.
    #[arg(long, default_value_t = 1)]
    years: u64,
    /// The seed of the generated logs (ids, payloads, times).
    #[arg(long, default_value_t = generator::SEED)]
    generator_seed: u64,
    /// Keep the logs in this directory; reuse them if it already holds some.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Only the `as_of` reports (in a fresh process, for a clean peak RSS).
    #[arg(long)]
    as_of_only: bool,
    /// With `--as-of-only`: compare reports from snapshots taken every this
    /// many events (0: no snapshots, the two fixed instants only).
    #[arg(long, default_value_t = 0)]
    snapshot_every: u64,
    /// Random instants of the year compared with `--snapshot-every`.
    #[arg(long, default_value_t = 6)]
    instants: usize,
    /// The seed of the random instants.
    #[arg(long, default_value_t = 17)]
    seed: u64,
    /// Only the steady state of a live projection on sled: the store's raw
    /// replay, a rebuild into a fresh sled read-model database (with a
    /// query answered while it runs), the resident memory while the
    /// rebuilt models are held, then again after they are loaded back
    /// from sled as `maillage up` does at start.
    #[arg(long)]
    steady: bool,
}

/// Resets the process's peak RSS (Linux), so that the next reading is the
/// peak of what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Gives the memory glibc keeps after frees back to the system (Linux), so
/// that a measure does not start above what the process holds.
fn trim() {
    #[cfg(target_os = "linux")]
    // SAFETY: malloc_trim takes an integer, returns an integer, and only
    // releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `VmHWM` or `VmRSS` of this process, in MiB.
fn rss_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The territory report `as_of` the middle of the generated years (about
/// half the events, from `start`) and `as_of` the end, each by a replay
/// into fresh read models; checks the latter against `live` when given.
/// Returns one JSON object per report.
async fn as_of_reports(
    sources: &[maillage_projections::SharedSource],
    cog: &Territory,
    reference: &TerritoryRef,
    start: u64,
    live: Option<&pb::TerritoryEngagementReport>,
) -> anyhow::Result<Vec<String>> {
    let mut figures = Vec::new();
    for (label, instant) in [
        ("mid-span", start + (END - start) / 2),
        ("end", END + 86_400),
    ] {
        let base = rss_mib("VmRSS");
        reset_peak_rss();
        let started = Instant::now();
        let model = replay::replay_as_of(sources, instant as i64 * 1_000_000).await?;
        let report = territory::report(&model, cog, reference, Page::ALL);
        let took = started.elapsed();
        let peak = rss_mib("VmHWM");
        let replayed: u64 = model.checkpoints().values().sum();
        if let (Some(live), "end") = (live, label) {
            anyhow::ensure!(
                &report == live,
                "the as_of report of the end differs from the rebuilt one"
            );
        }
        println!(
            "as_of {label}: {replayed} events replayed, report in {:.2} s; RSS before {base:.0} MiB, peak {peak:.0} MiB; {} stakeholders, {} contacts, {} actions, {} survey responses",
            took.as_secs_f64(),
            report.stakeholders_total,
            report.contacts,
            report.actions_held,
            report.survey_responses
        );
        figures.push(format!(
            "{{\"as_of\":\"{label}\",\"events\":{replayed},\"seconds\":{:.3},\"rss_before_mib\":{base:.0},\"peak_rss_mib\":{peak:.0}}}",
            took.as_secs_f64()
        ));
        drop(model);
    }
    Ok(figures)
}

/// The store's raw replay of every log from position 1: events read and seconds.
fn raw_replay(stores: &[(&str, EventStore)]) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let mut read = 0u64;
    for (_, store) in stores {
        let mut from = 1;
        loop {
            let batch = store.read_all(from, replay::READ_BATCH as usize)?;
            let Some(last) = batch.last() else { break };
            from = last.position + 1;
            read += batch.len() as u64;
        }
    }
    Ok((read, started.elapsed().as_secs_f64()))
}

/// `--steady`: the raw replay, a rebuild into sled (peak RSS, and how long a
/// territory query of the previous models waited while it ran), the RSS
/// holding the rebuilt models, the report on them, then the RSS and load
/// time of the models loaded back from sled in a fresh projection.
async fn steady(
    stores: &[(&str, EventStore)],
    sources: &[SharedSource],
    cog: &Territory,
    reference: &TerritoryRef,
) -> anyhow::Result<String> {
    let (read, raw) = raw_replay(stores)?;
    let raw_rate = read as f64 / raw;
    println!("raw read_all: {read} events in {raw:.2} s: {raw_rate:.0}/s");
    let read_models = tempfile::Builder::new()
        .prefix("maillage-rebuild-bench-steady-")
        .tempdir()?;
    trim();
    let base = rss_mib("VmRSS");
    reset_peak_rss();
    let live = Arc::new(LiveProjection::open(Arc::new(SledStorage::open(
        read_models.path(),
    )?))?);
    // A query of the (empty) previous models every 50 ms while the rebuild
    // runs: the longest it waited.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (live, done, reference) = (live.clone(), done.clone(), reference.clone());
        std::thread::spawn(move || {
            let mut longest = Duration::ZERO;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let _ = territory::report(&live.read(), Territory::shared(), &reference, Page::ALL);
                longest = longest.max(started.elapsed());
                std::thread::sleep(Duration::from_millis(50));
            }
            longest
        })
    };
    let started = Instant::now();
    let rebuilt = live.rebuild(sources).await?;
    let rebuild = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let longest_query = prober.join().expect("the prober thread").as_secs_f64();
    let rebuild_peak = rss_mib("VmHWM");
    let rebuild_rate = rebuilt as f64 / rebuild;
    println!(
        "rebuild (sled): {rebuilt} events in {rebuild:.2} s: {rebuild_rate:.0}/s, {:.1} % of raw; peak RSS {rebuild_peak:.0} MiB (from {base:.0}); longest query wait during it {longest_query:.3} s",
        100.0 * rebuild_rate / raw_rate
    );
    trim();
    let held = rss_mib("VmRSS");
    let started = Instant::now();
    let report = territory::report(&live.read(), cog, reference, Page::ALL);
    let query = started.elapsed().as_secs_f64();
    println!("held after the rebuild: RSS {held:.0} MiB; territory report {query:.3} s");
    drop(live);
    trim();
    let released = rss_mib("VmRSS");
    let started = Instant::now();
    let storage = Arc::new(SledStorage::open(read_models.path())?);
    let live = LiveProjection::open(storage.clone())?;
    let load = started.elapsed().as_secs_f64();
    let tables = table_sizes(&storage)?;
    println!("stored read-model rows by table (rows, MiB of keys and rows): {tables}");
    trim();
    let loaded = rss_mib("VmRSS");
    let started = Instant::now();
    let again = territory::report(&live.read(), cog, reference, Page::ALL);
    let query_loaded = started.elapsed().as_secs_f64();
    anyhow::ensure!(again == report, "the loaded models answer otherwise");
    println!(
        "loaded back from sled in {load:.2} s: RSS {loaded:.0} MiB (from {released:.0}); territory report {query_loaded:.3} s; {} contacts",
        report.contacts
    );
    Ok(format!(
        "{{\"events\":{read},\"raw_read_all_per_s\":{raw_rate:.0},\"rebuild_sled_per_s\":{rebuild_rate:.0},\"ratio_sled\":{:.3},\"rebuild_peak_rss_mib\":{rebuild_peak:.0},\"rss_base_mib\":{base:.0},\"longest_query_wait_s\":{longest_query:.3},\"rss_held_mib\":{held:.0},\"report_s\":{query:.3},\"load_s\":{load:.2},\"rss_released_mib\":{released:.0},\"rss_loaded_mib\":{loaded:.0},\"report_loaded_s\":{query_loaded:.3},\"tables\":{tables}}}",
        rebuild_rate / raw_rate
    ))
}

/// The rows of each table in the read-model database (both trees: the one a
/// rebuild replaced is dropped), and the MiB of their keys and stored rows,
/// as a JSON object: what the models would hold, and where the bytes are.
fn table_sizes(storage: &SledStorage) -> anyhow::Result<String> {
    let mut sizes = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for name in [storage::TREE, storage::ALTERNATE_TREE] {
        for entry in storage.db().open_tree(name)?.iter() {
            let (key, value) = entry?;
            let table = key.split(|byte| *byte == 0).next().unwrap_or_default();
            let size = sizes
                .entry(String::from_utf8_lossy(table).into_owned())
                .or_default();
            size.0 += 1;
            size.1 += (key.len() + value.len()) as u64;
        }
    }
    let fields: Vec<String> = sizes
        .iter()
        .map(|(table, (rows, bytes))| {
            format!(
                "\"{table}\":[{rows},{:.1}]",
                *bytes as f64 / (1 << 20) as f64
            )
        })
        .collect();
    Ok(format!("{{{}}}", fields.join(",")))
}

/// Feeds the three logs to a live projection (in memory, with `snapshots`)
/// in the order of their `recorded_at`, in batches of 1,000, as it would
/// follow them; returns the events applied.
async fn follow(sources: &[SharedSource], snapshots: Arc<Snapshots>) -> anyhow::Result<u64> {
    let live = LiveProjection::open(Arc::new(MemoryStorage))?.with_snapshots(snapshots);
    let mut next: Vec<u64> = vec![1; sources.len()];
    let mut buffers: Vec<std::collections::VecDeque<pb::EventEnvelope>> =
        vec![Default::default(); sources.len()];
    let mut batch = Vec::with_capacity(1_000);
    let mut applied = 0;
    loop {
        for (index, source) in sources.iter().enumerate() {
            if buffers[index].is_empty() {
                let events = source.read(next[index], replay::READ_BATCH).await?;
                if let Some(last) = events.last() {
                    next[index] = last.position + 1;
                }
                buffers[index].extend(events);
            }
        }
        let recorded = |event: &pb::EventEnvelope| {
            event
                .recorded_at
                .as_ref()
                .map_or(0, maillage_projections::time::micros)
        };
        let Some(index) = (0..sources.len())
            .filter(|index| !buffers[*index].is_empty())
            .min_by_key(|index| recorded(&buffers[*index][0]))
        else {
            break;
        };
        batch.extend(buffers[index].pop_front());
        if batch.len() == 1_000 {
            applied += live.apply_batch(&batch)?.applied as u64;
            batch.clear();
        }
    }
    applied += live.apply_batch(&batch)?.applied as u64;
    Ok(applied)
}

/// The territory's report `as_of` random instants of the generated years
/// (from `start`), from snapshots (written first if there are none) and by
/// full replays; one JSON object of every figure.
async fn snapshot_reports(
    args: &Args,
    start: u64,
    dir: &std::path::Path,
    sources: &[SharedSource],
    cog: &Territory,
    reference: &TerritoryRef,
) -> anyhow::Result<String> {
    let snapshots = Arc::new(Snapshots::open(
        &dir.join(snapshot::DIR),
        args.snapshot_every,
    )?);
    let mut following = String::from("null");
    if snapshots.list()?.is_empty() {
        let started = Instant::now();
        let applied = follow(sources, snapshots.clone()).await?;
        let took = started.elapsed();
        println!(
            "followed {applied} events with a snapshot every {} in {:.2} s ({:.0}/s)",
            args.snapshot_every,
            took.as_secs_f64(),
            applied as f64 / took.as_secs_f64()
        );
        following = format!(
            "{{\"events\":{applied},\"seconds\":{:.3}}}",
            took.as_secs_f64()
        );
    }
    let files = snapshots.list()?;
    let bytes: u64 = files
        .iter()
        .map(|(_, path)| std::fs::metadata(path).map_or(0, |meta| meta.len()))
        .sum();
    let largest = files.first().map_or(0, |(_, path)| {
        std::fs::metadata(path).map_or(0, |meta| meta.len())
    });
    println!(
        "{} snapshots, {:.0} MiB on disk (the latest {:.0} MiB)",
        files.len(),
        bytes as f64 / 1_048_576.0,
        largest as f64 / 1_048_576.0
    );
    let mut rng = Rng(args.seed.max(1));
    // From the end of the first month (the registrations) to the end.
    let first = start + 31 * 86_400;
    let mut instants = vec![start + (END - start) / 2, END + 86_400];
    instants.extend((0..args.instants).map(|_| first + rng.next() % (END - first)));
    let mut figures = Vec::new();
    for instant in instants {
        let instant = instant as i64 * 1_000_000;
        let measure = || {
            trim();
            let base = rss_mib("VmRSS");
            reset_peak_rss();
            (base, Instant::now())
        };
        let (base_fast, started) = measure();
        let model =
            replay::replay_as_of_from(Some(&snapshots), sources, instant, territory::TABLES)
                .await?;
        let replayed = started.elapsed();
        let fast_report = territory::report(&model, cog, reference, Page::ALL).encode_to_vec();
        let fast = started.elapsed();
        let query = fast - replayed;
        let fast_peak = rss_mib("VmHWM");
        drop(model);
        let (base_full, started) = measure();
        let model = replay::replay_as_of(sources, instant).await?;
        let full_report = territory::report(&model, cog, reference, Page::ALL).encode_to_vec();
        let full = started.elapsed();
        let full_peak = rss_mib("VmHWM");
        let events: u64 = model.checkpoints().values().sum();
        drop(model);
        // What the snapshot's load alone takes, of the snapshot + tail.
        let started = Instant::now();
        let loaded = snapshots
            .load_as_of(sources, instant, territory::TABLES)
            .await?;
        let load = started.elapsed();
        let from = loaded.as_ref().map_or(0, snapshot::events);
        drop(loaded);
        anyhow::ensure!(
            fast_report == full_report,
            "the report as_of {instant} from a snapshot differs from the full replay's"
        );
        let at = maillage_projections::time::rfc3339(instant);
        println!(
            "as_of {at} ({events} events): full replay {:.3} s, peak {full_peak:.0} MiB (from {base_full:.0}); snapshot + tail {:.3} s (load of the snapshot at {from} events {:.3} s, report {:.3} s), peak {fast_peak:.0} MiB (from {base_fast:.0}); time ratio {:.3}; identical reports",
            full.as_secs_f64(),
            fast.as_secs_f64(),
            load.as_secs_f64(),
            query.as_secs_f64(),
            fast.as_secs_f64() / full.as_secs_f64()
        );
        figures.push(format!(
            "{{\"as_of\":\"{at}\",\"events\":{events},\"full_s\":{:.3},\"full_peak_mib\":{full_peak:.0},\"snapshot_s\":{:.3},\"snapshot_events\":{from},\"load_s\":{:.3},\"report_s\":{:.3},\"snapshot_peak_mib\":{fast_peak:.0},\"ratio\":{:.3}}}",
            full.as_secs_f64(),
            fast.as_secs_f64(),
            load.as_secs_f64(),
            query.as_secs_f64(),
            fast.as_secs_f64() / full.as_secs_f64()
        ));
    }
    Ok(format!(
        "{{\"snapshot_every\":{},\"following\":{following},\"snapshots\":{},\"snapshot_mib\":{:.0},\"reports\":[{}]}}",
        args.snapshot_every,
        files.len(),
        bytes as f64 / 1_048_576.0,
        figures.join(",")
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let cog = Territory::shared();
    let mut plan = match &args.region {
        Some(region) => Plan::region(cog, region, args.years)?,
        None => Plan::epci(cog, EPCI, args.years)?,
    };
    plan.events = args.events;
    plan.stakeholders = args.stakeholders;
    plan.seed = args.generator_seed;
    let temp = tempfile::Builder::new()
        .prefix("maillage-rebuild-bench-")
        .tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());

    let started = Instant::now();
    let reuse = Writer::open(&dir.join("stakeholders"))?;
    let reusing = reuse.store.head().position > 0;
    reuse.store.close().await?;
    drop(reuse);
    let logs = if reusing {
        [
            ("stakeholders", Writer::open(&dir.join("stakeholders"))?),
            ("engagement", Writer::open(&dir.join("engagement"))?),
            ("governance", Writer::open(&dir.join("governance"))?),
        ]
    } else {
        println!(
            "generating {} events: {} stakeholders, {} EPCIs, {} communes, {} years",
            plan.events,
            plan.stakeholders,
            plan.epcis.len(),
            plan.communes().len(),
            args.years
        );
        generator::generate(&dir, &plan).await?
    };
    let generation = started.elapsed();
    let stores: Vec<(&str, EventStore)> = logs
        .iter()
        .map(|(context, writer)| (*context, writer.store.clone()))
        .collect();
    let counts: Vec<(String, u64)> = stores
        .iter()
        .map(|(context, store)| ((*context).to_owned(), store.head().position))
        .collect();
    let events: u64 = counts.iter().map(|(_, n)| n).sum();
    let disk: u64 = stores
        .iter()
        .map(|(_, store)| store.size_on_disk().unwrap_or(0))
        .sum();
    println!(
        "{} {events} events {counts:?} in {:.1} s ({:.0}/s), {:.0} MiB on disk",
        if reusing { "reused" } else { "generated" },
        generation.as_secs_f64(),
        events as f64 / generation.as_secs_f64(),
        disk as f64 / 1_048_576.0
    );
    if !reusing {
        let record: u64 = logs.iter().map(|(_, writer)| writer.record_bytes).sum();
        println!(
            "{{\"generated\":{events},\"generation_s\":{:.2},\"per_s\":{:.0},\"disk_bytes\":{disk},\"record_bytes\":{record},\"disk_per_event\":{:.0},\"record_per_event\":{:.0},\"disk_to_record_ratio\":{:.3}}}",
            generation.as_secs_f64(),
            events as f64 / generation.as_secs_f64(),
            disk as f64 / events.max(1) as f64,
            record as f64 / events.max(1) as f64,
            disk as f64 / record.max(1) as f64
        );
    }
    let sources = local_sources(&stores);
    let reference = plan.reference()?;
    let start = plan.start;
    if args.as_of_only && args.snapshot_every > 0 {
        println!(
            "{}",
            snapshot_reports(&args, start, &dir, &sources, cog, &reference).await?
        );
        return Ok(());
    }
    if args.steady {
        println!("{}", steady(&stores, &sources, cog, &reference).await?);
        for (_, store) in &stores {
            store.close().await?;
        }
        return Ok(());
    }
    if args.as_of_only {
        for line in as_of_reports(&sources, cog, &reference, start, None).await? {
            println!("{line}");
        }
        return Ok(());
    }

    // The store's raw replay: read_all from position 1, 5,000 at a time.
    let started = Instant::now();
    let mut read = 0u64;
    for (_, store) in &stores {
        let mut from = 1;
        loop {
            let batch = store.read_all(from, replay::READ_BATCH as usize)?;
            let Some(last) = batch.last() else { break };
            from = last.position + 1;
            read += batch.len() as u64;
        }
    }
    let raw = started.elapsed();
    anyhow::ensure!(read == events, "read {read} of {events} events");
    let raw_rate = events as f64 / raw.as_secs_f64();
    println!(
        "raw read_all: {read} events in {:.2} s: {raw_rate:.0}/s",
        raw.as_secs_f64()
    );

    // Full rebuilds: in memory, then into a sled read-model database.
    let live = LiveProjection::open(Arc::new(MemoryStorage))?;
    let started = Instant::now();
    let replayed = live.rebuild(&sources).await?;
    let memory = started.elapsed();
    anyhow::ensure!(replayed == events, "rebuilt {replayed} of {events} events");
    let memory_rate = events as f64 / memory.as_secs_f64();
    println!(
        "rebuild (memory storage): {replayed} events in {:.2} s: {memory_rate:.0}/s, {:.1} % of raw read_all",
        memory.as_secs_f64(),
        100.0 * memory_rate / raw_rate
    );
    let live_report = territory::report(&live.read(), cog, &reference, Page::ALL);
    drop(live);

    let read_models = tempfile::Builder::new()
        .prefix("maillage-rebuild-bench-rm-")
        .tempdir()?;
    let live = LiveProjection::open(Arc::new(SledStorage::open(read_models.path())?))?;
    let started = Instant::now();
    live.rebuild(&sources).await?;
    let sled = started.elapsed();
    let sled_rate = events as f64 / sled.as_secs_f64();
    println!(
        "rebuild (sled storage): {events} events in {:.2} s: {sled_rate:.0}/s, {:.1} % of raw read_all",
        sled.as_secs_f64(),
        100.0 * sled_rate / raw_rate
    );
    drop(live);

    // Territory reports `as_of` (their peak RSS here includes what the
    // rebuilds left allocated: run with --as-of-only for a clean figure).
    let as_of_figures = as_of_reports(&sources, cog, &reference, start, Some(&live_report)).await?;

    println!(
        "{{\"events\":{events},\"generation_s\":{:.2},\"disk_mib\":{:.0},\"raw_read_all_per_s\":{raw_rate:.0},\"rebuild_memory_per_s\":{memory_rate:.0},\"rebuild_sled_per_s\":{sled_rate:.0},\"ratio_memory\":{:.3},\"ratio_sled\":{:.3},\"as_of\":[{}]}}",
        generation.as_secs_f64(),
        disk as f64 / 1_048_576.0,
        memory_rate / raw_rate,
        sled_rate / raw_rate,
        as_of_figures.join(",")
    );
    for (_, store) in &stores {
        store.close().await?;
    }
    Ok(())
}
