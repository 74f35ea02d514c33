//! `maillage rebuild`: rebuilds the live read models from position 1 of every log
//! (the projections' `Rebuild` RPC, role admin), without downtime. While it runs,
//! a terminal sees its progress, read from `GetProjectionStatus`.

use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::{ProjectionRebuildRequest, ProjectionStatusRequest};

use super::client::{explain, Connection};

/// Asks the running platform to rebuild its projections and says how much it replayed.
pub async fn run(connection: &Connection) -> anyhow::Result<()> {
    let channel = connection.connect().await?;
    let mut projections = ProjectionsClient::new(channel.clone());
    let status = ProjectionsClient::new(channel);
    let bar = super::progress::bar(
        None,
        "reconstruction {bar:40} {pos}/{len} événements  {per_sec}",
    );
    let rebuild = projections.rebuild(ProjectionRebuildRequest::default());
    let rebuilt = super::progress::follow(rebuild, &bar, || {
        let (mut status, bar) = (status.clone(), bar.clone());
        async move {
            // Progress is a courtesy: a status that fails to come is skipped.
            if let Ok(reply) = status
                .get_projection_status(ProjectionStatusRequest {})
                .await
            {
                if let Some(progress) = reply.into_inner().rebuild.filter(|p| p.running) {
                    bar.set_length(progress.events_expected.max(progress.events_replayed));
                    bar.set_position(progress.events_replayed);
                }
            }
        }
    })
    .await
    .map_err(explain)?
    .into_inner();
    println!("{} événements relus", rebuilt.events_replayed);
    for checkpoint in &rebuilt.checkpoints {
        println!(
            "{:<13} jusqu'à la position {}",
            checkpoint.context, checkpoint.position
        );
    }
    Ok(())
}
