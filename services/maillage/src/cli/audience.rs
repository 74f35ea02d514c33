//! `maillage audience export`: a purpose-limited audience for an internal
//! tool (the `ExportAudience` RPC; token role `tool`, `facilitator` or
//! `admin`). The persons a segment and the filter flags find whose current
//! consent covers the channel and the purpose, with their names and the one
//! field the channel needs, as CSV (`;`-separated, UTF-8, French headers),
//! every page fetched; each page is recorded by the service
//! (`AudienceExported`) and journalled. The summary goes to standard error.
//! `maillage audience list`: every export recorded in the stakeholders log
//! (who, when, segment, channel, purpose, how many), for an audit — read
//! through the `EventLog` API (roles `auditor`, `tool`, `admin`).

use maillage_projections::export::csv_document;
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use prost::Message;

use super::client::{explain, Connection};
use super::filter::{channel_of, Channel, FilterArgs};

/// What a person may be contacted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Purpose {
    /// News of the tiers-lieux project.
    Information,
    /// Invitations to actions, roundtables, workshops.
    Invitations,
    /// Surveys and interview requests.
    Surveys,
    /// The project's newsletter.
    Newsletter,
}

fn purpose_of(purpose: Purpose) -> pb::ConsentPurpose {
    match purpose {
        Purpose::Information => pb::ConsentPurpose::ProjectInformation,
        Purpose::Invitations => pb::ConsentPurpose::Invitations,
        Purpose::Surveys => pb::ConsentPurpose::Surveys,
        Purpose::Newsletter => pb::ConsentPurpose::Newsletter,
    }
}

/// `maillage audience` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AudienceCommand {
    /// Exports the persons who consented to the channel for the purpose, as CSV.
    Export(ExportArgs),
    /// Lists every audience export recorded (no personal data), oldest first.
    List,
}

/// Options of `maillage audience export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The channel the audience will be contacted on.
    #[arg(long, value_enum)]
    pub channel: Channel,
    /// What it will be contacted for (not `--purpose`, which says why the
    /// CLI reads personal data, for the access journal).
    #[arg(long, value_enum)]
    pub consent_purpose: Purpose,
    /// A saved segment (`maillage segment list`).
    #[arg(long)]
    pub segment: Option<String>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// The filters of `maillage search`, narrowing the segment (or alone).
    #[command(flatten)]
    pub filter: Box<FilterArgs>,
}

/// Runs `maillage audience`.
pub async fn run(connection: &Connection, command: AudienceCommand) -> anyhow::Result<()> {
    let args = match command {
        AudienceCommand::Export(args) => args,
        AudienceCommand::List => return list(connection).await,
    };
    let mut client = StakeholdersClient::new(connection.connect().await?);
    let channel = channel_of(args.channel);
    let request = pb::ExportAudienceRequest {
        segment_id: args.segment.clone().unwrap_or_default(),
        filter: Some(args.filter.to_proto()?),
        channel: channel as i32,
        purpose: purpose_of(args.consent_purpose) as i32,
        page: None,
    };
    let mut members = Vec::new();
    let (mut without_address, mut pages, mut page_token) = (0u64, 0u32, String::new());
    loop {
        let reply = client
            .export_audience(pb::ExportAudienceRequest {
                page: Some(pb::PageRequest {
                    page_size: 500,
                    page_token,
                }),
                ..request.clone()
            })
            .await
            .map_err(explain)?
            .into_inner();
        members.extend(reply.members);
        without_address += u64::from(reply.without_address);
        pages += 1;
        page_token = reply.page.unwrap_or_default().next_page_token;
        if page_token.is_empty() {
            break;
        }
    }
    super::output::write(args.out.as_deref(), &csv(channel, &members)?)?;
    eprintln!(
        "maillage: {} personne{} exportée{}{} ; {pages} page{} enregistrée{} dans le journal",
        members.len(),
        plural(members.len() as u64),
        plural(members.len() as u64),
        if without_address > 0 {
            format!(
                " ({without_address} sans coordonnée pour ce canal, laissée{} de côté)",
                plural(without_address)
            )
        } else {
            String::new()
        },
        plural(u64::from(pages)),
        plural(u64::from(pages)),
    );
    Ok(())
}

/// `maillage audience list`.
async fn list(connection: &Connection) -> anyhow::Result<()> {
    let mut log = EventLogClient::new(connection.connect().await?);
    let mut exports = Vec::new();
    let mut from = 1;
    loop {
        let page = log
            .read_all(pb::ReadAllRequest {
                from_position: from,
                limit: 5_000,
                context: "stakeholders".to_owned(),
            })
            .await
            .map_err(explain)?
            .into_inner();
        let Some(last) = page.events.last().map(|event| event.position) else {
            break;
        };
        for envelope in &page.events {
            if envelope.event_type == "maillage.v1.AudienceExported" {
                exports.push(pb::AudienceExported::decode(envelope.payload.as_slice())?);
            }
        }
        if last >= page.head_position {
            break;
        }
        from = last + 1;
    }
    super::output::write(None, render(&exports).as_bytes())
}

/// A channel in French.
fn channel_fr(channel: i32) -> &'static str {
    match pb::ConsentChannel::try_from(channel) {
        Ok(pb::ConsentChannel::Email) => "courriel",
        Ok(pb::ConsentChannel::Phone) => "téléphone",
        Ok(pb::ConsentChannel::Sms) => "SMS",
        Ok(pb::ConsentChannel::Post) => "courrier",
        _ => "canal inconnu",
    }
}

/// A purpose in French.
fn purpose_fr(purpose: i32) -> &'static str {
    match pb::ConsentPurpose::try_from(purpose) {
        Ok(pb::ConsentPurpose::ProjectInformation) => "information sur le projet",
        Ok(pb::ConsentPurpose::Invitations) => "invitations",
        Ok(pb::ConsentPurpose::Surveys) => "enquêtes",
        Ok(pb::ConsentPurpose::Newsletter) => "lettre d'information",
        _ => "finalité inconnue",
    }
}

/// The exports, one per line, in French.
fn render(exports: &[pb::AudienceExported]) -> String {
    let count = exports.len() as u64;
    let mut text = format!(
        "{count} page{} d'audience exportée{}\n",
        plural(count),
        plural(count)
    );
    for export in exports {
        let at = export
            .exported_at
            .as_ref()
            .map(crate::report::dates::rfc3339)
            .unwrap_or_default();
        let segment = if export.segment_id.is_empty() {
            "sans segment".to_owned()
        } else {
            format!("segment {}", export.segment_id)
        };
        text.push_str(&format!(
            "{at}  {}  {} ; {} pour « {} » : {} personne{} (sur {}){}  [{}]\n",
            export.exported_by,
            segment,
            channel_fr(export.channel),
            purpose_fr(export.purpose),
            export.exported,
            plural(u64::from(export.exported)),
            export.total,
            if export.continued {
                ", page suivante"
            } else {
                ""
            },
            export.export_id,
        ));
    }
    text
}

fn plural(count: u64) -> &'static str {
    if count > 1 {
        "s"
    } else {
        ""
    }
}

/// The members as CSV (`;`-separated, as French spreadsheets read it): id,
/// given name, family name and the channel's field.
fn csv(channel: pb::ConsentChannel, members: &[pb::AudienceMember]) -> Result<Vec<u8>, csv::Error> {
    let header = match channel {
        pb::ConsentChannel::Email => "courriel",
        pb::ConsentChannel::Phone | pb::ConsentChannel::Sms => "téléphone",
        _ => "adresse postale",
    };
    let header = ["identifiant", "prénom", "nom", header]
        .map(str::to_owned)
        .to_vec();
    let lines = members.iter().map(|member| {
        let value = match channel {
            pb::ConsentChannel::Email => &member.email,
            pb::ConsentChannel::Phone | pb::ConsentChannel::Sms => &member.phone,
            _ => &member.postal_address,
        };
        vec![
            member.stakeholder_id.clone(),
            member.given_name.clone(),
            member.family_name.clone(),
            value.clone(),
        ]
    });
    csv_document(std::iter::once(header).chain(lines), b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_holds_the_channels_field_only_and_quotes_what_needs_it() {
        let members = vec![pb::AudienceMember {
            stakeholder_id: "id-1".into(),
            given_name: "Anne".into(),
            family_name: "Aubert".into(),
            postal_address: "1 rue de la Cité; \"Bât. B\"".into(),
            email: "anne@example.fr".into(),
            ..Default::default()
        }];
        assert_eq!(
            String::from_utf8(csv(pb::ConsentChannel::Post, &members).unwrap()).unwrap(),
            "identifiant;prénom;nom;adresse postale\r\nid-1;Anne;Aubert;\"1 rue de la Cité; \"\"Bât. B\"\"\"\r\n"
        );
        assert_eq!(
            String::from_utf8(csv(pb::ConsentChannel::Email, &members).unwrap()).unwrap(),
            "identifiant;prénom;nom;courriel\r\nid-1;Anne;Aubert;anne@example.fr\r\n"
        );
    }
}
