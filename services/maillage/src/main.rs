//! The `maillage` binary: `maillage up` runs the whole platform; the other
//! subcommands administer a running one over gRPC.

use std::io::Write as _;

use clap::{Parser, Subcommand};
use maillage::cli::{
    self, audit::ExportCommand, client::Connection, demo::DemoArgs, privacy, report::ReportArgs,
    token::TokenCommand,
};
use maillage_service_kit::{init_tracing, ServiceConfig};

/// mimalloc rather than glibc's malloc: the read models, rebuilds and
/// `as_of` replays allocate and free gigabytes of small rows, which glibc's
/// heap kept (a rebuild's memory was not given back) and fragmented (loading
/// the models after a rebuild spent most of its time searching the heap);
/// see docs/benchmarks.md, "Bounded memory and rebuild".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Maillage: the engagement of a territory's actors in a tiers-lieux project.
#[derive(Parser)]
#[command(name = "maillage", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every service in one process on one port (sled, no broker), and
    /// the web console on its own HTTP port (--http).
    Up {
        #[command(flatten)]
        service: Box<ServiceConfig>,
        #[command(flatten)]
        http: maillage_console::HttpArgs,
    },
    /// Checks every log's hash chain and both its indexes, and prints each head.
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
    /// Plays the demo territory's story and writes its HTML report.
    Demo(DemoArgs),
    /// The engagement report of a territory (live, or by replay with --as-of).
    Report {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: ReportArgs,
    },
    /// Says whether an HTML report was derived from the audited logs: its sources'
    /// hashes, the chains, and the page recomputed byte for byte.
    VerifyReport {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: cli::verify_report::VerifyReportArgs,
    },
    /// Exports a report as a file.
    Export {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Erases a person's personal data (crypto-shredding; the audit keeps the contacts).
    Erase {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: privacy::EraseArgs,
    },
    /// The follow-ups of contacts still to do, by owner, territory and due date.
    FollowUps {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: cli::follow_ups::FollowUpsArgs,
    },
    /// Rebuilds the projections' read models from the logs, without downtime.
    Rebuild {
        #[command(flatten)]
        connection: Connection,
    },
    /// Rotates the master key offline: rewraps every data key (platform stopped).
    Rekey(cli::rekey::RekeyArgs),
    /// Searches the register (filters, a name, a saved segment), in French.
    Search {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: cli::search::SearchArgs,
    },
    /// Who to call first in a territory: élus not contacted since their
    /// mandate started, or businesses not contacted for some months.
    Reach {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: cli::reach::ReachArgs,
    },
    /// Importe des listes de contacts dans le registre (maillage import stakeholders FICHIER).
    Import {
        #[command(subcommand)]
        command: cli::import::ImportCommand,
    },
    /// The programme of the accompaniment: its axes and designated officers.
    Programme {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: cli::programme::ProgrammeCommand,
    },
    /// Saved searches of the register.
    Segment {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: cli::segment::SegmentCommand,
    },
    /// Writes a command service's lost log back from the JetStream stream,
    /// checking every hash and link (service stopped).
    Restore(cli::restore::RestoreArgs),
    /// Everything the platform holds about a person, in every service, as JSON
    /// (and a summary page in French with --html): subject access.
    SubjectExport {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        args: cli::subject_access::SubjectExportArgs,
    },
    /// Purpose-limited audiences for internal tools (a mailing tool): the
    /// persons who consented to a channel for a purpose, as CSV.
    Audience {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: cli::audience::AudienceCommand,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Not eprintln!: when stderr fails it panics, and exits 101 instead of 1.
            let _ = writeln!(std::io::stderr(), "maillage: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up { service, http } => {
            init_tracing(service.log_format);
            let listener = tokio::net::TcpListener::bind(service.listen).await?;
            maillage::bootstrap::prepare(&service)?;
            let console = maillage::console::start(&service, listener.local_addr()?, &http).await?;
            if let Some(console) = &console {
                let _ = writeln!(
                    std::io::stderr(),
                    "maillage: console web sur http://{} (connexion avec un jeton personnel)",
                    console.address
                );
            }
            let served =
                maillage::platform::serve(&service, listener, std::future::pending()).await;
            if let Some(console) = console {
                console.stop().await?;
            }
            served
        }
        Command::Verify { connection } => cli::verify::run(&connection).await,
        Command::Token {
            connection,
            command,
        } => cli::token::run(&connection, command).await,
        Command::Demo(args) => cli::demo::run(args).await,
        Command::Report { connection, args } => cli::report::run(&connection, args).await,
        Command::VerifyReport { connection, args } => {
            cli::verify_report::run(&connection, args).await
        }
        Command::Export {
            connection,
            command,
        } => cli::audit::run(&connection, command).await,
        Command::Erase { connection, args } => privacy::erase(&connection, args).await,
        Command::FollowUps { connection, args } => cli::follow_ups::run(&connection, args).await,
        Command::Rebuild { connection } => cli::rebuild::run(&connection).await,
        Command::Rekey(args) => cli::rekey::run(args),
        Command::Search { connection, args } => cli::search::run(&connection, args).await,
        Command::Reach { connection, args } => cli::reach::run(&connection, args).await,
        Command::Segment {
            connection,
            command,
        } => cli::segment::run(&connection, command).await,
        Command::Programme {
            connection,
            command,
        } => cli::programme::run(&connection, command).await,
        Command::Import { command } => cli::import::run(command).await,
        Command::Restore(args) => cli::restore::run(args).await,
        Command::SubjectExport { connection, args } => {
            cli::subject_access::run(&connection, args).await
        }
        Command::Audience {
            connection,
            command,
        } => cli::audience::run(&connection, command).await,
    }
}
