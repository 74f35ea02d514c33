//! Survey results as bar charts: choices counted, scales distributed with their mean,
//! rankings by mean position, free texts counted only (their content stays out).
//! Rendered by `templates/report/surveys.html`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::charts::{self, Bar, HBars};
use super::data::ReportData;
use super::labels::{fr, percent};

/// How one question's answers are shown.
pub enum Answers {
    /// Bars of counts (choices) or of ranks (rankings).
    Bars(HBars),
    /// The distribution of a scale and its mean, written the French way.
    Scale(HBars, String),
    /// Free texts: counted only.
    FreeText,
}

/// One question's results.
pub struct QuestionResult<'a> {
    question: &'a pb::SurveyQuestionResult,
    answers: Answers,
}

/// One survey's results.
pub struct SurveyResults<'a> {
    survey: &'a pb::SurveyResults,
    /// "audience : count", joined.
    audiences: String,
    questions: Vec<QuestionResult<'a>>,
}

/// The surveys of the territory (`templates/report/surveys.html`).
#[derive(Template)]
#[template(path = "report/surveys.html")]
pub struct SurveysSection<'a> {
    surveys: Vec<SurveyResults<'a>>,
}

/// A number with two decimals and a decimal comma.
fn decimal(value: f64) -> String {
    format!("{value:.2}").replace('.', ",")
}

fn answers(question: &pb::SurveyQuestionResult) -> Answers {
    let answered = question.answered.max(1) as f64;
    match question.kind.as_str() {
        "SINGLE_CHOICE" | "MULTIPLE_CHOICE" => {
            let bars = question
                .options
                .iter()
                .map(|option| Bar {
                    label: option.label.clone(),
                    value: option.count as f64,
                    text: format!(
                        "{} ({})",
                        option.count,
                        percent(option.count as f64 / answered)
                    ),
                })
                .collect();
            Answers::Bars(charts::hbars(bars, None, charts::BAR, &question.text))
        }
        "SCALE" => {
            let bars = question
                .scale_distribution
                .iter()
                .map(|value| Bar {
                    label: value.value.to_string(),
                    value: value.count as f64,
                    text: value.count.to_string(),
                })
                .collect();
            Answers::Scale(
                charts::hbars(bars, None, charts::BAR, &question.text),
                decimal(question.scale_mean),
            )
        }
        "RANKING" => {
            let count = question.options.len() as f64;
            let bars = question
                .options
                .iter()
                .map(|option| Bar {
                    label: option.label.clone(),
                    // Better ranked, longer bar.
                    value: (count + 1.0 - option.mean_position).max(0.0),
                    text: format!("rang moyen {}", decimal(option.mean_position)),
                })
                .collect();
            Answers::Bars(charts::hbars(
                bars,
                Some(count),
                charts::BAR2,
                &question.text,
            ))
        }
        _ => Answers::FreeText,
    }
}

/// One section per survey.
pub fn section(data: &ReportData) -> SurveysSection<'_> {
    let surveys = data
        .surveys
        .iter()
        .map(|survey| {
            let audiences: Vec<String> = survey
                .responses_by_audience
                .iter()
                .map(|a| format!("{} : {}", fr(&a.label), a.count))
                .collect();
            SurveyResults {
                survey,
                audiences: audiences.join(", "),
                questions: survey
                    .questions
                    .iter()
                    .map(|question| QuestionResult {
                        question,
                        answers: answers(question),
                    })
                    .collect(),
            }
        })
        .collect();
    SurveysSection { surveys }
}
