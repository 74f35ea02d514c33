//! The `maillage-console` binary: the web console alone, for split
//! deployments, talking to the services over gRPC.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;
use maillage_console::{Console, HttpArgs, HttpListen};

/// Maillage's web console, in front of running services.
#[derive(Parser)]
#[command(name = "maillage-console", version)]
struct Cli {
    /// The services' gRPC endpoint (where `maillage up`, or a gateway to the
    /// split services, listens); `https://…` speaks TLS (see `--grpc-ca`).
    #[arg(long, env = "MAILLAGE_GRPC", default_value = "http://127.0.0.1:50051")]
    grpc: String,

    /// File holding the token of a `respondent` principal, for the public
    /// survey page (without it, that page says it is unavailable).
    #[arg(long, env = "MAILLAGE_RESPONDENT_TOKEN_FILE")]
    respondent_token_file: Option<PathBuf>,

    #[command(flatten)]
    http: HttpArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "maillage-console: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    maillage_service_kit::init_tracing(maillage_service_kit::LogFormat::Human);
    let HttpListen::At(address) = cli.http.http else {
        bail!("--http off: nothing to serve");
    };
    let mut options = cli.http.options(cli.grpc)?;
    if let Some(path) = &cli.respondent_token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        options.respondent_token = Some(token.trim().to_owned());
    }
    let router = Console::router(options)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    Console::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
