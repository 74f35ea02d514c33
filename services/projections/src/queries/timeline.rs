//! A stakeholder's timeline: its registration (and erasure), every contact it
//! took part in (at the contact's corrected date), and every fact the
//! engagement and governance logs recorded about it, in time order.

use maillage_proto::v1 as pb;

use super::joins::contacts_of;
use super::Page;
use crate::labels;
use crate::model::ReadModel;
use crate::time::timestamp;

struct Entry {
    at: i64,
    kind: String,
    context: String,
    reference_id: String,
    detail: String,
    actor: String,
}

/// The timeline of `stakeholder_id`, `page` of it.
pub fn timeline(model: &ReadModel, stakeholder_id: &str, page: Page) -> pb::StakeholderTimeline {
    let mut entries = Vec::new();
    let row = model.stakeholders.get(stakeholder_id);
    if let Some(row) = row.filter(|row| row.registered) {
        entries.push(Entry {
            at: row.registered_at.unwrap_or(0),
            kind: "REGISTERED".into(),
            context: "stakeholders".into(),
            reference_id: stakeholder_id.to_owned(),
            detail: String::new(),
            actor: row.registered_by.clone(),
        });
    }
    if let Some(erased_at) = row.and_then(|row| row.erased_at) {
        entries.push(Entry {
            at: erased_at,
            kind: "ERASED".into(),
            context: "stakeholders".into(),
            reference_id: stakeholder_id.to_owned(),
            detail: String::new(),
            actor: String::new(),
        });
    }
    for interaction_id in contacts_of(model, stakeholder_id) {
        let Some(interaction) = model.interactions.get(&interaction_id) else {
            continue;
        };
        entries.push(Entry {
            at: interaction.occurred_at.unwrap_or(interaction.logged_at),
            kind: "CONTACT".into(),
            context: "stakeholders".into(),
            reference_id: interaction_id,
            detail: labels::interaction_channel(interaction.channel).to_owned(),
            actor: interaction.logged_by.clone(),
        });
    }
    let prefix = format!("{stakeholder_id}/");
    for (_, fact) in model.timeline.with_prefix(&prefix) {
        entries.push(Entry {
            at: fact.at,
            kind: fact.kind,
            context: fact.context,
            reference_id: fact.reference_id,
            detail: fact.detail,
            actor: fact.actor,
        });
    }
    entries.sort_by(|a, b| {
        (a.at, &a.context, &a.kind, &a.reference_id, &a.detail).cmp(&(
            b.at,
            &b.context,
            &b.kind,
            &b.reference_id,
            &b.detail,
        ))
    });
    let entries: Vec<pb::TimelineEntry> = entries
        .into_iter()
        .map(|entry| pb::TimelineEntry {
            at: Some(timestamp(entry.at)),
            kind: entry.kind,
            context: entry.context,
            reference_id: entry.reference_id,
            detail: entry.detail,
            actor: entry.actor,
        })
        .collect();
    let (entries, page_info) = page.slice(entries);
    pb::StakeholderTimeline {
        stakeholder_id: stakeholder_id.to_owned(),
        registered: row.is_some_and(|row| row.registered),
        erased: row.is_some_and(|row| row.erased),
        entries,
        page: Some(page_info),
    }
}
