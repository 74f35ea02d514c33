//! `maillage programme concertation`: the concertation meetings with the
//! collectivité's designated officers. `enregistrer` records one (its date,
//! axis, the officers present, other participants, subject, decisions and
//! notes); `lister` prints them, oldest first, by axis or action. The
//! engagement service checks each officer was designated at the date and
//! names the field it refuses.

use std::fmt::Write as _;

use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;

use super::client::{explain, Authed};
use crate::report::dates::{date_fr, parse_rfc3339};

/// `maillage programme concertation` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConcertationCommand {
    /// Records a concertation meeting with designated officers.
    #[command(name = "enregistrer")]
    Record(RecordArgs),
    /// Lists the concertation meetings.
    #[command(name = "lister")]
    List {
        /// Only those about this axis (and the whole programme's).
        #[arg(long = "axe")]
        axis: Option<String>,
        /// Only those about this action.
        #[arg(long = "action")]
        action: Option<String>,
    },
}

/// Options of `maillage programme concertation enregistrer`.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// What it was about.
    #[arg(long = "objet")]
    subject: String,
    /// When it was held (YYYY-MM-DD or RFC 3339).
    #[arg(long = "le")]
    held: String,
    /// Its axis (an id, as `programme show` prints it; default: the whole programme).
    #[arg(long = "axe")]
    axis: Option<String>,
    /// A designated officer present (their principal; repeatable, at least one).
    #[arg(long = "responsable", required = true)]
    officers: Vec<String>,
    /// Another participant (a stakeholder id; repeatable).
    #[arg(long = "participant")]
    participants: Vec<String>,
    /// An action it concerned (an action id; repeatable).
    #[arg(long = "action")]
    actions: Vec<String>,
    /// A decision, as `TEXTE[|PORTEUR[|ÉCHÉANCE]]` (repeatable).
    #[arg(long = "decision")]
    decisions: Vec<String>,
    /// Free notes (sealed: they may be about people).
    #[arg(long, default_value = "")]
    notes: String,
}

/// A decision written `TEXTE[|PORTEUR[|ÉCHÉANCE]]`.
fn decision(value: &str) -> anyhow::Result<pb::ConcertationDecision> {
    let mut parts = value.splitn(3, '|').map(str::trim);
    let text = parts.next().unwrap_or_default().to_owned();
    let owner = parts.next().unwrap_or_default().to_owned();
    let due_at = match parts.next() {
        None | Some("") => None,
        Some(due) => Some(parse_rfc3339(due)?),
    };
    Ok(pb::ConcertationDecision {
        text,
        owner,
        due_at,
    })
}

/// The request of `enregistrer`.
fn record_request(args: RecordArgs) -> anyhow::Result<pb::RecordConcertationRequest> {
    Ok(pb::RecordConcertationRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        expected_version: None,
        held_at: Some(parse_rfc3339(&args.held)?),
        axis_id: args.axis.unwrap_or_default(),
        action_ids: args.actions,
        officers: args.officers,
        participant_ids: args.participants,
        subject: args.subject,
        decisions: args
            .decisions
            .iter()
            .map(|d| decision(d))
            .collect::<anyhow::Result<_>>()?,
        notes: args.notes,
    })
}

/// The meetings in French, as `lister` prints them.
fn text(list: &pb::ConcertationList) -> String {
    let mut out = String::new();
    let day = |at: &Option<prost_types::Timestamp>| at.as_ref().map(date_fr).unwrap_or_default();
    if list.concertations.is_empty() {
        out.push_str("Aucune concertation consignée.\n");
    }
    // Writing to a String cannot fail.
    for c in &list.concertations {
        let axis = match c.axis_id.as_str() {
            "" => "tout le programme".to_owned(),
            id => format!("axe {id}"),
        };
        let _ = writeln!(
            out,
            "{} — {} ({axis}) — {}",
            day(&c.held_at),
            c.subject,
            c.concertation_id
        );
        let _ = writeln!(out, "  responsables : {}", c.officers.join(", "));
        if !c.participant_ids.is_empty() {
            let _ = writeln!(out, "  autres participants : {}", c.participant_ids.len());
        }
        if !c.action_ids.is_empty() {
            let _ = writeln!(out, "  actions : {}", c.action_ids.join(", "));
        }
        for d in &c.decisions {
            let _ = write!(out, "  décision : {}", d.text);
            if !d.owner.is_empty() {
                let _ = write!(out, " — porteur : {}", d.owner);
            }
            if d.due_at.is_some() {
                let _ = write!(out, " — échéance : {}", day(&d.due_at));
            }
            let _ = writeln!(out);
        }
        if c.notes_erased {
            let _ = writeln!(out, "  notes effacées");
        } else if !c.notes.is_empty() {
            let _ = writeln!(out, "  notes : {}", c.notes);
        }
    }
    out
}

/// Runs `maillage programme concertation`; returns what to print.
pub async fn run(
    client: &mut EngagementClient<Authed>,
    command: ConcertationCommand,
) -> anyhow::Result<String> {
    Ok(match command {
        ConcertationCommand::Record(args) => {
            let reply = client
                .record_concertation(record_request(args)?)
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "concertation enregistrée : {} (programme en version {})\n",
                reply.id, reply.version
            )
        }
        ConcertationCommand::List { axis, action } => {
            let list = client
                .list_concertations(pb::ListConcertationsRequest {
                    axis_id: axis.unwrap_or_default(),
                    action_id: action.unwrap_or_default(),
                })
                .await
                .map_err(explain)?
                .into_inner();
            text(&list)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_text_owner_and_due_date_separated_by_bars() {
        let full = decision("Deux ateliers | Service développement | 2027-03-31").unwrap();
        assert_eq!(full.text, "Deux ateliers");
        assert_eq!(full.owner, "Service développement");
        assert_eq!(full.due_at.as_ref().map(date_fr).unwrap(), "31/03/2027");
        let bare = decision("Relancer la mairie").unwrap();
        assert_eq!((bare.owner.as_str(), bare.due_at), ("", None));
        assert!(decision("x|y|pas une date").is_err());
    }

    #[test]
    fn meetings_are_printed_with_their_decisions_in_french() {
        let list = pb::ConcertationList {
            concertations: vec![pb::ConcertationView {
                concertation_id: "c1".into(),
                held_at: Some(prost_types::Timestamp {
                    seconds: 1_790_000_000,
                    nanos: 0,
                }),
                officers: vec!["dgs".into()],
                participant_ids: vec!["p1".into(), "p2".into()],
                subject: "Calendrier".into(),
                decisions: vec![pb::ConcertationDecision {
                    text: "Deux ateliers".into(),
                    owner: "Service".into(),
                    due_at: None,
                }],
                notes_erased: true,
                ..Default::default()
            }],
        };
        let shown = text(&list);
        assert!(
            shown.starts_with("21/09/2026 — Calendrier (tout le programme) — c1\n"),
            "{shown}"
        );
        assert!(shown.contains("  autres participants : 2\n"), "{shown}");
        assert!(
            shown.contains("  décision : Deux ateliers — porteur : Service\n"),
            "{shown}"
        );
        assert!(shown.contains("notes effacées"), "{shown}");
        assert_eq!(
            text(&pb::ConcertationList::default()),
            "Aucune concertation consignée.\n"
        );
    }
}
