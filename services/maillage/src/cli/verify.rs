//! `maillage verify`: checks every log's hash chain and indexes, and prints each head
//! (or the first disagreement).

use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::VerifyRequest;

use super::client::{explain, Connection};
use crate::CONTEXTS;

/// Verifies each command service's log; fails when one is broken.
pub async fn run(connection: &Connection) -> anyhow::Result<()> {
    let mut logs = EventLogClient::new(connection.connect().await?);
    let mut broken = Vec::new();
    for context in CONTEXTS {
        let verified = logs
            .verify(VerifyRequest {
                context: context.to_string(),
            })
            .await
            .map_err(explain)?
            .into_inner();
        if verified.intact {
            let hash: String = verified
                .head_hash
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            println!(
                "{context:<13} intact  head {:>9}  {hash}",
                verified.position
            );
        } else {
            println!(
                "{context:<13} BROKEN  at {:>9}  {}",
                verified.position, verified.reason
            );
            broken.push(context);
        }
    }
    anyhow::ensure!(broken.is_empty(), "broken logs: {}", broken.join(", "));
    Ok(())
}
