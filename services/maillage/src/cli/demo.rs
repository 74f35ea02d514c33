//! `maillage demo`: plays the demo territory's story through the gRPC API — against a
//! platform it starts in-process on a fresh data directory, or against a running one
//! (`--endpoint`) — then prints the territory's engagement summary in French and
//! writes the HTML report.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use maillage_service_kit::ServiceConfig;
use tokio::sync::oneshot;

use super::client::Connection;
use super::{catch_up, summary, territory};
use crate::demo;
use crate::report::{self, ReportData};

/// Options of `maillage demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Seed of the story: the same seed plays the same commands with the same request ids.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Play against this running platform instead of starting one in-process.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Bearer token (with --endpoint; default: the admin token of --data-dir).
    #[arg(long, env = "MAILLAGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Data directory: of the in-process platform (must be empty unless --force), or
    /// where the running platform keeps its admin token (with --endpoint).
    #[arg(long, env = "MAILLAGE_DATA_DIR", default_value = "maillage-data")]
    pub data_dir: PathBuf,
    /// Where to write the HTML report.
    #[arg(long, default_value = "maillage-report.html")]
    pub out: PathBuf,
    /// Play into a non-empty data directory (the same seed changes nothing: its
    /// requests are recognised and not recorded twice).
    #[arg(long)]
    pub force: bool,
    /// Multiplies the number of survey responses and business contacts (e.g. 0.1 for a quick run).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

/// Plays the story over `channel`, waits for the projections, gathers the report of
/// the demo territory and writes it to `out`.
pub async fn play_and_report(
    connection: &Connection,
    seed: u64,
    scale: f64,
    out: &Path,
) -> anyhow::Result<(demo::Outcome, ReportData)> {
    let outcome = demo::play(connection, seed, scale).await?;
    let channel = connection.connect().await?;
    catch_up::wait(channel.clone(), &outcome.positions).await?;
    let territory = territory::resolve(&outcome.territory)?;
    let data = report::gather(channel, &territory, None).await?;
    std::fs::write(out, report::render(&data)?)
        .with_context(|| format!("impossible d'écrire le rapport {}", out.display()))?;
    Ok((outcome, data))
}

fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => Err(error).with_context(|| format!("impossible de lire {}", dir.display())),
    }
}

/// Runs `maillage demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let (outcome, data) = match &args.endpoint {
        Some(endpoint) => {
            let connection = Connection {
                endpoint: endpoint.clone(),
                token: args.token.clone(),
                data_dir: args.data_dir.clone(),
                purpose: None,
            };
            play_and_report(&connection, args.seed, args.scale, &args.out).await?
        }
        None => in_process(&args).await?,
    };
    print!("{}", summary::text(&data));
    println!(
        "\n{} commandes envoyées (graine {}). Rapport HTML : {}",
        outcome.commands,
        args.seed,
        args.out.display()
    );
    print!("{}", console_hint(&args, &outcome.territory));
    Ok(())
}

/// Where to open the web console on the demo's data, and how to sign in.
fn console_hint(args: &DemoArgs, territory: &str) -> String {
    let (level, code) = territory.split_once(':').unwrap_or(("epci", territory));
    let page = format!("http://127.0.0.1:8080/territoire?niveau={level}&code={code}");
    let token = crate::bootstrap::admin_token_path(&args.data_dir);
    let start = match &args.endpoint {
        Some(_) => {
            "la plateforme qui a reçu la démo sert la console web (option --http de `maillage up`)"
                .to_owned()
        }
        None => format!(
            "lancez `maillage up --data-dir {}`",
            args.data_dir.display()
        ),
    };
    format!(
        "\nConsole web : {start}, puis ouvrez {page}\n\
         et connectez-vous avec le jeton administrateur enregistré dans {} (ou un jeton créé par `maillage token add`).\n",
        token.display()
    )
}

async fn in_process(args: &DemoArgs) -> anyhow::Result<(demo::Outcome, ReportData)> {
    if !args.force && !is_empty_dir(&args.data_dir)? {
        bail!(
            "le répertoire de données {} n'est pas vide : choisissez-en un autre avec --data-dir, ou rejouez-y la démo avec --force",
            args.data_dir.display()
        );
    }
    let config = ServiceConfig::for_dir(&args.data_dir);
    crate::bootstrap::prepare(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        crate::platform::serve(&config, listener, async {
            let _ = stopped.await;
        })
        .await
    });
    let connection = Connection {
        endpoint: format!("http://{address}"),
        token: None,
        data_dir: args.data_dir.clone(),
        purpose: None,
    };
    let played = play_and_report(&connection, args.seed, args.scale, &args.out).await;
    // Stop the platform whatever happened, then report the first failure.
    let _ = stop.send(());
    let served = server.await.context("the in-process platform panicked")?;
    let result = played?;
    served?;
    eprintln!(
        "maillage: les données de la démo sont dans {} : `maillage up --data-dir {}` les sert",
        args.data_dir.display(),
        args.data_dir.display()
    );
    Ok(result)
}
