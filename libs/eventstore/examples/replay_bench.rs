//! Replay benchmark of an existing event store directory.
//!
//! Opens the store in `--dir` with the default options (the default sled
//! cache), then measures from position 1 to the head:
//! - `read_all` in pages of `--page` records;
//! - a catch-up subscription delivering every event;
//! - a catch-up subscription filtered on one category (`--category`) that
//!   matches none of the events, when given.
//!
//! Two binaries (a baseline and a change) can replay the same directory one
//! after the other. Fill a directory with `append_bench --keep DIR`. The last
//! line printed is one JSON object with every figure.
//!
//! `cargo run --release -p maillage-eventstore --example replay_bench -- --dir DIR`;
//! with `--features mimalloc`, the process allocates as the platform's
//! binaries do (mimalloc) rather than with glibc's malloc.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

#[path = "common/peak_rss.rs"]
mod peak_rss;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use maillage_eventstore::{EventStore, StoreOptions, Subscription, SubscriptionFilter};

/// The allocator of the platform's binaries, when the feature asks for it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Replay rates of the store in a directory.
#[derive(clap::Parser)]
struct Args {
    /// The store's directory (written before, e.g. by `append_bench --keep`).
    #[arg(long)]
    dir: PathBuf,
    /// Records per `read_all` call.
    #[arg(long, default_value_t = 4096)]
    page: usize,
    /// Also time a subscription filtered on this category.
    #[arg(long)]
    category: Option<String>,
}

/// Events/s of a subscription from position 1 until it has seen `head`
/// (or, filtered, until it has read past it).
async fn subscription_rate(mut subscription: Subscription, head: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    while subscription.next_position() <= head {
        // A filtered subscription that has read everything waits for the next
        // event: the short timeout ends that wait (and only interrupts a
        // catch-up between two batches, which the next call resumes).
        let next = tokio::time::timeout(Duration::from_millis(10), subscription.next()).await;
        match next {
            Ok(Some(record)) => {
                record?;
            }
            Ok(None) => anyhow::bail!("subscription ended"),
            Err(_) => {}
        }
    }
    Ok(head as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let store = EventStore::open(&args.dir, StoreOptions::default())?;
    let head = store.head().position;
    anyhow::ensure!(head > 0, "{} holds no event", args.dir.display());

    let started = Instant::now();
    let mut next = 1;
    let mut payload_bytes = 0usize;
    while next <= head {
        let records = store.read_all(next, args.page)?;
        payload_bytes += records.iter().map(|r| r.payload.len()).sum::<usize>();
        next = records.last().map_or(head + 1, |r| r.position + 1);
    }
    let read_all = head as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(payload_bytes > 0, "read nothing");

    let all = subscription_rate(store.subscribe(1, SubscriptionFilter::All), head).await?;
    let mut figures = vec![
        format!("\"events\":{head}"),
        format!("\"read_all_events_per_sec\":{read_all:.0}"),
        format!("\"subscription_events_per_sec\":{all:.0}"),
    ];
    if let Some(category) = args.category {
        let filter = SubscriptionFilter::Categories(vec![category]);
        let filtered = subscription_rate(store.subscribe(1, filter), head).await?;
        figures.push(format!(
            "\"filtered_subscription_events_per_sec\":{filtered:.0}"
        ));
    }
    figures.push(format!("\"peak_rss_mib\":{:.0}", peak_rss::peak_rss_mib()));
    store.close().await?;
    println!("{{{}}}", figures.join(","));
    Ok(())
}
