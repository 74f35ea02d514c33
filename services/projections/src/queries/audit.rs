//! The contact audit: every contact with one stakeholder, or with every élu
//! and business of a territory, in a period: who logged it and when, how,
//! what about (sealed, or erased), with whom, and every correction with what
//! it superseded. Erased persons are shown as "erased".

use std::collections::BTreeSet;

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use super::joins::{communes_of, contacts_of, is_business, is_elu, kind_labels};
use crate::labels;
use crate::model::{ContactHead, InteractionRow, ReadModel};
use crate::time::{opt_timestamp, timestamp};

/// Whose contacts to audit.
pub enum AuditScope<'a> {
    /// One stakeholder's.
    Stakeholder(&'a str),
    /// Every élu and business of a territory (validated).
    Territory(&'a CogRef),
}

/// Every audit row of `scope` whose contact date is in `[from, to)`, by date then id.
pub fn rows(
    model: &ReadModel,
    territory: &Territory,
    scope: &AuditScope<'_>,
    from: Option<i64>,
    to: Option<i64>,
) -> Vec<pb::ContactAuditRow> {
    let mut interaction_ids = BTreeSet::<String>::new();
    match scope {
        AuditScope::Stakeholder(stakeholder_id) => {
            interaction_ids.extend(contacts_of(model, stakeholder_id));
        }
        AuditScope::Territory(reference) => {
            let communes = super::commune_codes(territory, reference);
            let audited: BTreeSet<&str> = model
                .stakeholders
                .iter()
                .filter(|(_, row)| {
                    (is_elu(row) || is_business(row))
                        && communes_of(row).iter().any(|code| communes.contains(code))
                })
                .map(|(id, _)| id.as_str())
                .collect();
            for row in model.interactions.rows("") {
                let Some(interaction) = row.head::<ContactHead<'_>>() else {
                    continue;
                };
                if interaction
                    .participants
                    .iter()
                    .any(|(participant, _)| audited.contains(participant))
                {
                    interaction_ids.insert(row.key().to_owned());
                }
            }
        }
    }
    let mut selected: Vec<(String, InteractionRow)> = interaction_ids
        .into_iter()
        .filter_map(|id| model.interactions.get(&id).map(|row| (id, row)))
        .filter(|(_, row)| row.logged)
        .filter(|(_, row)| {
            let at = row.occurred_at.unwrap_or(row.logged_at);
            from.is_none_or(|from| at >= from) && to.is_none_or(|to| at < to)
        })
        .collect();
    selected.sort_by(|(a_id, a), (b_id, b)| {
        (a.occurred_at.unwrap_or(a.logged_at), a_id)
            .cmp(&(b.occurred_at.unwrap_or(b.logged_at), b_id))
    });
    selected
        .into_iter()
        .map(|(id, row)| audit_row(model, &id, &row))
        .collect()
}

/// `id`, or "erased" for an erased person.
fn shown(model: &ReadModel, id: &str) -> String {
    if model.stakeholders.get(id).is_some_and(|s| s.erased) {
        "erased".to_owned()
    } else {
        id.to_owned()
    }
}

/// A correction's recorded values with erased persons' ids masked.
fn masked_values(model: &ReadModel, values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|value| match value.strip_prefix("participants=") {
            Some(ids) => {
                let ids: Vec<String> = ids.split(' ').map(|id| shown(model, id)).collect();
                format!("participants={}", ids.join(" "))
            }
            None => value.clone(),
        })
        .collect()
}

fn audit_row(model: &ReadModel, interaction_id: &str, row: &InteractionRow) -> pb::ContactAuditRow {
    let participants = row
        .participants
        .iter()
        .map(|(stakeholder_id, kind)| {
            let stakeholder = model.stakeholders.get(stakeholder_id);
            let erased = stakeholder.is_some_and(|s| s.erased);
            let registered = stakeholder.is_some_and(|s| s.registered);
            pb::ContactAuditParticipant {
                stakeholder_id: stakeholder_id.clone(),
                r#type: match (registered, stakeholder.map(|s| s.person)) {
                    (true, Some(true)) => "PERSON".into(),
                    (true, _) => "ORGANISATION".into(),
                    (false, _) if *kind == pb::StakeholderType::Person as i32 => "PERSON".into(),
                    (false, _) if *kind == pb::StakeholderType::Organisation as i32 => {
                        "ORGANISATION".into()
                    }
                    _ => "UNKNOWN".into(),
                },
                kinds: stakeholder
                    .filter(|s| s.registered)
                    .map(kind_labels)
                    .unwrap_or_default(),
                commune_code: stakeholder.map(|s| s.commune.clone()).unwrap_or_default(),
                erased,
                display: if erased {
                    "erased".into()
                } else {
                    stakeholder_id.clone()
                },
            }
        })
        .collect();
    pb::ContactAuditRow {
        interaction_id: interaction_id.to_owned(),
        occurred_at: opt_timestamp(row.occurred_at),
        logged_at: Some(timestamp(row.logged_at)),
        logged_by: row.logged_by.clone(),
        channel: labels::interaction_channel(row.channel).to_owned(),
        direction: labels::interaction_direction(row.direction).to_owned(),
        themes: row
            .themes
            .iter()
            .map(|theme| labels::interaction_theme(*theme).to_owned())
            .collect(),
        subject: if row.erased { "erased" } else { "sealed" }.to_owned(),
        participants,
        corrections: row
            .corrections
            .iter()
            .map(|correction| pb::ContactAuditCorrection {
                corrected_at: opt_timestamp(correction.corrected_at),
                corrected_by: correction.corrected_by.clone(),
                fields: correction.fields.clone(),
                values: masked_values(model, &correction.values),
            })
            .collect(),
        original_channel: labels::interaction_channel(row.original_channel).to_owned(),
        original_occurred_at: opt_timestamp(row.original_occurred_at),
        original_participant_ids: row
            .original_participants
            .iter()
            .map(|id| shown(model, id))
            .collect(),
    }
}
