//! The "Avancement par axe" section: for each axis of the collectivité's
//! programme (issue 14), what was done on it in the territory — actions
//! planned and held there or for it, surveys with responses from it,
//! interviews with people of it, counted from the logs; contacts with its
//! stakeholders and the commitments of its consortia (open and completed),
//! as the projections count them (`TerritoryEngagementReport.by_axis`) — as
//! of the report's instant (retired axes last, with what they were used for
//! before).

use std::collections::BTreeSet;

use askama::Template;
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryLevel, TerritoryRef};

use super::data::ReportData;
use super::scan::{ActionFact, InterviewFact, LogFacts};

/// What was done on one axis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AxisProgress {
    /// Its current name.
    pub name: String,
    /// Whether it was retired.
    pub retired: bool,
    /// Actions tagged with it, planned in or for the territory (cancelled ones included).
    pub actions_planned: u64,
    /// Of them, held.
    pub actions_held: u64,
    /// Surveys tagged with it that have responses from the territory.
    pub surveys: u64,
    /// Interviews tagged with it, with people of the territory.
    pub interviews: u64,
    /// Contacts tagged with it with a stakeholder of the territory.
    pub contacts: u64,
    /// Commitments tagged with it of the territory's consortia, open.
    pub commitments_open: u64,
    /// Of them, completed (dropped ones are not counted).
    pub commitments_done: u64,
}

/// Whether `target` (an action's target territory) overlaps `communes`.
fn overlaps(target: &pb::TerritoryRef, communes: &BTreeSet<String>) -> bool {
    !communes_of(target).is_disjoint(communes)
}

/// The communes of a territory reference (none if it is not in the COG).
pub fn communes_of(target: &pb::TerritoryRef) -> BTreeSet<String> {
    let level = match pb::TerritoryLevel::try_from(target.level) {
        Ok(pb::TerritoryLevel::Commune) => TerritoryLevel::Commune,
        Ok(pb::TerritoryLevel::Epci) => TerritoryLevel::Epci,
        Ok(pb::TerritoryLevel::Departement) => TerritoryLevel::Departement,
        Ok(pb::TerritoryLevel::Region) => TerritoryLevel::Region,
        _ => return BTreeSet::new(),
    };
    TerritoryRef::new(level, target.code.clone())
        .ok()
        .and_then(|target| Territory::shared().communes_in(&target).ok())
        .map(|members| members.into_iter().map(|c| c.code.clone()).collect())
        .unwrap_or_default()
}

/// Whether an action was planned in the territory of `communes`, or for it.
pub fn action_in(action: &ActionFact, communes: &BTreeSet<String>) -> bool {
    action
        .commune
        .as_ref()
        .is_some_and(|c| communes.contains(c))
        || action
            .target
            .as_ref()
            .is_some_and(|target| overlaps(target, communes))
}

/// Whether an interview was with a person of the territory of `communes`.
pub fn interview_in(
    facts: &LogFacts,
    interview: &InterviewFact,
    communes: &BTreeSet<String>,
) -> bool {
    interview
        .commune
        .as_ref()
        .or_else(|| {
            interview
                .stakeholder_id
                .as_ref()
                .and_then(|id| facts.communes.get(id))
        })
        .is_some_and(|c| communes.contains(c))
}

/// The progress of every axis of the programme in the territory of
/// `communes`, whose report shows the surveys `surveys` and whose
/// projections counted `by_axis`.
pub fn compute(
    facts: &LogFacts,
    communes: &BTreeSet<String>,
    surveys: &[pb::SurveyResults],
    by_axis: &[pb::AxisActivity],
) -> Vec<AxisProgress> {
    let shown: BTreeSet<&str> = surveys.iter().map(|s| s.survey_id.as_str()).collect();
    facts
        .axes
        .iter()
        .map(|axis| {
            let tagged = |ids: &[String]| ids.contains(&axis.id);
            let actions: Vec<_> = facts
                .actions
                .values()
                .filter(|action| tagged(&action.axis_ids) && action_in(action, communes))
                .collect();
            let counted = by_axis
                .iter()
                .find(|counted| counted.axis_id == axis.id)
                .cloned()
                .unwrap_or_default();
            AxisProgress {
                contacts: counted.contacts,
                commitments_open: counted.commitments - counted.commitments_done,
                commitments_done: counted.commitments_done,
                name: axis.name.clone(),
                retired: axis.retired,
                actions_planned: actions.len() as u64,
                actions_held: actions.iter().filter(|action| action.held).count() as u64,
                surveys: facts
                    .survey_axes
                    .iter()
                    .filter(|(id, axes)| shown.contains(id.as_str()) && tagged(axes))
                    .count() as u64,
                interviews: facts
                    .interviews
                    .iter()
                    .filter(|interview| {
                        tagged(&interview.axis_ids) && interview_in(facts, interview, communes)
                    })
                    .count() as u64,
            }
        })
        .collect()
}

/// The section (`templates/report/axes.html`).
#[derive(Template)]
#[template(path = "report/axes.html")]
pub struct AxesSection<'a> {
    axes: &'a [AxisProgress],
}

/// The section.
pub fn section(data: &ReportData) -> AxesSection<'_> {
    AxesSection { axes: &data.axes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::scan::{ActionFact, AxisFact, InterviewFact};

    #[test]
    fn counts_what_is_tagged_in_the_territory_and_shows_the_retired_last() {
        let axis = |id: &str, name: &str, retired| AxisFact {
            id: id.into(),
            name: name.into(),
            retired,
        };
        let action = |commune: &str, held, axes: &[&str]| ActionFact {
            commune: Some(commune.into()),
            held,
            axis_ids: axes.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        };
        let mut facts = LogFacts {
            axes: vec![
                axis("a", "Sensibiliser", false),
                axis("z", "<Ancien>", true),
            ],
            ..Default::default()
        };
        facts
            .actions
            .insert("1".into(), action("37063", true, &["a"]));
        facts
            .actions
            .insert("2".into(), action("37063", false, &["a", "z"]));
        // Elsewhere: not counted.
        facts
            .actions
            .insert("3".into(), action("15014", true, &["a"]));
        facts.survey_axes.insert("s".into(), vec!["a".into()]);
        facts.survey_axes.insert("t".into(), vec!["a".into()]);
        facts.communes.insert("p".into(), "37063".into());
        facts.interviews.push(InterviewFact {
            stakeholder_id: Some("p".into()),
            axis_ids: vec!["a".into()],
            ..Default::default()
        });
        facts.interviews.push(InterviewFact {
            commune: Some("15014".into()),
            axis_ids: vec!["a".into()],
            ..Default::default()
        });
        let communes: BTreeSet<String> = ["37063".to_owned()].into();
        let shown = [pb::SurveyResults {
            survey_id: "s".into(),
            ..Default::default()
        }];
        let counted = [pb::AxisActivity {
            axis_id: "a".into(),
            contacts: 4,
            commitments: 3,
            commitments_done: 1,
        }];
        let progress = compute(&facts, &communes, &shown, &counted);
        assert_eq!(
            progress[0],
            AxisProgress {
                name: "Sensibiliser".into(),
                retired: false,
                actions_planned: 2,
                actions_held: 1,
                surveys: 1,
                interviews: 1,
                contacts: 4,
                commitments_open: 2,
                commitments_done: 1,
            }
        );
        assert_eq!(
            (progress[1].contacts, progress[1].commitments_open),
            (0, 0),
            "nothing counted for it"
        );
        assert_eq!(
            (progress[1].actions_planned, progress[1].retired),
            (1, true)
        );
        let data = ReportData {
            axes: progress,
            ..Default::default()
        };
        let html = section(&data).render().unwrap();
        assert!(html.contains("Avancement par axe"));
        assert!(html.contains("&#60;Ancien&#62; (retiré)"), "{html}");
        assert!(html.find("Sensibiliser") < html.find("Ancien"));
    }
}
