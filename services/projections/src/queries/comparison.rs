//! What changed on a territory between two instants (`CompareTerritory`, the
//! report's `--diff`): each instant is read into a [`Side`] (the territory
//! report's figures and the consortia covering the territory), then the two
//! sides are compared. Counts, commune codes, commitment and resolution
//! titles only: no personal data, like the territory report.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use super::{commune_codes, consortium, resolve_territory, territory, Page};
use crate::model::ReadModel;

/// The tables a comparison reads: the territory report's and the consortia's.
pub const TABLES: crate::snapshot::Tables = &[
    "stakeholders",
    "interactions",
    "actions",
    "surveys",
    "survey_respondents",
    "interviews",
    "consortia",
    "meetings",
    "commitments",
];

/// The territory at one instant.
pub struct Side {
    /// The territory report, without its page of communes.
    pub report: pb::TerritoryEngagementReport,
    /// The consortia whose territory overlaps it, in id order.
    pub consortia: Vec<pb::ConsortiumState>,
}

/// Whether a consortium covering `covered` reaches one of `communes`.
fn overlaps(territory: &Territory, covered: &[(i32, String)], communes: &BTreeSet<&str>) -> bool {
    covered.iter().any(|(level, code)| {
        let reference = pb::TerritoryRef {
            level: *level,
            code: code.clone(),
        };
        resolve_territory(territory, Some(&reference), "territory")
            .is_ok_and(|reference| !commune_codes(territory, &reference).is_disjoint(communes))
    })
}

/// The territory `reference` in `model`, judging what is overdue at `now` (µs).
pub fn side(model: &ReadModel, territory: &Territory, reference: &CogRef, now: i64) -> Side {
    let mut report = territory::report_at(model, territory, reference, Page::ALL, now);
    report.communes.clear();
    report.page = None;
    let communes = commune_codes(territory, reference);
    let consortia = model
        .consortia
        .iter()
        .filter(|(_, row)| overlaps(territory, &row.territory, &communes))
        .filter_map(|(id, _)| consortium::state(model, id, now))
        .collect();
    Side { report, consortia }
}

fn commitments(before: &Side, after: &Side) -> Vec<pb::CommitmentChange> {
    let earlier: BTreeMap<(&str, &str), &pb::ConsortiumCommitmentState> = before
        .consortia
        .iter()
        .flat_map(|state| {
            state
                .commitments
                .iter()
                .map(move |c| ((state.consortium_id.as_str(), c.commitment_id.as_str()), c))
        })
        .collect();
    let mut changes = Vec::new();
    for state in &after.consortia {
        for now in &state.commitments {
            let then = earlier.get(&(state.consortium_id.as_str(), now.commitment_id.as_str()));
            if then.is_some_and(|then| then.status == now.status && then.percent == now.percent) {
                continue;
            }
            changes.push(pb::CommitmentChange {
                consortium_id: state.consortium_id.clone(),
                commitment_id: now.commitment_id.clone(),
                title: now.title.clone(),
                owner_member_id: now.owner_member_id.clone(),
                existed_before: then.is_some(),
                status_before: then.map_or(0, |then| then.status),
                percent_before: then.map_or(0, |then| then.percent),
                status_after: now.status,
                percent_after: now.percent,
            });
        }
    }
    changes
}

fn resolutions(before: &Side, after: &Side) -> Vec<pb::ResolutionDecided> {
    let earlier: BTreeMap<(&str, &str), i32> = before
        .consortia
        .iter()
        .flat_map(|state| {
            state.meetings.iter().flat_map(move |meeting| {
                meeting.resolutions.iter().map(move |r| {
                    (
                        (state.consortium_id.as_str(), r.resolution_id.as_str()),
                        r.status,
                    )
                })
            })
        })
        .collect();
    let open = pb::ResolutionStatus::Open as i32;
    let mut decided = Vec::new();
    for state in &after.consortia {
        for meeting in &state.meetings {
            for resolution in &meeting.resolutions {
                let then = earlier.get(&(
                    state.consortium_id.as_str(),
                    resolution.resolution_id.as_str(),
                ));
                if resolution.status != open && then != Some(&resolution.status) {
                    decided.push(pb::ResolutionDecided {
                        consortium_id: state.consortium_id.clone(),
                        meeting_id: meeting.meeting_id.clone(),
                        resolution_id: resolution.resolution_id.clone(),
                        title: resolution.title.clone(),
                        status: resolution.status,
                    });
                }
            }
        }
    }
    decided
}

/// Compares the territory at `before` with the territory at `after`.
pub fn compare(before: Side, after: Side) -> pb::TerritoryComparison {
    let white = |side: &Side| -> BTreeSet<String> {
        side.report.white_zone_communes.iter().cloned().collect()
    };
    let (white_before, white_after) = (white(&before), white(&after));
    pb::TerritoryComparison {
        left_white_zone: white_before.difference(&white_after).cloned().collect(),
        entered_white_zone: white_after.difference(&white_before).cloned().collect(),
        commitments: commitments(&before, &after),
        resolutions: resolutions(&before, &after),
        before: Some(before.report),
        after: Some(after.report),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(white: &[&str], percent: u32, status: pb::ResolutionStatus) -> Side {
        Side {
            report: pb::TerritoryEngagementReport {
                white_zone_communes: white.iter().map(|c| (*c).to_owned()).collect(),
                ..Default::default()
            },
            consortia: vec![pb::ConsortiumState {
                consortium_id: "k1".into(),
                commitments: vec![pb::ConsortiumCommitmentState {
                    commitment_id: "c1".into(),
                    title: "Ouvrir un atelier".into(),
                    owner_member_id: "m1".into(),
                    percent,
                    ..Default::default()
                }],
                meetings: vec![pb::ConsortiumMeetingState {
                    meeting_id: "g1".into(),
                    resolutions: vec![pb::ConsortiumResolutionState {
                        resolution_id: "r1".into(),
                        title: "Adopter la charte".into(),
                        status: status as i32,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn white_zones_commitments_and_votes_are_compared() {
        let before = side(&["37009", "37063"], 10, pb::ResolutionStatus::Open);
        let after = side(&["37063", "37100"], 40, pb::ResolutionStatus::Adopted);
        let comparison = compare(before, after);
        assert_eq!(comparison.left_white_zone, ["37009"]);
        assert_eq!(comparison.entered_white_zone, ["37100"]);
        assert_eq!(comparison.commitments.len(), 1);
        let moved = &comparison.commitments[0];
        assert!(moved.existed_before);
        assert_eq!((moved.percent_before, moved.percent_after), (10, 40));
        assert_eq!(comparison.resolutions.len(), 1);
        assert_eq!(comparison.resolutions[0].meeting_id, "g1");
        assert_eq!(
            comparison.resolutions[0].status,
            pb::ResolutionStatus::Adopted as i32
        );
    }

    #[test]
    fn nothing_moved_between_equal_instants() {
        let same = || side(&["37009"], 10, pb::ResolutionStatus::Adopted);
        let comparison = compare(same(), same());
        assert!(comparison.left_white_zone.is_empty());
        assert!(comparison.entered_white_zone.is_empty());
        assert!(comparison.commitments.is_empty());
        assert!(comparison.resolutions.is_empty());
    }

    #[test]
    fn a_commitment_made_in_between_is_new() {
        let mut before = side(&[], 0, pb::ResolutionStatus::Open);
        before.consortia[0].commitments.clear();
        let after = side(&[], 20, pb::ResolutionStatus::Open);
        let comparison = compare(before, after);
        assert_eq!(comparison.commitments.len(), 1);
        assert!(!comparison.commitments[0].existed_before);
        assert!(comparison.resolutions.is_empty());
    }
}
