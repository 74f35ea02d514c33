//! The "Prospective" section: what the held foresight workshops produced —
//! scenarios with their horizon, weak signals, recommendations — read from
//! the engagement log as of the report's instant (every workshop of the
//! programme, oldest first). Rendered by `templates/report/foresight.html`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::data::ReportData;
use super::dates::date_fr;
use super::scan::LogFacts;

/// The section (`templates/report/foresight.html`).
#[derive(Template)]
#[template(path = "report/foresight.html")]
pub struct ForesightSection<'a> {
    workshops: &'a [(String, pb::ForesightOutputsRecorded)],
}

/// The workshops with outputs, each with the day it started, oldest first.
pub fn workshops(facts: &LogFacts) -> Vec<(String, pb::ForesightOutputsRecorded)> {
    let mut workshops: Vec<(Option<i64>, String, pb::ForesightOutputsRecorded)> = facts
        .foresight
        .iter()
        .map(|(id, outputs)| {
            let start = facts.actions.get(id).and_then(|action| action.starts_at);
            let day = start
                .map(|seconds| date_fr(&prost_types::Timestamp { seconds, nanos: 0 }))
                .unwrap_or_default();
            (start, day, outputs.clone())
        })
        .collect();
    workshops.sort_by(|a, b| (a.0, &a.2.action_id).cmp(&(b.0, &b.2.action_id)));
    workshops
        .into_iter()
        .map(|(_, day, outputs)| (day, outputs))
        .collect()
}

/// The foresight workshops' outputs.
pub fn section(data: &ReportData) -> ForesightSection<'_> {
    ForesightSection {
        workshops: &data.foresight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_signals_and_recommendations_are_shown_escaped() {
        let data = ReportData {
            foresight: vec![(
                "12/03/2027".into(),
                pb::ForesightOutputsRecorded {
                    scenarios: vec![pb::ForesightScenario {
                        title: "Un tiers-lieu <par> bassin".into(),
                        horizon_year: 2035,
                        narrative: "Reliés par le transport à la demande.".into(),
                    }],
                    signals: vec!["Le télétravail s'installe".into()],
                    recommendations: vec!["Mutualiser un animateur".into()],
                    ..Default::default()
                },
            )],
            ..Default::default()
        };
        let html = section(&data).render().unwrap();
        assert!(html.contains("<h2>Prospective</h2>"), "{html}");
        assert!(html.contains("Atelier prospectif du 12/03/2027"), "{html}");
        assert!(
            html.contains("Un tiers-lieu &#60;par&#62; bassin"),
            "{html}"
        );
        assert!(html.contains("horizon 2035"), "{html}");
        assert!(html.contains("Mutualiser un animateur"), "{html}");
        let empty = section(&ReportData::default()).render().unwrap();
        assert!(empty.contains("Aucun atelier prospectif"), "{empty}");
    }
}
