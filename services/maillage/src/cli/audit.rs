//! `maillage export audit`: the contact audit of a territory's élus and businesses as
//! CSV (the projections' export), optionally for a period. `maillage export
//! access`: the access journals (who read whose personal data, when, why) as CSV.

use std::path::PathBuf;

use maillage_projections::export::csv_document;
use maillage_proto::v1 as pb;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::projections_client::ProjectionsClient;

use super::client::{explain, Connection};
use super::territory;
use crate::report::dates::parse_rfc3339;

/// What `maillage export` exports.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ExportCommand {
    /// Every contact with the élus and businesses of a territory, as CSV.
    Audit(AuditArgs),
    /// Every read of personal data recorded in the access journals, as CSV.
    Access(AccessArgs),
}

/// Options of `maillage export access`.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// Only this journal: stakeholders or engagement (default: both).
    #[arg(long)]
    pub context: Option<String>,
    /// Only the reads of this subject (a person, interaction, interview or diagnostic id).
    #[arg(long)]
    pub subject: Option<String>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The journals `maillage up` serves.
const JOURNALS: [&str; 2] = ["stakeholders", "engagement"];
/// Entries asked for per call.
const PAGE: u32 = 1_000;

fn disclosure_name(value: i32) -> &'static str {
    match pb::Disclosure::try_from(value) {
        Ok(pb::Disclosure::Full) => "full",
        Ok(pb::Disclosure::PublicRoles) => "public_roles",
        Ok(pb::Disclosure::Pseudonymous) => "pseudonymous",
        _ => "",
    }
}

/// The entries as CSV, oldest read first (journals merged by time).
pub fn access_csv(entries: &mut [pb::AccessEntry]) -> Result<Vec<u8>, csv::Error> {
    let instant = |entry: &pb::AccessEntry| {
        entry
            .read_at
            .as_ref()
            .map_or((0, 0), |at| (at.seconds, at.nanos))
    };
    entries.sort_by(|a, b| {
        instant(a)
            .cmp(&instant(b))
            .then_with(|| a.context.cmp(&b.context))
            .then(a.position.cmp(&b.position))
    });
    let header = [
        "read_at",
        "context",
        "position",
        "principal",
        "rpc",
        "subject_kind",
        "subject_id",
        "purpose",
        "disclosure",
        "request_id",
        "correlation_id",
    ]
    .map(str::to_owned)
    .to_vec();
    let lines = entries.iter().map(|entry| {
        let read_at = entry
            .read_at
            .as_ref()
            .map(crate::report::dates::rfc3339)
            .unwrap_or_default();
        vec![
            read_at,
            entry.context.clone(),
            entry.position.to_string(),
            entry.principal.clone(),
            entry.rpc.clone(),
            entry.subject_kind.clone(),
            entry.subject_id.clone(),
            entry.purpose.clone(),
            disclosure_name(entry.disclosure).to_owned(),
            entry.request_id.clone(),
            entry.correlation_id.clone(),
        ]
    });
    csv_document(std::iter::once(header).chain(lines), b',')
}

/// Runs `maillage export access`.
async fn access(connection: &Connection, args: AccessArgs) -> anyhow::Result<()> {
    let mut client = AccessJournalClient::new(connection.connect().await?);
    let journals: Vec<String> = match args.context {
        Some(context) => vec![context],
        None => JOURNALS.iter().map(|name| name.to_string()).collect(),
    };
    let mut entries = Vec::new();
    for context in journals {
        let mut from_position = 1;
        loop {
            let page = client
                .list_access(pb::ListAccessRequest {
                    context: context.clone(),
                    from_position,
                    limit: PAGE,
                    subject_id: args.subject.clone().unwrap_or_default(),
                })
                .await
                .map_err(explain)?
                .into_inner();
            let Some(last) = page.entries.last().map(|entry| entry.position) else {
                break;
            };
            from_position = last + 1;
            entries.extend(page.entries);
        }
    }
    let count = entries.len();
    super::output::write(args.out.as_deref(), &access_csv(&mut entries)?)?;
    if args.out.is_some() {
        eprintln!("maillage: {count} lectures de données personnelles exportées");
    }
    Ok(())
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
    let args = match command {
        ExportCommand::Audit(args) => args,
        ExportCommand::Access(args) => return access(connection, args).await,
    };
    let territory = territory::resolve(&args.territory)?;
    let from = args.from.as_deref().map(parse_rfc3339).transpose()?;
    let to = args.to.as_deref().map(parse_rfc3339).transpose()?;
    let export = ProjectionsClient::new(connection.connect().await?)
        .export_report(pb::ExportReportRequest {
            with_provenance: true,
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
