//! Follow-ups someone owns (issue 12, item 4): `ListFollowUps` answers who owns
//! what, due when, by owner, territory, due date and overdue, soonest first;
//! reassignments and completions move them; the territory report counts the
//! open and overdue ones; and the same holds as of an earlier instant.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::*;
use maillage_projections::model::ReadModel;
use maillage_projections::queries::follow_ups::{self, Filter};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

const IN_EPCI: &str = "0190a000-0000-7000-8000-0000000006a1";
const IN_COLMAR: &str = "0190a000-0000-7000-8000-0000000006a2";
const FIRST: &str = "0190a000-0000-7000-8000-0000000006f1";
const SECOND: &str = "0190a000-0000-7000-8000-0000000006f2";
const THIRD: &str = "0190a000-0000-7000-8000-0000000006f3";
const FOURTH: &str = "0190a000-0000-7000-8000-0000000006f4";

fn follow_up(id: &str, due: Option<i64>, owner: &str) -> pb::SealedFollowUp {
    pb::SealedFollowUp {
        follow_up_id: id.into(),
        sealed_description: vec![7],
        due_at: due.and_then(ts),
        owner: owner.into(),
    }
}

fn contact(id: &str, who: &str, at: i64, follow_ups: Vec<pb::SealedFollowUp>) -> Ev {
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
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: ts(at),
            sealed_subject: vec![9],
            follow_ups,
            logged_at: ts(at),
            facilitator: "alice".into(),
            ..Default::default()
        },
    )
}

/// Two contacts in the EPCI, one in Colmar, with four follow-ups; then, on day
/// 20, the second reassigned to bruno (due day 25), the first done on day 21.
fn events() -> Vec<Ev> {
    let epci_contact = "0190a000-0000-7000-8000-0000000006c1";
    let colmar_contact = "0190a000-0000-7000-8000-0000000006c2";
    vec![
        person(IN_EPCI, &[pb::PersonKind::Inhabitant], SAINTE_CROIX, day(1)),
        person(IN_COLMAR, &[pb::PersonKind::Inhabitant], COLMAR, day(1)),
        contact(
            epci_contact,
            IN_EPCI,
            day(2),
            vec![
                // No owner: alice, who logged it.
                follow_up(FIRST, Some(day(10)), ""),
                follow_up(SECOND, Some(day(12)), "chloe"),
                follow_up(THIRD, None, "chloe"),
            ],
        ),
        contact(
            colmar_contact,
            IN_COLMAR,
            day(3),
            vec![follow_up(FOURTH, Some(day(5)), "chloe")],
        ),
        ev(
            "stakeholders",
            format!("interaction-{epci_contact}"),
            day(20),
            "alice",
            pb::FollowUpReassigned {
                interaction_id: epci_contact.into(),
                follow_up_id: SECOND.into(),
                owner: "bruno".into(),
                due_at: ts(day(25)),
                reassigned_at: ts(day(20)),
                reassigned_by: "alice".into(),
            },
        ),
        ev(
            "stakeholders",
            format!("interaction-{epci_contact}"),
            day(21),
            "alice",
            pb::FollowUpCompleted {
                interaction_id: epci_contact.into(),
                follow_up_id: FIRST.into(),
                completed_at: ts(day(21)),
                completed_by: "alice".into(),
            },
        ),
    ]
}

fn model_until(until: i64) -> ReadModel {
    let mut model = ReadModel::new();
    let events: Vec<Ev> = events().into_iter().filter(|e| e.at <= until).collect();
    for log in envelopes(&events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    model
}

fn ids(items: &[pb::FollowUpListItem]) -> Vec<&str> {
    items
        .iter()
        .map(|item| item.follow_up_id.as_str())
        .collect()
}

#[test]
fn follow_ups_are_listed_by_owner_territory_and_due_date() {
    let model = model_until(day(30));
    let territory = Territory::shared();
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let now = day(30);
    let all = follow_ups::list(&model, territory, &Filter::default(), now);
    // Open ones, soonest due first, the one without a due date last.
    assert_eq!(ids(&all), vec![FOURTH, SECOND, THIRD]);
    assert_eq!(all[1].owner, "bruno");
    assert_eq!(all[1].due_at, ts(day(25)));
    assert!(all[0].overdue && all[1].overdue && !all[2].overdue);
    let chloe = Filter {
        owner: Some("chloe"),
        ..Default::default()
    };
    assert_eq!(
        ids(&follow_ups::list(&model, territory, &chloe, now)),
        vec![FOURTH, THIRD]
    );
    let in_epci = Filter {
        territory: Some(&epci),
        ..Default::default()
    };
    assert_eq!(
        ids(&follow_ups::list(&model, territory, &in_epci, now)),
        vec![SECOND, THIRD]
    );
    let with_done = Filter {
        territory: Some(&epci),
        include_completed: true,
        ..Default::default()
    };
    let listed = follow_ups::list(&model, territory, &with_done, now);
    assert_eq!(ids(&listed), vec![FIRST, SECOND, THIRD]);
    assert_eq!(listed[0].owner, "alice");
    assert!(listed[0].completed && !listed[0].overdue);
    let due_soon = Filter {
        due_before: Some(day(20)),
        ..Default::default()
    };
    assert_eq!(
        ids(&follow_ups::list(&model, territory, &due_soon, now)),
        vec![FOURTH]
    );
    // The territory report's counts: two open in the EPCI, one overdue, the
    // same counted in the report's own pass over the contacts.
    assert_eq!(
        follow_ups::open_and_overdue(&model, territory, &epci, now),
        (2, 1)
    );
    let report = maillage_projections::queries::territory::report_at(
        &model,
        territory,
        &epci,
        maillage_projections::queries::Page::ALL,
        now,
    );
    assert_eq!((report.follow_ups_open, report.follow_ups_overdue), (2, 1));
}

#[test]
fn as_of_an_earlier_day_the_follow_ups_are_as_they_were() {
    let territory = Territory::shared();
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let model = model_until(day(15));
    let overdue = Filter {
        overdue_only: true,
        ..Default::default()
    };
    let listed = follow_ups::list(&model, territory, &overdue, day(15));
    // On day 15: the first (due 10, not yet done) and the second (due 12, still
    // chloe's) are overdue in the EPCI, the fourth in Colmar.
    assert_eq!(ids(&listed), vec![FOURTH, FIRST, SECOND]);
    assert_eq!(listed[2].owner, "chloe");
    assert_eq!(
        follow_ups::open_and_overdue(&model, territory, &epci, day(15)),
        (3, 2)
    );
}
