//! `maillage report`: the engagement report of a territory, live or by replay as of an
//! instant (`--as-of`), as HTML (the self-contained page), JSON or CSV (the projections'
//! exports), or as the French summary the demo prints. Without `--format`, the file
//! name's extension decides, and on a terminal the summary is printed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;

use maillage_territory::TerritoryRef;
use prost_types::Timestamp;

use super::client::{explain, Authed, Connection};
use super::territory;
use crate::report::{self, dates::parse_rfc3339, diff, ReportData};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An HTML page, rendered from the territory's engagement data.
    Html,
    /// The whole report as a JSON document (every row).
    Json,
    /// The whole report as CSV (every row).
    Csv,
    /// The summary in French, as the demo prints it (key figures, white zones,
    /// themes, consortium).
    Text,
}

impl Format {
    /// The format asked for, else the one of the output file's extension (HTML
    /// when it has none we know), else the summary on a terminal and HTML when
    /// standard output is a pipe or a file.
    fn chosen(asked: Option<Format>, out: Option<&Path>, terminal: bool) -> Format {
        if let Some(format) = asked {
            return format;
        }
        match out {
            Some(path) => match path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("json") => Format::Json,
                Some("csv") => Format::Csv,
                Some("txt") => Format::Text,
                _ => Format::Html,
            },
            None if terminal => Format::Text,
            None => Format::Html,
        }
    }
}

/// Options of `maillage report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// The territory: epci:243700499, commune:37063, departement:37, region:24, or a bare code.
    #[arg(long)]
    pub territory: String,
    /// Replay the events recorded up to this instant (RFC 3339); live without it.
    #[arg(long, visible_alias = "to")]
    pub as_of: Option<String>,
    /// With --diff: the earlier instant (RFC 3339) the report is compared with.
    #[arg(long, requires = "diff")]
    pub from: Option<String>,
    /// Add what changed since --from: communes out of the white zone, key figures
    /// before and after, commitments moved, resolutions voted (HTML or text).
    #[arg(long, requires = "from")]
    pub diff: bool,
    /// Output format (default: from the extension of --out; else the summary on a
    /// terminal, HTML when the output is redirected).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The report's data as of `as_of` (live without it), and what changed since
/// `from` when it is given (`Projections.CompareTerritory`).
async fn gather(
    channel: Authed,
    territory: &TerritoryRef,
    as_of: Option<Timestamp>,
    from: Option<Timestamp>,
) -> anyhow::Result<(ReportData, Option<diff::ReportDiff>)> {
    if let (Some(from), Some(to)) = (&from, &as_of) {
        if (to.seconds, to.nanos) < (from.seconds, from.nanos) {
            anyhow::bail!("--from doit précéder --to (ou --as-of)");
        }
    }
    let comparison = match from {
        Some(from) => Some(
            ProjectionsClient::new(channel.clone())
                .compare_territory(pb::TerritoryComparisonRequest {
                    territory: Some(territory::to_proto(territory)),
                    from: Some(from),
                    to: as_of,
                })
                .await
                .map_err(explain)?
                .into_inner(),
        ),
        None => None,
    };
    let data = report::gather(channel, territory, as_of).await?;
    let changes = comparison.map(|comparison| diff::named(&comparison, &data));
    Ok((data, changes))
}

/// The HTML report as of `as_of` (live without it), with what changed since
/// `from` when it is given: the page `maillage verify-report` recomputes.
pub async fn html(
    channel: Authed,
    territory: &TerritoryRef,
    as_of: Option<Timestamp>,
    from: Option<Timestamp>,
) -> anyhow::Result<String> {
    let (data, changes) = gather(channel, territory, as_of, from).await?;
    Ok(report::render_with(&data, changes.as_ref())?)
}

/// Runs `maillage report`.
pub async fn run(connection: &Connection, args: ReportArgs) -> anyhow::Result<()> {
    let territory = territory::resolve(&args.territory)?;
    let as_of = args.as_of.as_deref().map(parse_rfc3339).transpose()?;
    let from = args.from.as_deref().map(parse_rfc3339).transpose()?;
    let channel = connection.connect().await?;
    let format = Format::chosen(
        args.format,
        args.out.as_deref(),
        std::io::stdout().is_terminal(),
    );
    if from.is_some() && matches!(format, Format::Json | Format::Csv) {
        anyhow::bail!("--diff s'affiche en HTML ou en texte (--format html ou text)");
    }
    let produce = async {
        let bytes = match format {
            Format::Html => html(channel.clone(), &territory, as_of, from)
                .await?
                .into_bytes(),
            Format::Text => {
                let (data, changes) = gather(channel.clone(), &territory, as_of, from).await?;
                let mut text = super::summary::text(&data);
                if let Some(changes) = changes {
                    text.push('\n');
                    text.push_str(&diff::text(&changes));
                }
                text.into_bytes()
            }
            Format::Json | Format::Csv => {
                let format = if format == Format::Json {
                    pb::ExportFormat::Json
                } else {
                    pb::ExportFormat::Csv
                };
                ProjectionsClient::new(channel.clone())
                    .export_report(pb::ExportReportRequest {
                        with_provenance: true,
                        format: format as i32,
                        report: Some(pb::export_report_request::Report::TerritoryEngagement(
                            pb::TerritoryEngagementRequest {
                                territory: Some(territory::to_proto(&territory)),
                                as_of,
                                page: None,
                            },
                        )),
                    })
                    .await
                    .map_err(explain)?
                    .into_inner()
                    .content
            }
        };
        anyhow::Ok(bytes)
    };
    let bytes = if as_of.is_some() || from.is_some() {
        super::progress::while_replaying(channel.clone(), produce).await?
    } else {
        produce.await?
    };
    super::output::write(args.out.as_deref(), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_flag_then_the_file_then_the_terminal() {
        let file = |name: &str| Some(PathBuf::from(name));
        assert_eq!(Format::chosen(Some(Format::Csv), None, true), Format::Csv);
        assert_eq!(
            Format::chosen(Some(Format::Html), file("r.json").as_deref(), true),
            Format::Html
        );
        assert_eq!(
            Format::chosen(None, file("r.JSON").as_deref(), true),
            Format::Json
        );
        assert_eq!(
            Format::chosen(None, file("r.csv").as_deref(), false),
            Format::Csv
        );
        assert_eq!(
            Format::chosen(None, file("rapport").as_deref(), true),
            Format::Html
        );
        assert_eq!(Format::chosen(None, None, true), Format::Text);
        assert_eq!(Format::chosen(None, None, false), Format::Html);
    }
}
