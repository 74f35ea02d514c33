//! Load benchmark: parses the embedded COG 2026 file several times and prints one JSON
//! line with the median load time and the record counts.
//!
//! `cargo run --release -p maillage-territory --example load_bench [runs]`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::time::{Duration, Instant};

use maillage_territory::Territory;

fn main() -> anyhow::Result<()> {
    let runs: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 15,
    };
    anyhow::ensure!(runs > 0, "runs must be positive");
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let territory = Territory::load()?;
        times.push(start.elapsed());
        last = Some(territory);
    }
    let territory = last.ok_or_else(|| anyhow::anyhow!("no run"))?;

    // The first name query folds every name once; time it separately.
    let start = Instant::now();
    let first = territory.closest_names("besancon", 5);
    let first_name_query = start.elapsed();
    let start = Instant::now();
    let again = territory.closest_names("saint denis la reunion", 5);
    let name_query = start.elapsed();
    anyhow::ensure!(!first.is_empty() && !again.is_empty(), "no name match");

    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{{\"runs\":{runs},\"load_ms_median\":{:.2},\"load_ms_min\":{:.2},\"load_ms_max\":{:.2},\
         \"first_closest_names_ms\":{:.2},\"closest_names_ms\":{:.2},\
         \"communes\":{},\"epci\":{},\"departements\":{},\"regions\":{},\"commune_aliases\":{}}}",
        ms(times[runs / 2]),
        ms(times[0]),
        ms(times[runs - 1]),
        ms(first_name_query),
        ms(name_query),
        territory.communes().len(),
        territory.epcis().len(),
        territory.departements().len(),
        territory.regions().len(),
        territory.commune_aliases().len(),
    );
    Ok(())
}
