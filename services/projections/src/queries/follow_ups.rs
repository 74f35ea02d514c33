//! The follow-ups of contacts: who owns what, due when, by owner, territory
//! and due date, and the open and overdue counts of a territory. A follow-up
//! is *overdue* when it is open and its due date is before `now` (the clock,
//! or the `as_of` of a replay). Descriptions are sealed and never here.

use std::collections::BTreeSet;

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use super::joins::stakeholders_in;
use crate::model::{FollowUpHead, InteractionHead, ReadModel};
use crate::time::opt_timestamp;

/// What a list asks for (already validated).
#[derive(Debug, Default)]
pub struct Filter<'a> {
    /// Only this owner's; `None`: everyone's.
    pub owner: Option<&'a str>,
    /// Only those of contacts with a stakeholder of this territory.
    pub territory: Option<&'a CogRef>,
    /// Only those due before this instant (µs).
    pub due_before: Option<i64>,
    /// Only the overdue ones.
    pub overdue_only: bool,
    /// Completed ones too.
    pub include_completed: bool,
}

fn overdue(follow_up: &FollowUpHead<'_>, now: i64) -> bool {
    !follow_up.completed && follow_up.due_at.is_some_and(|due| due < now)
}

fn with_a_stakeholder_of(interaction: &InteractionHead<'_>, of: &BTreeSet<&str>) -> bool {
    interaction
        .participants
        .iter()
        .any(|(id, _)| of.contains(id))
}

/// Every follow-up matching `filter` at `now`, soonest due first (no due date
/// last), then by interaction and follow-up id.
pub fn list(
    model: &ReadModel,
    territory: &Territory,
    filter: &Filter<'_>,
    now: i64,
) -> Vec<pb::FollowUpListItem> {
    let of = filter
        .territory
        .map(|reference| stakeholders_in(model, territory, reference));
    let mut items = Vec::new();
    for row in model.interactions.rows("") {
        let Some(interaction) = row.head::<InteractionHead<'_>>() else {
            continue;
        };
        if !interaction.logged
            || of
                .as_ref()
                .is_some_and(|of| !with_a_stakeholder_of(&interaction, of))
        {
            continue;
        }
        for (follow_up_id, follow_up) in &interaction.follow_up_rows {
            let late = overdue(follow_up, now);
            let keep = filter.owner.is_none_or(|owner| follow_up.owner == owner)
                && (filter.include_completed || !follow_up.completed)
                && (!filter.overdue_only || late)
                && filter
                    .due_before
                    .is_none_or(|before| follow_up.due_at.is_some_and(|due| due < before));
            if keep {
                items.push(pb::FollowUpListItem {
                    interaction_id: row.key().to_owned(),
                    follow_up_id: (*follow_up_id).to_owned(),
                    owner: follow_up.owner.to_owned(),
                    due_at: opt_timestamp(follow_up.due_at),
                    completed: follow_up.completed,
                    overdue: late,
                    participant_ids: interaction
                        .participants
                        .iter()
                        .map(|(id, _)| (*id).to_owned())
                        .collect(),
                    occurred_at: opt_timestamp(interaction.occurred_at),
                });
            }
        }
    }
    items.sort_by(|a, b| {
        let due = |item: &pb::FollowUpListItem| {
            item.due_at
                .map_or((1, 0, 0), |at| (0, at.seconds, at.nanos))
        };
        due(a)
            .cmp(&due(b))
            .then_with(|| a.interaction_id.cmp(&b.interaction_id))
            .then_with(|| a.follow_up_id.cmp(&b.follow_up_id))
    });
    items
}

/// The open follow-ups of contacts with a stakeholder of `reference`, and
/// those of them overdue at `now`.
pub fn open_and_overdue(
    model: &ReadModel,
    territory: &Territory,
    reference: &CogRef,
    now: i64,
) -> (u64, u64) {
    let of = stakeholders_in(model, territory, reference);
    let mut open = 0;
    let mut late = 0;
    for row in model.interactions.rows("") {
        let Some(interaction) = row.head::<InteractionHead<'_>>() else {
            continue;
        };
        if !interaction.logged || !with_a_stakeholder_of(&interaction, &of) {
            continue;
        }
        for follow_up in interaction.follow_up_rows.values() {
            if !follow_up.completed {
                open += 1;
                late += u64::from(overdue(follow_up, now));
            }
        }
    }
    (open, late)
}
