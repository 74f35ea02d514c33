//! The stakeholder map of a territory (stakeholder mapping): its assessed
//! stakeholders by influence × interest quadrant (Mendelow) and by position
//! on the project, and those to manage closely who were not contacted lately.
//! Influence and interest are *high* at 4 or 5, above the scale's middle.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use super::joins::{contact_stats, stakeholders_in};
use super::label_counts;
use crate::labels;
use crate::model::ReadModel;
use crate::time::opt_timestamp;

/// Scores from this one up are high.
const HIGH: u32 = 4;
/// µs in a day.
const DAY: i64 = 86_400_000_000;

/// The map of `reference` at `now`; "not contacted lately" is no contact in
/// `quiet_days` days before `now`.
pub fn map(
    model: &ReadModel,
    territory: &Territory,
    reference: &CogRef,
    quiet_days: u32,
    now: i64,
) -> pb::StakeholderMap {
    let contacts = contact_stats(model);
    let quiet_since = now - i64::from(quiet_days) * DAY;
    let mut map = pb::StakeholderMap {
        quiet_days,
        ..Default::default()
    };
    let mut positions = BTreeMap::<&str, u64>::new();
    for id in stakeholders_in(model, territory, reference) {
        let Some(row) = model.stakeholders.get(id) else {
            continue;
        };
        if row.erased {
            continue;
        }
        let Some(assessment) = row.assessment else {
            map.not_assessed += 1;
            continue;
        };
        map.assessed += 1;
        *positions
            .entry(labels::project_position(assessment.position))
            .or_default() += 1;
        match (assessment.influence >= HIGH, assessment.interest >= HIGH) {
            (true, true) => {
                map.manage_closely += 1;
                let last = contacts.get(id).and_then(|stats| stats.last_at);
                if last.is_none_or(|at| at < quiet_since) {
                    map.manage_closely_not_contacted
                        .push(pb::StakeholderMapEntry {
                            stakeholder_id: id.to_owned(),
                            influence: assessment.influence,
                            interest: assessment.interest,
                            position: labels::project_position(assessment.position).to_owned(),
                            last_contact_at: opt_timestamp(last),
                        });
                }
            }
            (true, false) => map.keep_satisfied += 1,
            (false, true) => map.keep_informed += 1,
            (false, false) => map.monitor += 1,
        }
    }
    map.by_position = label_counts(positions);
    // Never contacted first, then the least recently contacted; ids break ties.
    map.manage_closely_not_contacted.sort_by(|a, b| {
        let at = |entry: &pb::StakeholderMapEntry| {
            entry.last_contact_at.map(|at| (at.seconds, at.nanos))
        };
        at(a)
            .cmp(&at(b))
            .then_with(|| a.stakeholder_id.cmp(&b.stakeholder_id))
    });
    map
}
