//! Survey results as bar charts: choices counted, scales distributed with their mean,
//! rankings by mean position, free texts counted only (their content stays out).

use maillage_proto::v1 as pb;

use super::charts::{self, Bar};
use super::data::ReportData;
use super::html::escape;
use super::labels::{fr, percent};

fn question(question: &pb::SurveyQuestionResult) -> String {
    let answered = question.answered.max(1) as f64;
    let chart = match question.kind.as_str() {
        "SINGLE_CHOICE" | "MULTIPLE_CHOICE" => {
            let bars: Vec<Bar> = question
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
            charts::hbars(&bars, None, charts::BAR, &question.text)
        }
        "SCALE" => {
            let bars: Vec<Bar> = question
                .scale_distribution
                .iter()
                .map(|value| Bar {
                    label: value.value.to_string(),
                    value: value.count as f64,
                    text: value.count.to_string(),
                })
                .collect();
            format!(
                "{}<p class=\"muted\">Moyenne : {}</p>",
                charts::hbars(&bars, None, charts::BAR, &question.text),
                format!("{:.2}", question.scale_mean).replace('.', ",")
            )
        }
        "RANKING" => {
            let count = question.options.len() as f64;
            let bars: Vec<Bar> = question
                .options
                .iter()
                .map(|option| Bar {
                    label: option.label.clone(),
                    // Better ranked, longer bar.
                    value: (count + 1.0 - option.mean_position).max(0.0),
                    text: format!(
                        "rang moyen {}",
                        format!("{:.2}", option.mean_position).replace('.', ",")
                    ),
                })
                .collect();
            charts::hbars(&bars, Some(count), charts::BAR2, &question.text)
        }
        _ => "<p class=\"muted\">Réponses libres : consultables dans l'outil d'enquête.</p>"
            .to_owned(),
    };
    format!(
        "<h3>{}</h3><p class=\"muted\">{} réponses</p>{chart}",
        escape(&question.text),
        question.answered
    )
}

/// One section per survey.
pub fn section(data: &ReportData) -> String {
    if data.surveys.is_empty() {
        return "<section id=\"enquetes\"><h2>Enquête auprès de la population</h2><p class=\"muted\">Aucune enquête sur ce territoire.</p></section>".to_owned();
    }
    data.surveys
        .iter()
        .enumerate()
        .map(|(index, survey)| {
            let audiences: Vec<String> = survey
                .responses_by_audience
                .iter()
                .map(|a| format!("{} : {}", fr(&a.label), a.count))
                .collect();
            let questions: String = survey.questions.iter().map(question).collect();
            format!(
                "<section class=\"enquete\" id=\"enquete-{}\"><h2>{}</h2>\
                 <p><strong>{}</strong> réponses de {} communes. Par public : {}.</p>{}{questions}</section>",
                index + 1,
                escape(&survey.title),
                survey.responses,
                survey.responses_by_commune.len(),
                escape(&audiences.join(", ")),
                super::campaign::paragraph(data, survey),
            )
        })
        .collect()
}
