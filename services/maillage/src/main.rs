//! The `maillage` binary: `maillage up` runs the whole platform; the other
//! subcommands administer a running one over gRPC.

use clap::{Parser, Subcommand};
use maillage::cli::{self, client::Connection, token::TokenCommand};
use maillage_service_kit::{init_tracing, ServiceConfig};

/// Maillage: the engagement of a territory's actors in a tiers-lieux project.
#[derive(Parser)]
#[command(name = "maillage", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every service in one process on one port (sled, no broker).
    Up {
        #[command(flatten)]
        service: ServiceConfig,
    },
    /// Checks every log's hash chain and prints each head.
    Verify {
        #[command(flatten)]
        connection: Connection,
    },
    /// Manages bearer tokens.
    Token {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("maillage: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up { service } => {
            init_tracing(service.log_format);
            let listener = tokio::net::TcpListener::bind(service.listen).await?;
            maillage::platform::serve(&service, listener, std::future::pending()).await
        }
        Command::Verify { connection } => cli::verify::run(&connection).await,
        Command::Token {
            connection,
            command,
        } => cli::token::run(&connection, command).await,
    }
}
