//! Attending engages the attendee's home commune wherever the action took
//! place (issue 11, item 6): an inhabitant of Sainte-Croix-aux-Mines whose
//! only engagement is a meeting held in Colmar, outside the EPCI, no longer
//! leaves Sainte-Croix a white zone; and an online action counts for the
//! territory it is for.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::*;
use maillage_projections::model::ReadModel;
use maillage_projections::queries::{self, Page};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

const RESIDENT: &str = "0190a000-0000-7000-8000-0000000009f1";
const IN_COLMAR: &str = "0190a000-0000-7000-8000-0000000009a1";

fn meeting_in_colmar(attendees: &[&str]) -> Vec<Ev> {
    let stream = format!("action-{IN_COLMAR}");
    let e = "engagement";
    let mut events = vec![
        person(
            RESIDENT,
            &[pb::PersonKind::Inhabitant],
            SAINTE_CROIX,
            day(1),
        ),
        ev(
            e,
            stream.clone(),
            day(2),
            "alice",
            pb::ActionPlanned {
                action_id: IN_COLMAR.into(),
                kind: pb::ActionKind::AwarenessPublicMeeting as i32,
                title: "Réunion publique".into(),
                themes: vec![pb::EngagementTheme::Telework as i32],
                audiences: vec![pb::EngagementAudience::Population as i32],
                venue: Some(pb::ActionVenue {
                    place: Some(pb::action_venue::Place::CommuneCode(COLMAR.into())),
                }),
                planned_by: "alice".into(),
                ..Default::default()
            },
        ),
        ev(
            e,
            stream.clone(),
            day(2),
            "alice",
            pb::ActionScheduled {
                action_id: IN_COLMAR.into(),
                starts_at: ts(day(5)),
                ends_at: ts(day(5) + 3_600_000_000),
            },
        ),
        ev(
            e,
            stream.clone(),
            day(5),
            "alice",
            pb::ActionHeld {
                action_id: IN_COLMAR.into(),
                held_at: ts(day(5)),
            },
        ),
    ];
    if !attendees.is_empty() {
        events.push(ev(
            e,
            stream,
            day(5),
            "alice",
            pb::ActionAttendanceRecorded {
                action_id: IN_COLMAR.into(),
                attendee_ids: attendees.iter().map(|id| (*id).to_owned()).collect(),
                named_total: attendees.len() as u32,
                ..Default::default()
            },
        ));
    }
    events
}

fn white_zones(events: &[Ev]) -> Vec<String> {
    let mut model = ReadModel::new();
    for log in envelopes(events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    let epci = TerritoryRef::epci(EPCI).unwrap();
    queries::territory::report(&model, Territory::shared(), &epci, Page::ALL).white_zone_communes
}

#[test]
fn attending_an_action_outside_the_territory_engages_the_home_commune() {
    let everyone = [LIEPVRE, ROMBACH, SAINTE_CROIX, SAINTE_MARIE].map(String::from);
    assert_eq!(white_zones(&meeting_in_colmar(&[])), everyone);
    assert_eq!(
        white_zones(&meeting_in_colmar(&[RESIDENT])),
        [LIEPVRE, ROMBACH, SAINTE_MARIE].map(String::from)
    );
}

const WEBINAR: &str = "0190a000-0000-7000-8000-0000000009a2";

/// A webinar held online, with 30 people watching: for `target` (if any).
fn webinar(target: Option<pb::TerritoryRef>) -> Vec<Ev> {
    let stream = format!("action-{WEBINAR}");
    let e = "engagement";
    vec![
        ev(
            e,
            stream.clone(),
            day(2),
            "alice",
            pb::ActionPlanned {
                action_id: WEBINAR.into(),
                kind: pb::ActionKind::AwarenessWebinar as i32,
                title: "Webinaire télétravail".into(),
                themes: vec![pb::EngagementTheme::Telework as i32],
                audiences: vec![pb::EngagementAudience::Population as i32],
                venue: Some(pb::ActionVenue {
                    place: Some(pb::action_venue::Place::Online(true)),
                }),
                planned_by: "alice".into(),
                target_territory: target,
                ..Default::default()
            },
        ),
        ev(
            e,
            stream.clone(),
            day(5),
            "alice",
            pb::ActionHeld {
                action_id: WEBINAR.into(),
                held_at: ts(day(5)),
            },
        ),
        ev(
            e,
            stream,
            day(5),
            "alice",
            pb::ActionAttendanceRecorded {
                action_id: WEBINAR.into(),
                head_counts: vec![pb::AudienceHeadCount {
                    audience: pb::EngagementAudience::Population as i32,
                    count: 30,
                }],
                anonymous_total: 30,
                ..Default::default()
            },
        ),
    ]
}

fn report(events: &[Ev], reference: &TerritoryRef) -> pb::TerritoryEngagementReport {
    let mut model = ReadModel::new();
    for log in envelopes(events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    queries::territory::report(&model, Territory::shared(), reference, Page::ALL)
}

#[test]
fn an_online_action_counts_for_the_territory_it_is_for() {
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let for_the_epci = webinar(Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: EPCI.into(),
    }));
    let counted = report(&for_the_epci, &epci);
    assert_eq!(counted.actions_held, 1);
    assert_eq!(counted.anonymous_people_reached, 30);
    assert_eq!(
        counts(&counted.actions_held_by_theme),
        [("ENGAGEMENT_THEME_TELEWORK", 1)]
    );
    // Its département counts it too; one of its communes does not (it was
    // for them all, held in none), nor does another EPCI.
    let departement = TerritoryRef::departement("68").unwrap();
    assert_eq!(report(&for_the_epci, &departement).actions_held, 1);
    let commune = TerritoryRef::commune(LIEPVRE).unwrap();
    assert_eq!(report(&for_the_epci, &commune).actions_held, 0);
    let colmar = TerritoryRef::epci("246800726").unwrap();
    assert_eq!(report(&for_the_epci, &colmar).actions_held, 0);
    // Without a target territory, an online action counts nowhere.
    let nowhere = report(&webinar(None), &epci);
    assert_eq!(
        (nowhere.actions_held, nowhere.anonymous_people_reached),
        (0, 0)
    );
}

fn counts(list: &[pb::LabelCount]) -> Vec<(&str, u64)> {
    list.iter().map(|c| (c.label.as_str(), c.count)).collect()
}
