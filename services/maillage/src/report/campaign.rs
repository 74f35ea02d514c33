//! Survey results by the reach of the survey's information campaign (issue
//! 14): the territory's communes an action of the campaign reached (held
//! there, or held for a territory that contains them, as an online
//! newsletter for the EPCI) against those it did not, with the responses
//! from each group per 1,000 inhabitants.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;

use super::axes::communes_of;
use super::data::ReportData;
use super::labels::thousands;
use super::scan::LogFacts;

/// Survey id → the territory's communes its campaign reached (surveys with a
/// campaign only).
pub fn compute(
    facts: &LogFacts,
    communes: &BTreeSet<String>,
    surveys: &[pb::SurveyResults],
) -> BTreeMap<String, BTreeSet<String>> {
    surveys
        .iter()
        .filter_map(|survey| {
            let campaign = facts.survey_campaigns.get(&survey.survey_id)?;
            if campaign.is_empty() {
                return None;
            }
            let reached = campaign
                .iter()
                .filter_map(|id| facts.actions.get(id))
                .filter(|action| action.held)
                .flat_map(|action| {
                    let mut reached: BTreeSet<String> = action.commune.iter().cloned().collect();
                    if let Some(target) = &action.target {
                        reached.extend(communes_of(target));
                    }
                    reached
                })
                .filter(|code| communes.contains(code))
                .collect();
            Some((survey.survey_id.clone(), reached))
        })
        .collect()
}

/// Responses and inhabitants of the communes in `group`.
fn figures(data: &ReportData, survey: &pb::SurveyResults, group: &BTreeSet<&str>) -> (u64, u64) {
    let responses = survey
        .responses_by_commune
        .iter()
        .filter(|c| group.contains(c.label.as_str()))
        .map(|c| c.count)
        .sum();
    let population = data
        .territory
        .communes
        .iter()
        .filter(|c| group.contains(c.code.as_str()))
        .map(|c| c.population)
        .sum();
    (responses, population)
}

fn group_text(count: usize, (responses, population): (u64, u64)) -> String {
    let rate = if population == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}", responses as f64 * 1_000.0 / population as f64).replace('.', ",")
    };
    format!(
        "{count} commune{} ({} habitants) : {responses} réponse{}, {rate} pour 1 000 habitants",
        if count > 1 { "s" } else { "" },
        thousands(population),
        if responses > 1 { "s" } else { "" },
    )
}

/// The sentence comparing reached and not reached communes for `survey`
/// (none for a survey without a campaign).
pub fn comparison(data: &ReportData, survey: &pb::SurveyResults) -> Option<String> {
    let reached = data.campaign_reach.get(&survey.survey_id)?;
    let reached: BTreeSet<&str> = reached.iter().map(String::as_str).collect();
    let others: BTreeSet<&str> = data
        .territory
        .communes
        .iter()
        .map(|c| c.code.as_str())
        .filter(|code| !reached.contains(code))
        .collect();
    Some(format!(
        "Campagne d'information : atteintes, {} ; non atteintes, {}.",
        group_text(reached.len(), figures(data, survey, &reached)),
        group_text(others.len(), figures(data, survey, &others)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::scan::ActionFact;

    #[test]
    fn compares_the_communes_the_held_campaign_reached_with_the_others() {
        let mut facts = LogFacts::default();
        let action = |commune: &str, held| ActionFact {
            commune: Some(commune.into()),
            held,
            ..Default::default()
        };
        facts.actions.insert("a".into(), action("37063", true));
        facts.actions.insert("b".into(), action("37009", false));
        facts
            .survey_campaigns
            .insert("s".into(), vec!["a".into(), "b".into()]);
        let communes: BTreeSet<String> = ["37009".to_owned(), "37063".to_owned()].into();
        let survey = pb::SurveyResults {
            survey_id: "s".into(),
            responses_by_commune: vec![
                pb::LabelCount {
                    label: "37063".into(),
                    count: 44,
                },
                pb::LabelCount {
                    label: "37009".into(),
                    count: 1,
                },
            ],
            ..Default::default()
        };
        let reach = compute(&facts, &communes, std::slice::from_ref(&survey));
        assert_eq!(reach["s"], ["37063".to_owned()].into());
        let data = ReportData {
            territory: pb::TerritoryEngagementReport {
                communes: vec![
                    pb::CommuneEngagement {
                        code: "37009".into(),
                        population: 419,
                        ..Default::default()
                    },
                    pb::CommuneEngagement {
                        code: "37063".into(),
                        population: 4392,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            campaign_reach: reach,
            ..Default::default()
        };
        assert_eq!(
            comparison(&data, &survey).unwrap(),
            "Campagne d'information : atteintes, 1 commune (4\u{202f}392 habitants) : \
             44 réponses, 10,0 pour 1 000 habitants ; non atteintes, 1 commune (419 habitants) : \
             1 réponse, 2,4 pour 1 000 habitants."
        );
    }
}
