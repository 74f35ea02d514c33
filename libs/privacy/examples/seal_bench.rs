//! Benchmark: seal and open 1 KiB fields with a cached data key, plus the cost
//! of creating a key (durable) and of unwrapping one on a cache miss.
//!
//! `cargo run --release -p maillage-privacy --example seal_bench` prints one JSON line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use maillage_privacy::{KeyVault, MasterKey, SubjectId};

const FIELD_BYTES: usize = 1024;
const RUN_FOR: Duration = Duration::from_secs(2);

/// Runs `op` repeatedly for about `RUN_FOR` and returns operations per second.
fn rate(mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < RUN_FOR {
        for _ in 0..256 {
            op(done);
            done += 1;
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new().path(dir.path().join("db")).open()?;
    let vault = KeyVault::new(db.open_tree("privacy.keys")?, MasterKey::generate())?;
    let subject = SubjectId::person("0190a1b2-0000-7000-8000-000000000001");
    let plaintext: Vec<u8> = (0..FIELD_BYTES).map(|i| (i % 251) as u8).collect();
    vault.key_for(&subject)?; // cached from here on

    let seal_per_sec = rate(|_| {
        black_box(
            vault
                .seal(&subject, "notes", black_box(&plaintext))
                .expect("seal"),
        );
    });
    let sealed = vault.seal(&subject, "notes", &plaintext)?;
    let open_per_sec = rate(|_| {
        black_box(
            vault
                .open(&subject, "notes", black_box(&sealed))
                .expect("open"),
        );
    });

    // Key creation: wrap, compare-and-swap, flush to disk (once per new subject).
    let start = Instant::now();
    let created = 200u64;
    for n in 0..created {
        vault.key_for(&SubjectId::person(format!("new-{n}")))?;
    }
    let key_create_per_sec = created as f64 / start.elapsed().as_secs_f64();

    // Cache misses: a one-entry cache and two subjects taken in turn, so every
    // call reads the tree and unwraps.
    let small_db = sled::Config::new().path(dir.path().join("small")).open()?;
    let small = KeyVault::with_cache_capacity(
        small_db.open_tree("privacy.keys")?,
        MasterKey::generate(),
        NonZeroUsize::MIN,
    )?;
    let pair = [SubjectId::person("a"), SubjectId::person("b")];
    for subject in &pair {
        small.key_for(subject)?;
    }
    let key_unwrap_per_sec = rate(|n| {
        black_box(small.key_for(&pair[(n % 2) as usize]).expect("key_for"));
    });

    println!(
        "{{\"bench\":\"seal_bench\",\"field_bytes\":{FIELD_BYTES},\"threads\":1,\
         \"seal_per_sec\":{seal_per_sec:.0},\"open_per_sec\":{open_per_sec:.0},\
         \"seal_mib_per_sec\":{:.1},\"open_mib_per_sec\":{:.1},\
         \"key_create_durable_per_sec\":{key_create_per_sec:.0},\
         \"key_unwrap_cache_miss_per_sec\":{key_unwrap_per_sec:.0}}}",
        seal_per_sec * FIELD_BYTES as f64 / (1024.0 * 1024.0),
        open_per_sec * FIELD_BYTES as f64 / (1024.0 * 1024.0),
    );
    Ok(())
}
