//! `maillage-engagement`: the engagement command service on its own
//! (actions, surveys, interviews, diagnostics), with its EventLog, health and
//! reflection. Flags and `MAILLAGE_*` variables: see `--help`.

use clap::Parser;
use maillage_service_kit::ServiceConfig;

/// Maillage's engagement command service.
#[derive(Parser)]
#[command(name = "maillage-engagement", version, about)]
struct Cli {
    #[command(flatten)]
    service: ServiceConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    maillage_engagement::run(Cli::parse().service).await
}
