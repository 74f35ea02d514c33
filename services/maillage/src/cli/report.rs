//! `maillage report`: the engagement report of a territory, live or by replay as of an
//! instant (`--as-of`), as HTML (the self-contained page), JSON or CSV (the projections'
//! exports).

use std::path::PathBuf;

use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;

use super::client::{explain, Connection};
use super::territory;
use crate::report::{self, dates::parse_rfc3339};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An HTML page, rendered from the territory's engagement data.
    Html,
    /// The whole report as a JSON document (every row).
    Json,
    /// The whole report as CSV (every row).
    Csv,
}

/// Options of `maillage report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// The territory: epci:243700499, commune:37063, departement:37, region:24, or a bare code.
    #[arg(long)]
    pub territory: String,
    /// Replay the events recorded up to this instant (RFC 3339); live without it.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Html)]
    pub format: Format,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `maillage report`.
pub async fn run(connection: &Connection, args: ReportArgs) -> anyhow::Result<()> {
    let territory = territory::resolve(&args.territory)?;
    let as_of = args.as_of.as_deref().map(parse_rfc3339).transpose()?;
    let channel = connection.connect().await?;
    let bytes = match args.format {
        Format::Html => {
            let data = report::gather(channel, &territory, as_of).await?;
            report::render(&data)?.into_bytes()
        }
        Format::Json | Format::Csv => {
            let format = if args.format == Format::Json {
                pb::ExportFormat::Json
            } else {
                pb::ExportFormat::Csv
            };
            ProjectionsClient::new(channel)
                .export_report(pb::ExportReportRequest {
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
    super::output::write(args.out.as_deref(), &bytes)
}
