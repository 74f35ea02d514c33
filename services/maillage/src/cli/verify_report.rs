//! `maillage verify-report FILE`: says whether a report or an export was derived
//! from the audited logs. An HTML page names the territory, the instant replayed
//! and, for each log, the position and hash of the last event it read
//! (`<meta name="maillage:…">`); a CSV or JSON export written with its provenance
//! (`maillage report --format csv|json`, `maillage export audit`, the console's
//! downloads) names the request it answers and the same per log. This checks that
//! each of those events is in the log with that hash and that the log's chain is
//! intact, then recomputes the document from the logs and compares the bytes. A
//! report replayed `--as-of` a past instant recomputes identically for ever; a
//! live one recomputes only while no log has moved since.

use std::path::PathBuf;

use anyhow::Context;
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::projections_client::ProjectionsClient;
use prost::Message;

use super::client::{explain, Authed, Connection};
use super::territory;
use crate::report::dates::parse_rfc3339;
use crate::report::LogSource;

/// Options of `maillage verify-report`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyReportArgs {
    /// The report to check: HTML (written by `maillage report` or `maillage
    /// demo`), or a CSV or JSON export that states its provenance.
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

/// What an export says it was computed from: the request it answers and
/// each log's last event.
#[derive(Debug, PartialEq)]
struct ExportClaims {
    request: pb::ExportReportRequest,
    sources: Vec<LogSource>,
}

/// The source `context,position,hash` (CSV) or its JSON fields.
fn source(context: &str, position: &str, hash: &str) -> anyhow::Result<LogSource> {
    Ok(LogSource {
        context: context.to_owned(),
        position: position.parse().map_err(|_| {
            anyhow::anyhow!("source illisible dans l'export : « {context} {position} »")
        })?,
        hash: hash.to_owned(),
    })
}

/// The request an export names, decoded.
fn request(encoded: &str) -> anyhow::Result<pb::ExportReportRequest> {
    let bytes = hex::decode(encoded.trim())
        .map_err(|_| anyhow::anyhow!("requête illisible dans l'export"))?;
    pb::ExportReportRequest::decode(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("requête illisible dans l'export"))
}

/// What a CSV or JSON export claims, or None when the document is not one
/// that states its provenance.
fn export_claims(document: &str) -> anyhow::Result<Option<ExportClaims>> {
    if let Some(rest) = document.strip_prefix("# maillage-request,") {
        let mut lines = rest.lines();
        let request = request(lines.next().unwrap_or_default())?;
        let sources = lines
            .map_while(|line| line.strip_prefix("# maillage-source,"))
            .map(|line| {
                let mut parts = line.trim_end().splitn(3, ',');
                source(
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                )
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(Some(ExportClaims { request, sources }));
    }
    let Ok(serde_json::Value::Object(value)) = serde_json::from_str(document) else {
        return Ok(None);
    };
    let Some(provenance) = value.get("provenance") else {
        return Ok(None);
    };
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    let sources = provenance["sources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            source(
                &text(&s["context"]),
                &s["position"].to_string(),
                &text(&s["hash"]),
            )
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Some(ExportClaims {
        request: request(&text(&provenance["request"]))?,
        sources,
    }))
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

/// Checks every source against its log (see [`check_source`]); a live
/// document (`replayed` false) must also find every log where it stood.
async fn check_sources(
    logs: &mut EventLogClient<Authed>,
    sources: &[LogSource],
    replayed: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        sources.len() == crate::CONTEXTS.len(),
        "le document ne nomme pas ses {} journaux",
        crate::CONTEXTS.len()
    );
    let mut moved = Vec::new();
    for source in sources {
        let head = check_source(logs, source).await?;
        println!(
            "{:<13} position {:>9} présente, empreinte identique, chaîne intacte",
            source.context, source.position
        );
        if head != source.position {
            moved.push(source.context.as_str());
        }
    }
    if !replayed && !moved.is_empty() {
        anyhow::bail!(
            "document en direct : les journaux {} ont avancé depuis, ses chiffres ne peuvent plus être recalculés ; un rapport produit avec --as-of se vérifie à tout moment",
            moved.join(", ")
        );
    }
    Ok(())
}

/// Says whether `recomputed` is `document`, byte for byte.
fn compare(document: &str, recomputed: &str) -> anyhow::Result<()> {
    if recomputed == document {
        println!(
            "document identique : recalculé depuis les journaux ({} octets)",
            document.len()
        );
        Ok(())
    } else {
        anyhow::bail!(
            "document différent de celui que les journaux donnent (première différence ligne {})",
            first_difference(document, recomputed)
        )
    }
}

/// Whether an export's request replays a past instant.
fn replayed(request: &pb::ExportReportRequest) -> bool {
    use pb::export_report_request::Report;
    match &request.report {
        Some(Report::ContactAudit(audit)) => audit.as_of.is_some(),
        Some(Report::TerritoryEngagement(territory)) => territory.as_of.is_some(),
        None => false,
    }
}

/// Runs `maillage verify-report`.
pub async fn run(connection: &Connection, args: VerifyReportArgs) -> anyhow::Result<()> {
    let document = std::fs::read_to_string(&args.file)
        .with_context(|| format!("impossible de lire {}", args.file.display()))?;
    let channel = connection.connect().await?;
    let mut logs = EventLogClient::new(channel.clone());
    if let Some(claims) = export_claims(&document)? {
        check_sources(&mut logs, &claims.sources, replayed(&claims.request)).await?;
        let recomputed = ProjectionsClient::new(channel)
            .export_report(claims.request)
            .await
            .map_err(explain)?
            .into_inner()
            .content;
        return compare(&document, &String::from_utf8_lossy(&recomputed));
    }
    let claimed = read_claims(&document)?;
    let territory = territory::resolve(&claimed.territory)?;
    let as_of = claimed.as_of.as_deref().map(parse_rfc3339).transpose()?;
    let from = claimed
        .diff_from
        .as_deref()
        .map(parse_rfc3339)
        .transpose()?;
    check_sources(&mut logs, &claimed.sources, claimed.as_of.is_some()).await?;
    let recomputed = super::report::html(channel, &territory, as_of, from).await?;
    compare(&document, &recomputed)
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

    #[test]
    fn what_an_export_claims_is_read_from_its_comment_lines_or_its_provenance() {
        let request = pb::ExportReportRequest {
            with_provenance: true,
            format: pb::ExportFormat::Csv as i32,
            report: None,
        };
        let encoded = hex::encode(request.encode_to_vec());
        let csv = format!(
            "# maillage-request,{encoded}\r\n# maillage-source,stakeholders,12,ab01\r\n# maillage-source,engagement,0,\r\ncode,name\r\n"
        );
        let claims = export_claims(&csv).unwrap().unwrap();
        assert_eq!(claims.request, request);
        assert_eq!(claims.sources.len(), 2);
        assert_eq!(claims.sources[0].position, 12);
        assert_eq!(claims.sources[0].hash, "ab01");
        assert_eq!(claims.sources[1].hash, "");
        let json = format!(
            "{{\"provenance\": {{\"request\": \"{encoded}\", \"sources\": [{{\"context\": \"governance\", \"position\": 7, \"hash\": \"cd\"}}]}}, \"rows\": []}}"
        );
        let claims = export_claims(&json).unwrap().unwrap();
        assert_eq!(claims.sources[0].context, "governance");
        assert_eq!(claims.sources[0].position, 7);
        assert_eq!(export_claims("{\"rows\": []}").unwrap(), None);
        assert_eq!(export_claims("<html></html>").unwrap(), None);
        assert!(export_claims("# maillage-request,zz\r\n").is_err());
    }
}
