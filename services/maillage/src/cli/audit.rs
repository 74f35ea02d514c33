//! `maillage export audit`: the contact audit of a territory's élus and businesses as
//! CSV (the projections' export), optionally for a period.

use std::path::PathBuf;

use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;

use super::client::{explain, Connection};
use super::territory;
use crate::report::dates::parse_rfc3339;

/// What `maillage export` exports.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ExportCommand {
    /// Every contact with the élus and businesses of a territory, as CSV.
    Audit(AuditArgs),
}

/// Options of `maillage export audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The territory: epci:243700499, commune:37063, departement:37, region:24, or a bare code.
    #[arg(long)]
    pub territory: String,
    /// Contacts from this date (RFC 3339 or YYYY-MM-DD, included).
    #[arg(long)]
    pub from: Option<String>,
    /// Contacts before this date (RFC 3339 or YYYY-MM-DD, excluded).
    #[arg(long)]
    pub to: Option<String>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `maillage export ...`.
pub async fn run(connection: &Connection, command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Audit(args) = command;
    let territory = territory::resolve(&args.territory)?;
    let from = args.from.as_deref().map(parse_rfc3339).transpose()?;
    let to = args.to.as_deref().map(parse_rfc3339).transpose()?;
    let export = ProjectionsClient::new(connection.connect().await?)
        .export_report(pb::ExportReportRequest {
            format: pb::ExportFormat::Csv as i32,
            report: Some(pb::export_report_request::Report::ContactAudit(
                pb::ContactAuditRequest {
                    scope: Some(pb::contact_audit_request::Scope::Territory(
                        territory::to_proto(&territory),
                    )),
                    from,
                    to,
                    as_of: None,
                    page: None,
                },
            )),
        })
        .await
        .map_err(explain)?
        .into_inner();
    super::output::write(args.out.as_deref(), &export.content)?;
    if args.out.is_some() {
        eprintln!("maillage: {} contacts exportés", export.rows);
    }
    Ok(())
}
