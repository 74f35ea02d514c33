//! `maillage-stakeholders`: the stakeholders command service as its own process.

use clap::Parser;
use maillage_service_kit::{init_tracing, ServiceConfig};

/// Serves the stakeholders context (persons, organisations, the contact log)
/// and its event log over gRPC.
#[derive(Parser)]
#[command(name = "maillage-stakeholders", version)]
struct Cli {
    #[command(flatten)]
    service: ServiceConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.service.log_format);
    maillage_stakeholders::run(cli.service).await
}
