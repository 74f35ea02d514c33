//! The "Motivations et attentes codées" section: for each survey of the
//! report completed by interviews, the codes of the codebook its interviews
//! were coded with (motivations, then expectations), with how many interviews
//! carry each, by audience and by commune. Codes only: what people said stays
//! sealed. Rendered by `templates/report/coded.html`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::data::ReportData;
use super::labels::{code_kind, fr, topic};

/// One code and where it was heard.
pub struct CodeLine {
    /// The code's label ("(retiré)" appended when retired).
    pub label: String,
    /// Its theme, in French ("—" without).
    pub theme: String,
    /// Interviews that carry it.
    pub interviews: u64,
    /// "public : n", joined.
    pub audiences: String,
    /// "commune : n", joined (commune names when the territory has them).
    pub communes: String,
}

/// The codes of one kind.
pub struct KindCodes {
    /// The kind, in French ("Motivations").
    pub kind: String,
    /// Its codes, most heard first.
    pub codes: Vec<CodeLine>,
}

/// One survey's coded interviews.
pub struct SurveyCodes<'a> {
    /// The survey's title.
    pub title: &'a str,
    /// Interviews that complete it.
    pub interviews: u64,
    /// By kind, in the codebook's order of kinds.
    pub kinds: Vec<KindCodes>,
}

/// The section (`templates/report/coded.html`).
#[derive(Template)]
#[template(path = "report/coded.html")]
pub struct CodedSection<'a> {
    surveys: Vec<SurveyCodes<'a>>,
}

/// `label : count` of each, joined, labels read by `name`.
fn joined(counts: &[pb::LabelCount], name: impl Fn(&str) -> String) -> String {
    counts
        .iter()
        .map(|count| format!("{} : {}", name(&count.label), count.count))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A code's label, marked when retired.
pub fn label(label: &str, retired: bool) -> String {
    if retired {
        format!("{label} (retiré)")
    } else {
        label.to_owned()
    }
}

/// The coded interviews of the report's surveys (those with interviews).
pub fn section(data: &ReportData) -> CodedSection<'_> {
    let commune = |code: &str| {
        data.territory
            .communes
            .iter()
            .find(|commune| commune.code == code)
            .map_or_else(|| fr(code), |commune| commune.name.clone())
    };
    let surveys = data
        .surveys
        .iter()
        .filter(|survey| survey.interviews > 0)
        .map(|survey| {
            let mut kinds: Vec<KindCodes> = Vec::new();
            for code in &survey.interview_codes {
                let kind = code_kind(code.kind);
                let line = CodeLine {
                    label: label(&code.label, code.retired),
                    theme: topic(code.topic),
                    interviews: code.count,
                    audiences: joined(&code.by_audience, fr),
                    communes: joined(&code.by_commune, commune),
                };
                match kinds.last_mut() {
                    Some(last) if last.kind == kind => last.codes.push(line),
                    _ => kinds.push(KindCodes {
                        kind,
                        codes: vec![line],
                    }),
                }
            }
            SurveyCodes {
                title: &survey.title,
                interviews: survey.interviews,
                kinds,
            }
        })
        .collect();
    CodedSection { surveys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_shown_by_kind_with_audiences_and_communes_escaped() {
        let data = ReportData {
            territory: pb::TerritoryEngagementReport {
                communes: vec![pb::CommuneEngagement {
                    code: "37063".into(),
                    name: "Château-Renault".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            surveys: vec![pb::SurveyResults {
                title: "Vos attentes".into(),
                interviews: 3,
                interview_codes: vec![
                    pb::CodeCount {
                        label: "Rompre <l'isolement>".into(),
                        kind: pb::CodeKind::Motivation as i32,
                        topic: pb::Theme::Telework as i32,
                        count: 2,
                        by_audience: vec![pb::LabelCount {
                            label: "ENGAGEMENT_AUDIENCE_POPULATION".into(),
                            count: 2,
                        }],
                        by_commune: vec![pb::LabelCount {
                            label: "37063".into(),
                            count: 2,
                        }],
                        ..Default::default()
                    },
                    pb::CodeCount {
                        label: "Haut débit".into(),
                        kind: pb::CodeKind::Expectation as i32,
                        count: 1,
                        retired: true,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let html = section(&data).render().unwrap();
        assert!(html.contains("Motivations et attentes codées"), "{html}");
        assert!(html.contains("<strong>3</strong> entretiens"), "{html}");
        assert!(html.contains("Rompre &#60;l&#39;isolement&#62;"), "{html}");
        assert!(html.contains("Population : 2"), "{html}");
        assert!(html.contains("Château-Renault : 2"), "{html}");
        assert!(html.contains("Haut débit (retiré)"), "{html}");
        assert!(html.find("Motivations</h4>") < html.find("Attentes</h4>"));
        let empty = section(&ReportData::default()).render().unwrap();
        assert!(empty.contains("Aucun entretien codé"), "{empty}");
    }
}
