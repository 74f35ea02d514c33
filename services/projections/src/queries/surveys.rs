//! Survey results: counts per option, scale distributions and means,
//! rankings' mean positions, and responses by commune and audience
//! (stakeholder respondents joined to their commune and kind at query time),
//! beside them the coded findings of the interviews that complete the
//! survey ([`super::coding`]); and the list of surveys.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;

use super::joins::audience_of;
use super::ratio;
use crate::labels;
use crate::model::{ReadModel, SurveyRow};
use crate::time::opt_timestamp;

/// Most values listed for a scale (the engagement service allows max - min <= 100).
const MAX_SCALE_VALUES: i64 = 101;

/// The results of `survey_id`, or `None` if no such survey was drafted.
pub fn results(model: &ReadModel, survey_id: &str) -> Option<pb::SurveyResults> {
    let survey = model.surveys.get(survey_id)?;
    let empty = Default::default();
    let questions = survey
        .questions
        .iter()
        .map(|question| {
            let tally = survey.tallies.get(&question.question_id).unwrap_or(&empty);
            let mut result = pb::SurveyQuestionResult {
                question_id: question.question_id.clone(),
                text: question.text.clone(),
                kind: question.kind.clone(),
                answered: tally.answered,
                ..Default::default()
            };
            match question.kind.as_str() {
                "SINGLE_CHOICE" | "MULTIPLE_CHOICE" => {
                    result.options = question
                        .options
                        .iter()
                        .map(|(id, label)| pb::SurveyOptionResult {
                            option_id: id.clone(),
                            label: label.clone(),
                            count: tally.chosen.get(id).copied().unwrap_or(0),
                            mean_position: 0.0,
                        })
                        .collect();
                }
                "RANKING" => {
                    result.options = question
                        .options
                        .iter()
                        .map(|(id, label)| {
                            let count = tally.rank_counts.get(id).copied().unwrap_or(0);
                            let sum = tally.rank_sums.get(id).copied().unwrap_or(0);
                            pb::SurveyOptionResult {
                                option_id: id.clone(),
                                label: label.clone(),
                                count,
                                mean_position: ratio(sum, count),
                            }
                        })
                        .collect();
                }
                "SCALE" => {
                    let (min, max) = (i64::from(question.scale_min), i64::from(question.scale_max));
                    let max = max.min(min + MAX_SCALE_VALUES - 1);
                    result.scale_distribution = (min..=max)
                        .filter_map(|value| i32::try_from(value).ok())
                        .map(|value| pb::SurveyScaleCount {
                            value,
                            count: tally.scale.get(&value).copied().unwrap_or(0),
                        })
                        .collect();
                    let n: u64 = tally.scale.values().sum();
                    let sum: i64 = tally
                        .scale
                        .iter()
                        .map(|(value, count)| i64::from(*value) * *count as i64)
                        .sum();
                    result.scale_mean = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
                }
                _ => {}
            }
            result
        })
        .collect();
    let (by_commune, by_audience) = breakdowns(model, survey_id, survey);
    let (interviews, interview_codes) = super::coding::interview_codes(model, survey_id);
    Some(pb::SurveyResults {
        survey_id: survey_id.to_owned(),
        title: survey.title.clone(),
        status: survey.status,
        responses: survey.responses,
        questions,
        responses_by_commune: by_commune,
        responses_by_audience: by_audience,
        opened_at: opt_timestamp(survey.opened_at),
        closed_at: opt_timestamp(survey.closed_at),
        interviews,
        interview_codes,
    })
}

/// Every survey (only those in `status` when given), newest first.
pub fn list(model: &ReadModel, status: Option<i32>) -> Vec<pb::SurveyListItem> {
    let mut items: Vec<pb::SurveyListItem> = model
        .surveys
        .iter()
        .filter(|(_, survey)| status.is_none_or(|status| survey.status == status))
        .map(|(id, survey)| pb::SurveyListItem {
            survey_id: id.clone(),
            title: survey.title.clone(),
            status: survey.status,
            responses: survey.responses,
            opened_at: opt_timestamp(survey.opened_at),
            closed_at: opt_timestamp(survey.closed_at),
        })
        .collect();
    // Keys are in id order, and ids are UUIDv7: the newest last.
    items.reverse();
    items
}

fn breakdowns(
    model: &ReadModel,
    survey_id: &str,
    survey: &SurveyRow,
) -> (Vec<pb::LabelCount>, Vec<pb::LabelCount>) {
    let mut communes = BTreeMap::<String, u64>::new();
    let mut audiences = BTreeMap::<&'static str, u64>::new();
    for (code, count) in &survey.anonymous_by_commune {
        *communes.entry(code.clone()).or_default() += count;
    }
    for (audience, count) in &survey.anonymous_by_audience {
        *audiences
            .entry(labels::engagement_audience(*audience))
            .or_default() += count;
    }
    for (stakeholder_id, count) in model.respondents(survey_id, survey) {
        let row = model
            .stakeholders
            .get(stakeholder_id)
            .filter(|row| row.registered);
        let commune = row
            .map(|row| row.commune.clone())
            .filter(|code| !code.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        *communes.entry(commune).or_default() += count;
        *audiences.entry(audience_of(row).as_str_name()).or_default() += count;
    }
    let to_counts = |map: BTreeMap<String, u64>| {
        map.into_iter()
            .map(|(label, count)| pb::LabelCount { label, count })
            .collect()
    };
    (
        to_counts(communes),
        to_counts(
            audiences
                .into_iter()
                .map(|(label, count)| (label.to_owned(), count))
                .collect(),
        ),
    )
}
