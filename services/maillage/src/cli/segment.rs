//! `maillage segment`: saved searches of the register. `define NAME
//! [filters]` records one (a `SegmentDefined` fact: its name, description and
//! filter are in clear in the log, so the service refuses a `--name` query in
//! it), `list` prints them; `maillage search --segment ID` runs one.

use std::fmt::Write as _;

use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

use super::client::{explain, Connection};
use super::filter::FilterArgs;
use crate::report::dates::date_fr;

/// `maillage segment` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SegmentCommand {
    /// Saves a named search (or, with --id, replaces a segment's definition).
    Define {
        /// Its name (no personal data: it is recorded in clear).
        #[arg(value_name = "NAME")]
        title: String,
        /// What it is for (no personal data).
        #[arg(long, default_value = "")]
        description: String,
        /// The segment to redefine (default: a new one).
        #[arg(long)]
        id: Option<String>,
        /// Which stakeholders it holds: the filter flags.
        #[command(flatten)]
        filter: Box<FilterArgs>,
    },
    /// Lists the saved segments.
    List,
}

/// Runs `maillage segment`.
pub async fn run(connection: &Connection, command: SegmentCommand) -> anyhow::Result<()> {
    let mut client = StakeholdersClient::new(connection.connect().await?);
    let text = match command {
        SegmentCommand::Define {
            title,
            description,
            id,
            filter,
        } => {
            let reply = client
                .define_segment(pb::DefineSegmentRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    segment_id: id.unwrap_or_default(),
                    expected_version: None,
                    name: title,
                    description,
                    filter: Some(filter.to_proto()?),
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "segment {} enregistré (version {}) ; lancez-le avec maillage search --segment {}\n",
                reply.id, reply.version, reply.id
            )
        }
        SegmentCommand::List => {
            let mut segments = Vec::new();
            let mut page_token = String::new();
            loop {
                let reply = client
                    .list_segments(pb::ListSegmentsRequest {
                        page: Some(pb::PageRequest {
                            page_size: 500,
                            page_token,
                        }),
                    })
                    .await
                    .map_err(explain)?
                    .into_inner();
                segments.extend(reply.segments);
                page_token = reply.page.unwrap_or_default().next_page_token;
                if page_token.is_empty() {
                    break;
                }
            }
            render(&segments)
        }
    };
    super::output::write(None, text.as_bytes())
}

/// The segments, one per line, in French.
fn render(segments: &[pb::Segment]) -> String {
    let mut text = format!(
        "{} segment{} enregistré{}\n",
        segments.len(),
        if segments.len() > 1 { "s" } else { "" },
        if segments.len() > 1 { "s" } else { "" }
    );
    for segment in segments {
        let defined = segment.defined_at.as_ref().map(date_fr).unwrap_or_default();
        let _ = write!(
            text,
            "{}  {}  (version {}, défini le {defined} par {})",
            segment.segment_id, segment.name, segment.version, segment.defined_by
        );
        if !segment.description.is_empty() {
            let _ = write!(text, " : {}", segment.description);
        }
        text.push('\n');
    }
    text
}
