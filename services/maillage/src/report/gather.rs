//! Gathers a report's data from a running platform: the projections' answers (live,
//! or replayed as of an instant) and the facts only the event logs hold.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_territory::{Territory, TerritoryLevel, TerritoryRef};

use super::data::{MonthFigures, ReportData};
use super::dates::month_of;
use super::scan::{scan, LogFacts};
use crate::cli::client::{explain, Authed};
use crate::cli::territory::to_proto;

/// Communes asked per page of the territory report.
const PAGE_SIZE: u32 = 1_000;

fn level_of(level: i32) -> Option<TerritoryLevel> {
    match pb::TerritoryLevel::try_from(level).ok()? {
        pb::TerritoryLevel::Commune => Some(TerritoryLevel::Commune),
        pb::TerritoryLevel::Epci => Some(TerritoryLevel::Epci),
        pb::TerritoryLevel::Departement => Some(TerritoryLevel::Departement),
        pb::TerritoryLevel::Region => Some(TerritoryLevel::Region),
        pb::TerritoryLevel::Unspecified => None,
    }
}

fn communes_of(territory: &TerritoryRef) -> BTreeSet<String> {
    Territory::shared()
        .communes_in(territory)
        .unwrap_or_default()
        .into_iter()
        .map(|commune| commune.code.clone())
        .collect()
}

/// Contacts and held actions of the territory, by month.
fn months(facts: &LogFacts, communes: &BTreeSet<String>) -> Vec<MonthFigures> {
    let mut by_month: BTreeMap<String, MonthFigures> = BTreeMap::new();
    let in_territory = |id: &String| facts.communes.get(id).is_some_and(|c| communes.contains(c));
    for contact in facts.contacts.values() {
        if contact.participants.iter().any(in_territory) {
            let month = month_of(contact.occurred_at);
            by_month
                .entry(month.clone())
                .or_insert_with(|| MonthFigures {
                    month,
                    ..Default::default()
                })
                .contacts += 1;
        }
    }
    for action in facts.actions.values() {
        let here = action
            .commune
            .as_ref()
            .is_some_and(|c| communes.contains(c));
        if let (true, true, Some(start)) = (here, action.held, action.starts_at) {
            let month = month_of(start);
            by_month
                .entry(month.clone())
                .or_insert_with(|| MonthFigures {
                    month,
                    ..Default::default()
                })
                .actions += 1;
        }
    }
    by_month.into_values().collect()
}

/// Gathers the report of `territory`, live or as of `as_of`.
pub async fn gather(
    channel: Authed,
    territory: &TerritoryRef,
    as_of: Option<prost_types::Timestamp>,
) -> anyhow::Result<ReportData> {
    let mut projections = ProjectionsClient::new(channel.clone());
    let wire = to_proto(territory);

    let mut report: Option<pb::TerritoryEngagementReport> = None;
    let mut page_token = String::new();
    loop {
        let page = projections
            .get_territory_engagement(pb::TerritoryEngagementRequest {
                territory: Some(wire.clone()),
                as_of,
                page: Some(pb::PageRequest {
                    page_size: PAGE_SIZE,
                    page_token: page_token.clone(),
                }),
            })
            .await
            .map_err(explain)?
            .into_inner();
        page_token = page
            .page
            .as_ref()
            .map(|p| p.next_page_token.clone())
            .unwrap_or_default();
        match report.as_mut() {
            None => report = Some(page),
            Some(first) => first.communes.extend(page.communes),
        }
        if page_token.is_empty() {
            break;
        }
    }
    let mut territory_report = report.unwrap_or_default();
    territory_report.page = None;

    let actions = projections
        .get_action_statistics(pb::ActionStatisticsRequest {
            territory: Some(wire.clone()),
            as_of,
        })
        .await
        .map_err(explain)?
        .into_inner();

    let stakeholder_map = projections
        .get_stakeholder_map(pb::StakeholderMapRequest {
            territory: Some(wire.clone()),
            quiet_days: 0,
            as_of,
        })
        .await
        .map_err(explain)?
        .into_inner();

    let diagnostics = projections
        .get_diagnostic_synthesis(pb::DiagnosticSynthesisRequest {
            territory: Some(wire.clone()),
            as_of,
        })
        .await
        .map_err(explain)?
        .into_inner();

    let mut lessons = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = projections
            .list_lessons(pb::LessonListRequest {
                as_of,
                page: Some(pb::PageRequest {
                    page_size: PAGE_SIZE,
                    page_token: page_token.clone(),
                }),
                ..Default::default()
            })
            .await
            .map_err(explain)?
            .into_inner();
        lessons.extend(page.lessons);
        page_token = page.page.map(|p| p.next_page_token).unwrap_or_default();
        if page_token.is_empty() {
            break;
        }
    }

    let facts = scan(channel, as_of.as_ref()).await?;
    let communes = communes_of(territory);

    let mut surveys = Vec::new();
    for survey_id in &facts.surveys {
        let results = projections
            .get_survey_results(pb::SurveyResultsRequest {
                survey_id: survey_id.clone(),
                as_of,
            })
            .await
            .map_err(explain)?
            .into_inner();
        if results
            .responses_by_commune
            .iter()
            .any(|c| communes.contains(&c.label))
        {
            surveys.push(results);
        }
    }

    let mut consortium = None;
    for (id, refs) in &facts.consortia {
        let overlaps = refs.iter().any(|r| {
            level_of(r.level)
                .and_then(|level| TerritoryRef::new(level, r.code.clone()).ok())
                .is_some_and(|r| communes_of(&r).iter().any(|c| communes.contains(c)))
        });
        if overlaps {
            let state = projections
                .get_consortium_state(pb::ConsortiumStateRequest {
                    consortium_id: id.clone(),
                    as_of,
                })
                .await
                .map_err(explain)?
                .into_inner();
            consortium = Some(state);
            break;
        }
    }

    let at = match as_of {
        Some(at) => at.seconds,
        None => prost_types::Timestamp::from(std::time::SystemTime::now()).seconds,
    };
    let reengagement = super::reengagement::compute(&facts, &communes, at);
    let axes = super::axes::compute(&facts, &communes, &surveys, &territory_report.by_axis);
    let objectives = super::objectives::objectives(&facts, &communes, at);
    let deliverables = super::objectives::deliverables(&facts, at);
    let campaign_reach = super::campaign::compute(&facts, &communes, &surveys);
    Ok(ReportData {
        axes,
        objectives,
        deliverables,
        campaign_reach,
        diagnostics,
        lessons,
        foresight: super::foresight::workshops(&facts),
        concertations: super::concertations::concertations(&facts),
        axis_names: facts
            .axes
            .iter()
            .map(|axis| (axis.id.clone(), axis.name.clone()))
            .collect(),
        reengagement,
        as_of: as_of.map(|t| super::dates::rfc3339(&t)),
        months: months(&facts, &communes),
        territory: territory_report,
        actions,
        surveys,
        consortium,
        stakeholder_map,
        organisation_names: facts.organisation_names,
        sources: facts.sources,
        scope: territory.to_string(),
    })
}
