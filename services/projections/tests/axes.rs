//! The programme's axes in the territory report (issue 14): contacts and
//! commitments are counted per axis they are tagged with — contacts with a
//! stakeholder of the territory, by their axes after corrections;
//! commitments of the consortia covering it, not dropped, and those
//! completed — as of any instant; events written before axes count for none.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeMap;

use common::*;
use maillage_projections::model::ReadModel;
use maillage_projections::queries::{self, Page};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

const RESIDENT: &str = "0190a000-0000-7000-8000-0000000008f1";
const TAGGED: &str = "0190a000-0000-7000-8000-0000000008a1";
const RETAGGED: &str = "0190a000-0000-7000-8000-0000000008a2";
const CLEARED: &str = "0190a000-0000-7000-8000-0000000008a3";
const ELSEWHERE: &str = "0190a000-0000-7000-8000-0000000008a4";
const OPEN: &str = "0190a000-0000-7000-8000-0000000008d1";
const DONE: &str = "0190a000-0000-7000-8000-0000000008d2";
const DROPPED: &str = "0190a000-0000-7000-8000-0000000008d3";
const INFORM: &str = "0190a000-0000-7000-8000-0000000008e1";
const CONSULT: &str = "0190a000-0000-7000-8000-0000000008e2";

fn contact(id: &str, who: &str, at: i64, axes: &[&str]) -> Ev {
    ev(
        "stakeholders",
        format!("interaction-{id}"),
        at,
        "alice",
        pb::InteractionLogged {
            interaction_id: id.into(),
            participants: vec![pb::InteractionParticipant {
                stakeholder_id: who.into(),
                r#type: pb::StakeholderType::Person as i32,
            }],
            channel: pb::InteractionChannel::Phone as i32,
            occurred_at: ts(at),
            sealed_subject: vec![9],
            logged_at: ts(at),
            facilitator: "alice".into(),
            axis_ids: axes.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        },
    )
}

fn retag(id: &str, at: i64, axes: &[&str]) -> Ev {
    ev(
        "stakeholders",
        format!("interaction-{id}"),
        at,
        "alice",
        pb::InteractionCorrected {
            interaction_id: id.into(),
            sealed_reason: vec![1],
            axis_ids: Some(pb::AxisIds {
                axis_ids: axes.iter().map(|a| a.to_string()).collect(),
            }),
            corrected_at: ts(at),
            corrected_by: "alice".into(),
            ..Default::default()
        },
    )
}

fn commitment(id: &str, at: i64, axes: &[&str]) -> Ev {
    ev(
        "governance",
        format!("commitment-{id}"),
        at,
        "sec",
        pb::CommitmentMade {
            commitment_id: id.into(),
            consortium_id: C1.into(),
            title: "Navette vers les tiers-lieux".into(),
            owner_member_id: L1.into(),
            due_at: ts(at + 60 * 86_400 * 1_000_000),
            topic: pb::Theme::Mobility as i32,
            made_at: ts(at),
            axis_ids: axes.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        },
    )
}

/// The scenario (written before axes), then contacts and commitments tagged.
fn events() -> Vec<Ev> {
    let mut events = scenario();
    let g = "governance";
    events.extend([
        person(
            RESIDENT,
            &[pb::PersonKind::Inhabitant],
            SAINTE_CROIX,
            day(100),
        ),
        contact(TAGGED, RESIDENT, day(101), &[INFORM, CONSULT]),
        contact(RETAGGED, RESIDENT, day(102), &[INFORM]),
        contact(CLEARED, RESIDENT, day(103), &[CONSULT]),
        // E4 is an élu of Colmar, outside the EPCI.
        contact(ELSEWHERE, E4, day(104), &[INFORM]),
        retag(RETAGGED, day(110), &[CONSULT]),
        retag(CLEARED, day(111), &[]),
        commitment(OPEN, day(101), &[INFORM]),
        commitment(DONE, day(102), &[INFORM, CONSULT]),
        commitment(DROPPED, day(103), &[INFORM]),
        ev(
            g,
            format!("commitment-{DONE}"),
            day(110),
            "sec",
            pb::CommitmentCompleted {
                commitment_id: DONE.into(),
                completed_at: ts(day(110)),
            },
        ),
        ev(
            g,
            format!("commitment-{DROPPED}"),
            day(111),
            "sec",
            pb::CommitmentDropped {
                commitment_id: DROPPED.into(),
                reason: "Pas de financement".into(),
                dropped_at: ts(day(111)),
            },
        ),
    ]);
    events
}

/// The EPCI's counts per axis (contacts, commitments, done) over the events
/// recorded up to `as_of`, as a replay builds them.
fn by_axis(events: &[Ev], as_of: i64) -> BTreeMap<String, (u64, u64, u64)> {
    let mut model = ReadModel::for_replay();
    for log in envelopes(events).values() {
        for envelope in log {
            let at = envelope.recorded_at.as_ref().unwrap();
            if at.seconds * 1_000_000 + i64::from(at.nanos) / 1_000 > as_of {
                break;
            }
            model.apply(envelope);
        }
    }
    let epci = TerritoryRef::epci(EPCI).unwrap();
    queries::territory::report(&model, Territory::shared(), &epci, Page::ALL)
        .by_axis
        .into_iter()
        .map(|axis| {
            (
                axis.axis_id,
                (axis.contacts, axis.commitments, axis.commitments_done),
            )
        })
        .collect()
}

#[test]
fn contacts_and_commitments_are_counted_per_axis_as_of_any_instant() {
    let events = events();
    // Nothing of the scenario was tagged: no axis at all.
    assert!(by_axis(&scenario(), i64::MAX).is_empty());
    // Before the corrections and the completion: as logged and made.
    let before = by_axis(&events, day(105));
    assert_eq!(before[INFORM], (2, 3, 0), "ELSEWHERE is not of the EPCI");
    assert_eq!(before[CONSULT], (2, 1, 0));
    // Now: RETAGGED moved to CONSULT, CLEARED has no axis, DONE completed,
    // DROPPED no longer counts.
    let now = by_axis(&events, i64::MAX);
    assert_eq!(now[INFORM], (1, 2, 1));
    assert_eq!(now[CONSULT], (2, 1, 1));
    assert_eq!(now.len(), 2);
}

#[test]
fn the_counts_per_axis_survive_a_snapshot_of_the_tables() {
    // The tables round-trip through their binary encoding (snapshots).
    let mut model = ReadModel::new();
    for log in envelopes(&events()).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    let mut copy = ReadModel::for_replay();
    for table in ["contact_axes", "commitment_axes"] {
        let mut bytes = Vec::new();
        model.encode_table(table, &mut bytes).unwrap();
        assert!(!bytes.is_empty());
        copy.decode_table(table, bytes.as_slice()).unwrap();
    }
    assert_eq!(copy.contact_axes, model.contact_axes);
    assert_eq!(copy.commitment_axes, model.commitment_axes);
}
