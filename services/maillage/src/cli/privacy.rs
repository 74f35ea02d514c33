//! `maillage erase` (RGPD art. 17) across the platform, and the JSON form of
//! what the stakeholders service holds about a person, which
//! [`super::subject_access`] puts into the subject-access document.

use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use serde_json::{json, Value};

use super::client::{explain, Connection};
use crate::report::dates::rfc3339;

/// Options of `maillage erase`.
#[derive(Debug, Clone, clap::Args)]
pub struct EraseArgs {
    /// The person's stakeholder id.
    pub person_id: String,
    /// Why (recorded in clear: no personal data), e.g. "RGPD art. 17, demande 2026-014".
    #[arg(long)]
    pub reason: String,
}

/// How long `maillage erase` waits for every context to report its part.
const ERASURE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Erases a person across the platform: their keys, and the keys of every
/// subject about them in every context, are destroyed; the logs keep that
/// contacts took place. Shows the erasure's progress and waits for it to be
/// complete. The request id is derived from the person and the reason: running
/// the same command again finishes an interrupted erasure, while another
/// reason for a person already being erased is refused.
pub async fn erase(connection: &Connection, args: EraseArgs) -> anyhow::Result<()> {
    let mut stakeholders = StakeholdersClient::new(connection.connect().await?);
    let person = args.person_id.trim().to_owned();
    let reason_hash = blake3::hash(args.reason.as_bytes()).to_hex();
    let reply = stakeholders
        .erase_person(pb::ErasePersonRequest {
            request_id: format!("cli-erase-{person}-{}", &reason_hash[..16]),
            stakeholder_id: person.clone(),
            expected_version: None,
            reason: args.reason,
        })
        .await
        .map_err(explain)?
        .into_inner();
    println!(
        "effacement de la personne {} : clés détruites dans stakeholders (version {})",
        reply.id, reply.version
    );
    let deadline = tokio::time::Instant::now() + ERASURE_WAIT;
    let mut reported = Vec::new();
    loop {
        let status = stakeholders
            .get_erasure(pb::GetErasureRequest {
                stakeholder_id: person.clone(),
            })
            .await
            .map_err(explain)?
            .into_inner();
        for context in &status.confirmed_contexts {
            if !reported.contains(context) {
                println!("  {context} : clés détruites");
                reported.push(context.clone());
            }
        }
        if status.state == pb::ErasureState::Completed as i32 {
            println!("personne {person} effacée dans tous les contextes");
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "l'effacement n'est pas terminé : en attente de {} (il se poursuit ; relancez la même commande pour suivre)",
                status.pending_contexts.join(", ")
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub(super) fn time(timestamp: Option<&prost_types::Timestamp>) -> Value {
    timestamp.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

pub(super) fn enum_name<E: TryFrom<i32>>(value: i32, name: impl Fn(&E) -> &'static str) -> String {
    E::try_from(value).map_or_else(|_| value.to_string(), |known| name(&known).to_owned())
}

fn stakeholder(s: &pb::Stakeholder) -> Value {
    let person = s.person.clone().unwrap_or_default();
    json!({
        "stakeholder_id": s.stakeholder_id,
        "erased": s.erased,
        "archived": s.archived,
        "registered_at": time(s.registered_at.as_ref()),
        "registered_by": s.registered_by,
        "profile": {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "kinds": person.kinds.iter().map(|k| enum_name(*k, pb::PersonKind::as_str_name)).collect::<Vec<_>>(),
            "commune_code": person.commune_code,
            "email": person.email,
            "phone": person.phone,
            "postal_address": person.postal_address,
            "notes": person.notes,
        },
        "mandates": s.mandates.iter().map(|m| json!({
            "mandate_id": m.mandate_id,
            "office": enum_name(m.office, pb::MandateOffice::as_str_name),
            "authority": m.authority.as_ref().map(|a| format!("{}:{}", enum_name(a.level, pb::TerritoryLevel::as_str_name), a.code)),
            "started_at": time(m.started_at.as_ref()),
            "ended_at": time(m.ended_at.as_ref()),
        })).collect::<Vec<_>>(),
        "affiliations": s.affiliations.iter().map(|a| json!({
            "organisation_id": a.organisation_id,
            "role": a.role,
            "started_at": time(a.started_at.as_ref()),
            "ended_at": time(a.ended_at.as_ref()),
        })).collect::<Vec<_>>(),
        "consents": s.consents.iter().map(|c| json!({
            "channel": enum_name(c.channel, pb::ConsentChannel::as_str_name),
            "legal_basis": enum_name(c.legal_basis, pb::LegalBasis::as_str_name),
            "recorded_at": time(c.recorded_at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

fn interaction(i: &pb::Interaction) -> Value {
    json!({
        "interaction_id": i.interaction_id,
        "occurred_at": time(i.occurred_at.as_ref()),
        "channel": enum_name(i.channel, pb::InteractionChannel::as_str_name),
        "direction": enum_name(i.direction, pb::InteractionDirection::as_str_name),
        "subject": i.subject,
        "notes": i.notes,
        "themes": i.themes.iter().map(|t| enum_name(*t, pb::InteractionTheme::as_str_name)).collect::<Vec<_>>(),
        "participants": i.participants.iter().map(|p| p.stakeholder_id.clone()).collect::<Vec<_>>(),
        "facilitator": i.facilitator,
        "logged_at": time(i.logged_at.as_ref()),
        "follow_ups": i.follow_ups.iter().map(|f| json!({
            "description": f.description,
            "due_at": time(f.due_at.as_ref()),
            "completed": f.completed,
        })).collect::<Vec<_>>(),
        "corrections": i.corrections.len(),
        "erased": i.erased,
    })
}

/// The subject-access export as a JSON document.
pub fn export_json(export: &pb::PersonDataExport) -> Value {
    json!({
        "stakeholder_id": export.stakeholder_id,
        "erased": export.erased,
        "erased_at": time(export.erased_at.as_ref()),
        "stakeholder": export.stakeholder.as_ref().map(stakeholder),
        "interactions": export.interactions.iter().map(interaction).collect::<Vec<_>>(),
        "history": export.history.iter().map(|h| json!({
            "version": h.version,
            "event_type": h.event_type,
            "actor": h.actor,
            "recorded_at": time(h.recorded_at.as_ref()),
        })).collect::<Vec<_>>(),
    })
}
