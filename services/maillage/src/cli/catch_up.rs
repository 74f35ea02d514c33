//! Waits until the projections have applied every event a client's commands wrote,
//! so that the reports that follow see them (read-your-writes across services).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::ProjectionStatusRequest;

use super::client::{explain, Authed};

/// Longest wait before giving up.
const PATIENCE: Duration = Duration::from_secs(120);

/// Polls the projections' checkpoints until each context reaches its position.
pub async fn wait(channel: Authed, positions: &BTreeMap<&'static str, u64>) -> anyhow::Result<()> {
    let mut projections = ProjectionsClient::new(channel);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = projections
            .get_projection_status(ProjectionStatusRequest {})
            .await
            .map_err(explain)?
            .into_inner();
        let reached: BTreeMap<String, u64> = status
            .checkpoints
            .into_iter()
            .map(|checkpoint| (checkpoint.context, checkpoint.position))
            .collect();
        let behind: Vec<String> = positions
            .iter()
            .filter(|(context, position)| reached.get(**context).copied().unwrap_or(0) < **position)
            .map(|(context, position)| {
                format!(
                    "{context} {}/{position}",
                    reached.get(*context).copied().unwrap_or(0)
                )
            })
            .collect();
        if behind.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "les projections n'ont pas rattrapé les journaux en {} s : {}",
                PATIENCE.as_secs(),
                behind.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
