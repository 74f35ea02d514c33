//! The `maillage-governance` binary: the governance command service on its own.

use clap::Parser;
use maillage_service_kit::{init_tracing, ServiceConfig};

/// Serves Maillage's governance service (consortium, meetings, votes, commitments).
#[derive(Parser)]
#[command(name = "maillage-governance", version)]
struct Cli {
    #[command(flatten)]
    service: ServiceConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.service.log_format);
    maillage_governance::run(cli.service).await
}
