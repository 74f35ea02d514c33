//! One vocabulary of themes across the platform (issue 11, item 5): the
//! territory report says, for each `Theme`, what was done across contacts,
//! actions, surveys, interviews and commitments; events written before
//! `topics` existed (older `InteractionTheme`s, `EngagementTheme`s, free-text
//! commitment themes) are read in the shared vocabulary; a new event is read by
//! its `topics`, not by the older field it also carries for older consumers;
//! and read-model rows stored before `topics` keep their themes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeMap;

use common::*;
use maillage_projections::model::{InteractionRow, ReadModel};
use maillage_projections::queries::{self, Page};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

const RESIDENT: &str = "0190a000-0000-7000-8000-0000000007f1";
const DIGITAL: &str = "0190a000-0000-7000-8000-0000000007a1";
const CORRECTED: &str = "0190a000-0000-7000-8000-0000000007a2";
const WORKSHOP: &str = "0190a000-0000-7000-8000-0000000007b1";
const INTERVIEW: &str = "0190a000-0000-7000-8000-0000000007c1";
const DONE: &str = "0190a000-0000-7000-8000-0000000007d1";
const DROPPED: &str = "0190a000-0000-7000-8000-0000000007d2";

/// The EPCI's report over `events`, by theme label.
fn by_theme(
    events: &[Ev],
) -> (
    pb::TerritoryEngagementReport,
    BTreeMap<String, pb::ThemeActivity>,
) {
    let mut model = ReadModel::new();
    for log in envelopes(events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let report = queries::territory::report(&model, Territory::shared(), &epci, Page::ALL);
    let themes = report
        .by_theme
        .iter()
        .map(|activity| (activity.theme.clone(), activity.clone()))
        .collect();
    (report, themes)
}

fn contact(id: &str, at: i64, topics: &[pb::Theme], older: &[pb::InteractionTheme]) -> Ev {
    ev(
        "stakeholders",
        format!("interaction-{id}"),
        at,
        "alice",
        pb::InteractionLogged {
            interaction_id: id.into(),
            participants: vec![pb::InteractionParticipant {
                stakeholder_id: RESIDENT.into(),
                r#type: pb::StakeholderType::Person as i32,
            }],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: ts(at),
            sealed_subject: vec![9],
            themes: older.iter().map(|t| *t as i32).collect(),
            topics: topics.iter().map(|t| *t as i32).collect(),
            logged_at: ts(at),
            facilitator: "alice".into(),
            ..Default::default()
        },
    )
}

/// What a platform that writes `topics` adds to the older scenario.
fn newer_events() -> Vec<Ev> {
    let e = "engagement";
    let g = "governance";
    let workshop = format!("action-{WORKSHOP}");
    let commitment = |id: &str, topic: pb::Theme| {
        ev(
            g,
            format!("commitment-{id}"),
            day(40),
            "sec",
            pb::CommitmentMade {
                axis_ids: Default::default(),
                commitment_id: id.into(),
                consortium_id: C1.into(),
                title: "Navette vers les tiers-lieux".into(),
                owner_member_id: L1.into(),
                due_at: ts(day(90)),
                theme: "Mobilité".into(),
                topic: topic as i32,
                origin: None,
                made_at: ts(day(40)),
            },
        )
    };
    vec![
        person(
            RESIDENT,
            &[pb::PersonKind::Inhabitant],
            SAINTE_CROIX,
            day(1),
        ),
        // Digital inclusion has no older contact theme: the older field says OTHER.
        contact(
            DIGITAL,
            day(10),
            &[pb::Theme::DigitalInclusion],
            &[pb::InteractionTheme::Other],
        ),
        contact(
            CORRECTED,
            day(11),
            &[pb::Theme::Mobility],
            &[pb::InteractionTheme::Other],
        ),
        // Corrected by a client written before `topics`: its themes are the
        // correction's older ones.
        ev(
            "stakeholders",
            format!("interaction-{CORRECTED}"),
            day(12),
            "alice",
            pb::InteractionCorrected {
                interaction_id: CORRECTED.into(),
                sealed_reason: vec![1],
                themes: Some(pb::InteractionThemes {
                    themes: vec![pb::InteractionTheme::Awareness as i32],
                }),
                corrected_at: ts(day(12)),
                corrected_by: "alice".into(),
                ..Default::default()
            },
        ),
        ev(
            e,
            workshop.clone(),
            day(13),
            "alice",
            pb::ActionPlanned {
                action_id: WORKSHOP.into(),
                kind: pb::ActionKind::AwarenessPublicMeeting as i32,
                title: "Réunion de sensibilisation".into(),
                topics: vec![pb::Theme::Awareness as i32],
                audiences: vec![pb::EngagementAudience::Population as i32],
                venue: Some(pb::ActionVenue {
                    place: Some(pb::action_venue::Place::CommuneCode(SAINTE_CROIX.into())),
                }),
                planned_by: "alice".into(),
                ..Default::default()
            },
        ),
        ev(
            e,
            workshop.clone(),
            day(13),
            "alice",
            pb::ActionScheduled {
                action_id: WORKSHOP.into(),
                starts_at: ts(day(14)),
                ends_at: ts(day(14) + 3_600_000_000),
            },
        ),
        ev(
            e,
            workshop,
            day(14),
            "alice",
            pb::ActionHeld {
                action_id: WORKSHOP.into(),
                held_at: ts(day(14)),
            },
        ),
        ev(
            e,
            format!("interview-{INTERVIEW}"),
            day(15),
            "alice",
            pb::InterviewRecorded {
                interview_id: INTERVIEW.into(),
                subject: Some(pb::InterviewSubject {
                    who: Some(pb::interview_subject::Who::StakeholderId(RESIDENT.into())),
                }),
                interviewer: "alice".into(),
                conducted_at: ts(day(15)),
                topics: vec![pb::Theme::Survey as i32],
                ..Default::default()
            },
        ),
        commitment(DONE, pb::Theme::Mobility),
        ev(
            g,
            format!("commitment-{DONE}"),
            day(45),
            "sec",
            pb::CommitmentCompleted {
                commitment_id: DONE.into(),
                completed_at: ts(day(45)),
            },
        ),
        commitment(DROPPED, pb::Theme::Mobility),
        ev(
            g,
            format!("commitment-{DROPPED}"),
            day(46),
            "sec",
            pb::CommitmentDropped {
                commitment_id: DROPPED.into(),
                reason: "Pas de financement".into(),
                dropped_at: ts(day(46)),
            },
        ),
    ]
}

#[test]
fn events_in_the_older_vocabularies_are_reported_by_theme() {
    let (report, themes) = by_theme(&scenario());
    // Every contact of the scenario is about "Quels TLA ?" (TIERS_LIEUX_KINDS).
    assert!(report.contacts > 0);
    assert_eq!(themes["THEME_QUELS_TLA"].contacts, report.contacts);
    // Actions: the same counts as the older-vocabulary breakdown, value for value.
    for older in &report.actions_held_by_theme {
        let name = older.label.replace("ENGAGEMENT_THEME_", "THEME_");
        assert_eq!(themes[&name].actions_held, older.count, "{name}");
    }
    // Commitments: free text read as themes ("telework"), or OTHER ("open").
    assert_eq!(themes["THEME_TELEWORK"].commitments, 1);
    assert_eq!(themes["THEME_OTHER"].commitments, 1);
    assert_eq!(themes["THEME_OTHER"].contacts, 0);
}

#[test]
fn newer_events_are_read_by_their_topics_across_every_kind_of_work() {
    let (_, before) = by_theme(&scenario());
    let mut events = scenario();
    events.extend(newer_events());
    events.sort_by_key(|event| event.at);
    let (_, after) = by_theme(&events);
    let delta = |theme: &str, field: fn(&pb::ThemeActivity) -> u64| {
        let count = |map: &BTreeMap<String, pb::ThemeActivity>| map.get(theme).map_or(0, field);
        count(&after) - count(&before)
    };
    // Read by `topics`, not by the older OTHER they also carry.
    assert_eq!(delta("THEME_DIGITAL_INCLUSION", |t| t.contacts), 1);
    assert_eq!(delta("THEME_OTHER", |t| t.contacts), 0);
    // The older correction replaced the contact's themes.
    assert_eq!(delta("THEME_AWARENESS", |t| t.contacts), 1);
    assert_eq!(delta("THEME_MOBILITY", |t| t.contacts), 0);
    // A theme the older action vocabulary lacks.
    assert_eq!(delta("THEME_AWARENESS", |t| t.actions_held), 1);
    assert_eq!(delta("THEME_SURVEY", |t| t.interviews), 1);
    // The dropped commitment does not count; the completed one is done.
    assert_eq!(delta("THEME_MOBILITY", |t| t.commitments), 1);
    assert_eq!(delta("THEME_MOBILITY", |t| t.commitments_done), 1);
    // Rows in `Theme` order.
    let order: Vec<i32> = after
        .keys()
        .map(|name| pb::Theme::from_str_name(name).unwrap() as i32)
        .collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    let (report, _) = by_theme(&events);
    let listed: Vec<i32> = report
        .by_theme
        .iter()
        .map(|t| pb::Theme::from_str_name(&t.theme).unwrap() as i32)
        .collect();
    assert_eq!(listed, sorted);
}

#[test]
fn a_row_stored_before_topics_reads_its_older_themes() {
    let row = InteractionRow {
        themes: vec![pb::InteractionTheme::Consortium as i32],
        ..Default::default()
    };
    let mut stored = serde_json::to_value(&row).unwrap();
    stored.as_object_mut().unwrap().remove("topics");
    let loaded: InteractionRow = serde_json::from_value(stored).unwrap();
    assert_eq!(loaded.topics(), vec![pb::Theme::Governance as i32]);
}
