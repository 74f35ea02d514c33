//! `maillage verify-report FILE`: says whether an HTML report was derived from the
//! audited logs. The page names the territory, the instant replayed and, for each
//! log, the position and hash of the last event it read (`<meta name="maillage:…">`).
//! This checks that each of those events is in the log with that hash and that the
//! log's chain is intact, then recomputes the page from the logs and compares the
//! bytes. A report replayed `--as-of` a past instant recomputes identically for
//! ever; a live report recomputes only while no log has moved since.

use std::path::PathBuf;

use anyhow::Context;
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;

use super::client::{explain, Authed, Connection};
use super::territory;
use crate::report::dates::parse_rfc3339;
use crate::report::LogSource;

/// Options of `maillage verify-report`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyReportArgs {
    /// The HTML report to check (written by `maillage report` or `maillage demo`).
    pub file: PathBuf,
}

/// What a report says it was computed from.
#[derive(Debug, Default, PartialEq, Eq)]
struct Claimed {
    territory: String,
    as_of: Option<String>,
    diff_from: Option<String>,
    sources: Vec<LogSource>,
}

/// The `content` of every `<meta name="maillage:NAME" content="…">` of the page.
fn metas<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    let opening = format!("<meta name=\"maillage:{name}\" content=\"");
    page.match_indices(&opening)
        .filter_map(|(at, _)| {
            let rest = &page[at + opening.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

fn read_claims(page: &str) -> anyhow::Result<Claimed> {
    let Some(territory) = metas(page, "territory").first().map(|t| (*t).to_owned()) else {
        anyhow::bail!(
            "ce fichier n'est pas un rapport HTML de Maillage vérifiable (il ne dit pas de quel territoire ni de quels journaux il est tiré)"
        );
    };
    let sources = metas(page, "source")
        .into_iter()
        .map(|source| {
            let mut parts = source.split(' ');
            match (
                parts.next(),
                parts.next().map(str::parse::<u64>),
                parts.next(),
            ) {
                (Some(context), Some(Ok(position)), hash) => Ok(LogSource {
                    context: context.to_owned(),
                    position,
                    hash: hash.unwrap_or_default().to_owned(),
                }),
                _ => Err(anyhow::anyhow!(
                    "source illisible dans le rapport : « {source} »"
                )),
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Claimed {
        territory,
        as_of: metas(page, "as-of").first().map(|t| (*t).to_owned()),
        diff_from: metas(page, "diff-from").first().map(|t| (*t).to_owned()),
        sources,
    })
}

/// Checks that the log holds the source's event with its hash and that its chain is
/// intact; returns the log's head position.
async fn check_source(
    logs: &mut EventLogClient<Authed>,
    source: &LogSource,
) -> anyhow::Result<u64> {
    let verified = logs
        .verify(pb::VerifyRequest {
            context: source.context.clone(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    anyhow::ensure!(
        verified.intact,
        "le journal {} est altéré en position {} : {}",
        source.context,
        verified.position,
        verified.reason
    );
    if source.position == 0 {
        return Ok(verified.position);
    }
    let page = logs
        .read_all(pb::ReadAllRequest {
            from_position: source.position,
            limit: 1,
            context: source.context.clone(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    let Some(event) = page
        .events
        .first()
        .filter(|e| e.position == source.position)
    else {
        anyhow::bail!(
            "le journal {} n'a pas de position {} (il en a {})",
            source.context,
            source.position,
            page.head_position
        );
    };
    let hash = hex::encode(&event.hash);
    anyhow::ensure!(
        hash == source.hash,
        "la position {} du journal {} a l'empreinte {hash}, le rapport dit {}",
        source.position,
        source.context,
        source.hash
    );
    Ok(verified.position)
}

/// The first line where two pages differ (1-based), for the message.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

/// Runs `maillage verify-report`.
pub async fn run(connection: &Connection, args: VerifyReportArgs) -> anyhow::Result<()> {
    let page = std::fs::read_to_string(&args.file)
        .with_context(|| format!("impossible de lire {}", args.file.display()))?;
    let claimed = read_claims(&page)?;
    let territory = territory::resolve(&claimed.territory)?;
    let as_of = claimed.as_of.as_deref().map(parse_rfc3339).transpose()?;
    let from = claimed
        .diff_from
        .as_deref()
        .map(parse_rfc3339)
        .transpose()?;
    let channel = connection.connect().await?;
    let mut logs = EventLogClient::new(channel.clone());
    anyhow::ensure!(
        claimed.sources.len() == crate::CONTEXTS.len(),
        "le rapport ne nomme pas ses {} journaux",
        crate::CONTEXTS.len()
    );
    let mut moved = Vec::new();
    for source in &claimed.sources {
        let head = check_source(&mut logs, source).await?;
        println!(
            "{:<13} position {:>9} présente, empreinte identique, chaîne intacte",
            source.context, source.position
        );
        if head != source.position {
            moved.push(source.context.as_str());
        }
    }
    if claimed.as_of.is_none() && !moved.is_empty() {
        anyhow::bail!(
            "rapport en direct : les journaux {} ont avancé depuis, ses chiffres ne peuvent plus être recalculés ; un rapport produit avec --as-of se vérifie à tout moment",
            moved.join(", ")
        );
    }
    let recomputed = super::report::html(channel, &territory, as_of, from).await?;
    if recomputed == page {
        println!(
            "rapport identique : recalculé depuis les journaux ({} octets)",
            page.len()
        );
        Ok(())
    } else {
        anyhow::bail!(
            "rapport différent de celui que les journaux donnent (première différence ligne {})",
            first_difference(&page, &recomputed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_page_claims_is_read_from_its_meta_elements() {
        let page = "<head><meta name=\"maillage:territory\" content=\"epci:243700499\">\n\
                    <meta name=\"maillage:as-of\" content=\"2026-06-30T00:00:00Z\">\n\
                    <meta name=\"maillage:source\" content=\"stakeholders 12 ab01\">\n\
                    <meta name=\"maillage:source\" content=\"engagement 0 \">";
        let claimed = read_claims(page).unwrap();
        assert_eq!(claimed.territory, "epci:243700499");
        assert_eq!(claimed.as_of.as_deref(), Some("2026-06-30T00:00:00Z"));
        assert_eq!(claimed.diff_from, None);
        assert_eq!(claimed.sources.len(), 2);
        assert_eq!(claimed.sources[0].position, 12);
        assert_eq!(claimed.sources[0].hash, "ab01");
        assert_eq!(claimed.sources[1].position, 0);
        assert!(read_claims("<html></html>").is_err());
        assert!(read_claims(
            "<meta name=\"maillage:territory\" content=\"x\"><meta name=\"maillage:source\" content=\"s x\">"
        )
        .is_err());
    }
}
