//! `maillage-projections`: the projections service as its own process, fed by
//! JetStream, replaying from the command services' `EventLog`s.

use clap::Parser;
use maillage_projections::ProjectionsConfig;
use maillage_service_kit::init_tracing;

/// mimalloc rather than glibc's malloc: the read models, rebuilds and
/// `as_of` replays allocate and free gigabytes of small rows, which glibc's
/// heap kept (a rebuild's memory was not given back) and fragmented (loading
/// the models after a rebuild spent most of its time searching the heap);
/// see docs/benchmarks.md, "Bounded memory and rebuild".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serves Maillage's read models (territory engagement, timelines, the
/// contact audit, survey results, the consortium's state) over gRPC.
#[derive(Parser)]
#[command(name = "maillage-projections", version)]
struct Cli {
    #[command(flatten)]
    projections: ProjectionsConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.projections.service.log_format);
    maillage_projections::run(cli.projections).await
}
