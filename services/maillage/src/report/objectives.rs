//! The "Objectifs et livrables" section: for each objective of the
//! collectivité's programme (issue 14), its value in the report's territory
//! as of its instant against its target and due date; and for each mission
//! of the contract, its deliverables, delivered or due. Counted from the
//! logs like the progress per axis ([`super::axes`]); withdrawn objectives
//! are left out (the programme keeps them).

use std::collections::BTreeSet;

use askama::Template;
use maillage_proto::v1 as pb;

use super::axes::{action_in, communes_of, interview_in};
use super::data::ReportData;
use super::dates::date_fr;
use super::labels::fr;
use super::scan::{LogFacts, ObjectiveFact};

/// Where an objective stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its target is reached.
    Reached,
    /// Not reached, not due yet.
    Ongoing,
    /// Not reached, due date passed.
    Late,
}

/// One objective, measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectiveProgress {
    /// The axis it belongs to (its current name).
    pub axis: String,
    /// What it says.
    pub label: String,
    /// What is counted, in French.
    pub measure: String,
    /// The value reached.
    pub value: u64,
    /// The value to reach.
    pub target: u64,
    /// When it is due, in French.
    pub due: String,
    /// Where it stands.
    pub standing: Standing,
}

/// One deliverable of a mission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverableProgress {
    /// The mission's name.
    pub mission: String,
    /// What it is.
    pub label: String,
    /// When it is due, in French.
    pub due: String,
    /// When it was delivered (in French) and what, if it was.
    pub delivered: Option<(String, String)>,
    /// Not delivered, due date passed.
    pub late: bool,
}

fn day(seconds: i64) -> String {
    date_fr(&prost_types::Timestamp { seconds, nanos: 0 })
}

/// What an objective counts, in French (its filters included).
fn measure_label(set: &pb::ProgrammeObjectiveSet) -> String {
    let names = |values: Vec<&str>| values.into_iter().map(fr).collect::<Vec<_>>().join(", ");
    let kinds = names(set.action_kinds().map(|k| k.as_str_name()).collect());
    let audiences = names(set.audiences().map(|a| a.as_str_name()).collect());
    let mut label = match set.measure() {
        pb::ObjectiveMeasure::CommunesReached => "communes atteintes par une action tenue",
        pb::ObjectiveMeasure::Interviews => "entretiens",
        pb::ObjectiveMeasure::SurveyResponses => "réponses aux enquêtes",
        _ => "actions tenues",
    }
    .to_owned();
    if !kinds.is_empty() {
        label.push_str(&format!(" ({kinds})"));
    }
    if !audiences.is_empty() {
        label.push_str(&format!(", public : {audiences}"));
    }
    label
}

/// The value of an objective in the territory of `communes`.
fn value_of(objective: &ObjectiveFact, facts: &LogFacts, communes: &BTreeSet<String>) -> u64 {
    let set = &objective.set;
    let tagged = |ids: &[String]| ids.contains(&set.axis_id);
    let counted = facts.actions.values().filter(|action| {
        action.held
            && tagged(&action.axis_ids)
            && (set.action_kinds.is_empty() || set.action_kinds.contains(&action.kind))
            && (set.audiences.is_empty()
                || action.audiences.iter().any(|a| set.audiences.contains(a)))
            && action_in(action, communes)
    });
    match set.measure() {
        pb::ObjectiveMeasure::CommunesReached => {
            let mut reached = BTreeSet::new();
            for action in counted {
                reached.extend(
                    action
                        .commune
                        .iter()
                        .filter(|c| communes.contains(*c))
                        .cloned(),
                );
                if let Some(target) = &action.target {
                    reached.extend(communes_of(target).intersection(communes).cloned());
                }
            }
            reached.len() as u64
        }
        pb::ObjectiveMeasure::Interviews => facts
            .interviews
            .iter()
            .filter(|interview| {
                tagged(&interview.axis_ids) && interview_in(facts, interview, communes)
            })
            .count() as u64,
        pb::ObjectiveMeasure::SurveyResponses => facts
            .responses
            .iter()
            .filter(|response| {
                tagged(&response.axis_ids) && interview_in(facts, response, communes)
            })
            .count() as u64,
        _ => counted.count() as u64,
    }
}

/// The objectives in force, measured in the territory of `communes` at `at`
/// (seconds since the epoch), in the order they were first set.
pub fn objectives(
    facts: &LogFacts,
    communes: &BTreeSet<String>,
    at: i64,
) -> Vec<ObjectiveProgress> {
    facts
        .objectives
        .iter()
        .filter(|objective| objective.withdrawn.is_none())
        .map(|objective| {
            let set = &objective.set;
            let value = value_of(objective, facts, communes);
            let target = match set.every_commune {
                true => communes.len() as u64,
                false => u64::from(set.target),
            };
            let due_at = set.due_at.as_ref().map_or(0, |t| t.seconds);
            ObjectiveProgress {
                axis: facts
                    .axes
                    .iter()
                    .find(|axis| axis.id == set.axis_id)
                    .map(|axis| axis.name.clone())
                    .unwrap_or_default(),
                label: set.label.clone(),
                measure: measure_label(set),
                value,
                target,
                due: day(due_at),
                standing: match (value >= target, at > due_at) {
                    (true, _) => Standing::Reached,
                    (false, false) => Standing::Ongoing,
                    (false, true) => Standing::Late,
                },
            }
        })
        .collect()
}

/// Every deliverable of every mission at `at` (seconds since the epoch),
/// missions in the order defined.
pub fn deliverables(facts: &LogFacts, at: i64) -> Vec<DeliverableProgress> {
    facts
        .missions
        .iter()
        .flat_map(|mission| {
            mission
                .deliverables
                .iter()
                .map(|deliverable| DeliverableProgress {
                    mission: mission.name.clone(),
                    label: deliverable.label.clone(),
                    due: day(deliverable.due_at),
                    delivered: deliverable
                        .delivered
                        .as_ref()
                        .map(|(when, reference)| (day(*when), reference.clone())),
                    late: deliverable.delivered.is_none() && at > deliverable.due_at,
                })
        })
        .collect()
}

/// The section (`templates/report/objectives.html`).
#[derive(Template)]
#[template(path = "report/objectives.html")]
pub struct ObjectivesSection<'a> {
    objectives: &'a [ObjectiveProgress],
    deliverables: &'a [DeliverableProgress],
}

impl ObjectivesSection<'_> {
    /// How the template shows a standing.
    fn standing(standing: &Standing) -> &'static str {
        match standing {
            Standing::Reached => "atteint",
            Standing::Ongoing => "en cours",
            Standing::Late => "en retard",
        }
    }
}

/// The section.
pub fn section(data: &ReportData) -> ObjectivesSection<'_> {
    ObjectivesSection {
        objectives: &data.objectives,
        deliverables: &data.deliverables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::scan::{ActionFact, AxisFact, DeliverableFact, MissionFact};

    fn communes() -> BTreeSet<String> {
        ["37001", "37002", "37003"].map(String::from).into()
    }

    fn objective(
        id: &str,
        measure: pb::ObjectiveMeasure,
        kinds: &[pb::ActionKind],
        target: u32,
    ) -> ObjectiveFact {
        ObjectiveFact {
            id: id.into(),
            set: pb::ProgrammeObjectiveSet {
                objective_id: id.into(),
                axis_id: "a".into(),
                label: format!("objectif {id}"),
                measure: measure.into(),
                action_kinds: kinds.iter().map(|k| *k as i32).collect(),
                target,
                every_commune: target == 0,
                due_at: Some(prost_types::Timestamp {
                    seconds: 1_000,
                    nanos: 0,
                }),
                ..Default::default()
            },
            withdrawn: None,
        }
    }

    fn facts() -> LogFacts {
        let action = |commune: &str, kind: pb::ActionKind, held, axis: &str| ActionFact {
            commune: Some(commune.into()),
            held,
            kind: kind as i32,
            axis_ids: vec![axis.into()],
            ..ActionFact::default()
        };
        let mut facts = LogFacts {
            axes: vec![AxisFact {
                id: "a".into(),
                name: "Sensibiliser".into(),
                retired: false,
            }],
            ..LogFacts::default()
        };
        for (id, fact) in [
            (
                "1",
                action("37001", pb::ActionKind::AwarenessStand, true, "a"),
            ),
            (
                "2",
                action("37001", pb::ActionKind::AwarenessStand, true, "a"),
            ),
            (
                "3",
                action("37002", pb::ActionKind::AwarenessStand, false, "a"),
            ),
            ("4", action("37003", pb::ActionKind::Roundtable, true, "a")),
            (
                "5",
                action("37003", pb::ActionKind::AwarenessStand, true, "b"),
            ),
            (
                "6",
                action("99999", pb::ActionKind::AwarenessStand, true, "a"),
            ),
        ] {
            facts.actions.insert(id.into(), fact);
        }
        facts
    }

    #[test]
    fn objectives_count_held_actions_of_their_axis_and_kinds_in_the_territory() {
        let mut facts = facts();
        facts.objectives = vec![
            objective(
                "communes",
                pb::ObjectiveMeasure::CommunesReached,
                &[pb::ActionKind::AwarenessStand],
                0,
            ),
            objective(
                "stands",
                pb::ObjectiveMeasure::ActionsHeld,
                &[pb::ActionKind::AwarenessStand],
                2,
            ),
            objective("any", pb::ObjectiveMeasure::ActionsHeld, &[], 5),
            ObjectiveFact {
                withdrawn: Some("remplacé".into()),
                ..objective("gone", pb::ObjectiveMeasure::ActionsHeld, &[], 1)
            },
        ];
        let measured = objectives(&facts, &communes(), 500);
        let seen: Vec<(&str, u64, u64, Standing)> = measured
            .iter()
            .map(|o| (o.label.as_str(), o.value, o.target, o.standing))
            .collect();
        assert_eq!(
            seen,
            [
                // One commune (37001) reached by held stands of the axis; 3 in all.
                ("objectif communes", 1, 3, Standing::Ongoing),
                // Two held stands in the territory (the one outside, the one of
                // another axis and the one not held do not count).
                ("objectif stands", 2, 2, Standing::Reached),
                ("objectif any", 3, 5, Standing::Ongoing),
            ]
        );
        assert_eq!(measured[0].axis, "Sensibiliser");
        assert_eq!(
            measured[0].measure,
            "communes atteintes par une action tenue (Stand)"
        );
        // After the due date, what is not reached is late.
        assert_eq!(
            objectives(&facts, &communes(), 2_000)[2].standing,
            Standing::Late
        );
    }

    #[test]
    fn survey_responses_of_the_axis_from_the_territory_count() {
        use crate::report::scan::InterviewFact;
        let mut facts = facts();
        let response = |commune: &str, axis: &str| InterviewFact {
            commune: Some(commune.into()),
            stakeholder_id: None,
            axis_ids: vec![axis.into()],
        };
        facts.communes.insert("p1".into(), "37002".into());
        facts.responses = vec![
            response("37001", "a"),
            response("37003", "a"),
            // Outside the territory, or to a survey of another axis.
            response("99999", "a"),
            response("37001", "b"),
            // A registered respondent, of a commune of the territory.
            InterviewFact {
                commune: None,
                stakeholder_id: Some("p1".into()),
                axis_ids: vec!["a".into()],
            },
        ];
        facts.objectives = vec![objective(
            "réponses",
            pb::ObjectiveMeasure::SurveyResponses,
            &[],
            10,
        )];
        let measured = objectives(&facts, &communes(), 500);
        assert_eq!((measured[0].value, measured[0].target), (3, 10));
        assert_eq!(measured[0].measure, "réponses aux enquêtes");
    }

    #[test]
    fn deliverables_are_delivered_due_or_late() {
        let mut facts = LogFacts::default();
        let deliverable = |id: &str, due_at, delivered: Option<(i64, &str)>| DeliverableFact {
            id: id.into(),
            label: format!("livrable {id}"),
            due_at,
            delivered: delivered.map(|(at, reference)| (at, reference.into())),
        };
        facts.missions = vec![MissionFact {
            id: "m".into(),
            name: "Mission 1".into(),
            deliverables: vec![
                deliverable("1", 1_000, Some((900, "bilan.pdf"))),
                deliverable("2", 1_000, None),
                deliverable("3", 3_000, None),
            ],
        }];
        let shown: Vec<(bool, bool)> = deliverables(&facts, 2_000)
            .iter()
            .map(|d| (d.delivered.is_some(), d.late))
            .collect();
        assert_eq!(shown, [(true, false), (false, true), (false, false)]);
    }
}
