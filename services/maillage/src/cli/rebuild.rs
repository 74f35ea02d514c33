//! `maillage rebuild`: rebuilds the live read models from position 1 of every log
//! (the projections' `Rebuild` RPC, role admin), without downtime.

use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::ProjectionRebuildRequest;

use super::client::{explain, Connection};

/// Asks the running platform to rebuild its projections and says how much it replayed.
pub async fn run(connection: &Connection) -> anyhow::Result<()> {
    let mut projections = ProjectionsClient::new(connection.connect().await?);
    let rebuilt = projections
        .rebuild(ProjectionRebuildRequest::default())
        .await
        .map_err(explain)?
        .into_inner();
    println!("{} events replayed", rebuilt.events_replayed);
    for checkpoint in &rebuilt.checkpoints {
        println!(
            "{:<13} up to position {}",
            checkpoint.context, checkpoint.position
        );
    }
    Ok(())
}
