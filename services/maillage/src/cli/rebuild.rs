//! `maillage rebuild`: rebuilds the live read models from position 1 of every log
//! (the projections' `Rebuild` RPC, role admin), without downtime. While it runs,
//! a terminal sees its progress, read from `GetProjectionStatus`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::{ProjectionRebuildRequest, ProjectionStatusRequest};

use super::client::{explain, Connection};

/// How often the progress is read.
const POLL: Duration = Duration::from_millis(500);

/// A bar on standard error, when it is a terminal.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("reconstruction {bar:40} {pos}/{len} événements  {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Asks the running platform to rebuild its projections and says how much it replayed.
pub async fn run(connection: &Connection) -> anyhow::Result<()> {
    let channel = connection.connect().await?;
    let mut projections = ProjectionsClient::new(channel.clone());
    let mut status = ProjectionsClient::new(channel);
    let bar = progress_bar();
    let rebuild = projections.rebuild(ProjectionRebuildRequest::default());
    tokio::pin!(rebuild);
    let rebuilt = loop {
        tokio::select! {
            rebuilt = &mut rebuild => break rebuilt.map_err(explain)?.into_inner(),
            () = tokio::time::sleep(POLL), if !bar.is_hidden() => {
                // Progress is a courtesy: a status that fails to come is skipped.
                if let Ok(reply) = status.get_projection_status(ProjectionStatusRequest {}).await {
                    if let Some(progress) = reply.into_inner().rebuild.filter(|p| p.running) {
                        bar.set_length(progress.events_expected.max(progress.events_replayed));
                        bar.set_position(progress.events_replayed);
                    }
                }
            }
        }
    };
    bar.finish_and_clear();
    println!("{} events replayed", rebuilt.events_replayed);
    for checkpoint in &rebuilt.checkpoints {
        println!(
            "{:<13} up to position {}",
            checkpoint.context, checkpoint.position
        );
    }
    Ok(())
}
