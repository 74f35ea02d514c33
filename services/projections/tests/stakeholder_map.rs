//! The stakeholder map (issue 12, item 6): a territory's assessed
//! stakeholders by influence × interest quadrant and by position, those to
//! manage closely with no contact lately (never contacted first), erased
//! persons and other territories left out, and the map as of an earlier day.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::*;
use maillage_projections::model::ReadModel;
use maillage_projections::queries::stakeholder_map;
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

const CLOSE_QUIET: &str = "0190a000-0000-7000-8000-0000000005a1";
const CLOSE_NEVER: &str = "0190a000-0000-7000-8000-0000000005a2";
const CLOSE_RECENT: &str = "0190a000-0000-7000-8000-0000000005a3";
const SATISFIED: &str = "0190a000-0000-7000-8000-0000000005a4";
const INFORMED: &str = "0190a000-0000-7000-8000-0000000005a5";
const UNASSESSED: &str = "0190a000-0000-7000-8000-0000000005a6";
const ERASED_ONE: &str = "0190a000-0000-7000-8000-0000000005a7";
const OUTSIDE: &str = "0190a000-0000-7000-8000-0000000005a8";

fn assessed(id: &str, at: i64, influence: u32, interest: u32, position: pb::ProjectPosition) -> Ev {
    ev(
        "stakeholders",
        format!("stakeholder-{id}"),
        at,
        "alice",
        pb::StakeholderAssessed {
            stakeholder_id: id.into(),
            influence,
            interest,
            position: position as i32,
            assessed_at: ts(at),
            assessed_by: "alice".into(),
        },
    )
}

fn contact(n: u8, who: &str, at: i64) -> Ev {
    let id = format!("0190a000-0000-7000-8000-0000000005c{n}");
    ev(
        "stakeholders",
        format!("interaction-{id}"),
        at,
        "alice",
        pb::InteractionLogged {
            interaction_id: id,
            participants: vec![pb::InteractionParticipant {
                stakeholder_id: who.into(),
                r#type: pb::StakeholderType::Person as i32,
            }],
            occurred_at: ts(at),
            sealed_subject: vec![1],
            logged_at: ts(at),
            facilitator: "alice".into(),
            ..Default::default()
        },
    )
}

fn events() -> Vec<Ev> {
    use pb::ProjectPosition as P;
    let elu = [pb::PersonKind::ElectedOfficial];
    let mut events: Vec<Ev> = [
        CLOSE_QUIET,
        CLOSE_NEVER,
        CLOSE_RECENT,
        SATISFIED,
        INFORMED,
        UNASSESSED,
        ERASED_ONE,
    ]
    .iter()
    .map(|id| person(id, &elu, SAINTE_MARIE, day(1)))
    .collect();
    events.push(person(OUTSIDE, &elu, COLMAR, day(1)));
    events.extend([
        assessed(CLOSE_QUIET, day(2), 5, 5, P::Neutral),
        assessed(CLOSE_NEVER, day(2), 4, 4, P::Opposed),
        assessed(CLOSE_RECENT, day(2), 4, 5, P::Supportive),
        assessed(SATISFIED, day(2), 5, 2, P::Supportive),
        assessed(INFORMED, day(2), 3, 4, P::Unknown),
        assessed(ERASED_ONE, day(2), 5, 5, P::Opposed),
        assessed(OUTSIDE, day(2), 5, 5, P::Opposed),
        contact(1, CLOSE_QUIET, day(3)),
        contact(2, CLOSE_RECENT, day(80)),
        // Later, the informed one weighs more: manage closely from day 90.
        assessed(INFORMED, day(90), 4, 4, P::Supportive),
    ]);
    events.push(ev(
        "stakeholders",
        format!("stakeholder-{ERASED_ONE}"),
        day(5),
        "admin",
        pb::PersonErased {
            stakeholder_id: ERASED_ONE.into(),
            erased_at: ts(day(5)),
            ..Default::default()
        },
    ));
    events.sort_by_key(|event| event.at);
    events
}

fn map_at(at: i64) -> pb::StakeholderMap {
    let mut model = ReadModel::new();
    let events: Vec<Ev> = events().into_iter().filter(|e| e.at <= at).collect();
    for log in envelopes(&events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    let epci = TerritoryRef::epci(EPCI).unwrap();
    stakeholder_map::map(&model, Territory::shared(), &epci, 60, at)
}

fn quiet(map: &pb::StakeholderMap) -> Vec<&str> {
    map.manage_closely_not_contacted
        .iter()
        .map(|entry| entry.stakeholder_id.as_str())
        .collect()
}

#[test]
fn the_map_sorts_a_territorys_stakeholders_into_quadrants() {
    let map = map_at(day(100));
    assert_eq!((map.assessed, map.not_assessed), (5, 1));
    assert_eq!(
        (
            map.manage_closely,
            map.keep_satisfied,
            map.keep_informed,
            map.monitor
        ),
        (4, 1, 0, 0)
    );
    // Never contacted first, then the least recently contacted; the one met
    // on day 80 is not quiet on day 100.
    assert_eq!(quiet(&map), vec![CLOSE_NEVER, INFORMED, CLOSE_QUIET]);
    assert!(map.manage_closely_not_contacted[0]
        .last_contact_at
        .is_none());
    assert_eq!(
        map.manage_closely_not_contacted[2].last_contact_at,
        ts(day(3))
    );
    let positions: Vec<(&str, u64)> = map
        .by_position
        .iter()
        .map(|count| (count.label.as_str(), count.count))
        .collect();
    assert_eq!(
        positions,
        vec![
            ("PROJECT_POSITION_NEUTRAL", 1),
            ("PROJECT_POSITION_OPPOSED", 1),
            ("PROJECT_POSITION_SUPPORTIVE", 3),
        ]
    );
}

#[test]
fn as_of_an_earlier_day_the_map_is_as_it_was() {
    let map = map_at(day(50));
    assert_eq!(
        (map.manage_closely, map.keep_satisfied, map.keep_informed),
        (3, 1, 1)
    );
    // On day 50, the one met on day 3 was met lately; the one met on day 80
    // not yet at all.
    assert_eq!(quiet(&map), vec![CLOSE_NEVER, CLOSE_RECENT]);
}
