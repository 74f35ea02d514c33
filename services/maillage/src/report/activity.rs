//! The activity sections: contacts and actions by month, actions held by theme and by
//! audience (with the people they reached), what was done on each theme across
//! contacts, actions, surveys, interviews and commitments, and the actors
//! recensed by kind — each rendered by its template under `templates/report/`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::charts::{self, Bar, HBars};
use super::data::ReportData;
use super::labels::{fr, percent};

/// Contacts and actions by month (`templates/report/months.html`).
#[derive(Template)]
#[template(path = "report/months.html")]
pub struct MonthsSection {
    chart: charts::Months,
}

/// Contacts and actions by month.
pub fn months(data: &ReportData) -> MonthsSection {
    MonthsSection {
        chart: charts::months(&data.months),
    }
}

/// "s" when `count` is more than one.
fn plural(count: u64) -> &'static str {
    if count > 1 {
        "s"
    } else {
        ""
    }
}

fn group_bars(groups: &[pb::ActionGroupStatistics]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = groups
        .iter()
        .filter(|g| g.held > 0)
        .map(|g| {
            let participants = g.attended + g.anonymous_attendees;
            Bar {
                label: fr(&g.group),
                value: g.held as f64,
                text: format!(
                    "{} tenue{} · {participants} participant{}",
                    g.held,
                    plural(g.held),
                    plural(participants)
                ),
            }
        })
        .collect();
    bars.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.label.cmp(&b.label))
    });
    bars
}

/// Actions by theme and by audience (`templates/report/actions.html`).
#[derive(Template)]
#[template(path = "report/actions.html")]
pub struct ActionsSection {
    overall: pb::ActionGroupStatistics,
    /// The attendance rate of the invited who accepted, when someone accepted.
    attendance_rate: Option<String>,
    by_theme: HBars,
    by_audience: HBars,
}

/// Actions by theme and by audience.
pub fn actions(data: &ReportData) -> ActionsSection {
    let overall = data.actions.overall.clone().unwrap_or_default();
    ActionsSection {
        attendance_rate: (overall.accepted > 0).then(|| percent(overall.attendance_rate)),
        overall,
        by_theme: charts::hbars(
            group_bars(&data.actions.by_theme),
            None,
            charts::BAR,
            "Actions tenues par thème",
        ),
        by_audience: charts::hbars(
            group_bars(&data.actions.by_audience),
            None,
            charts::BAR2,
            "Actions tenues par public",
        ),
    }
}

/// What was done on each theme (`templates/report/themes.html`).
#[derive(Template)]
#[template(path = "report/themes.html")]
pub struct ThemesSection<'a> {
    themes: &'a [pb::ThemeActivity],
}

impl ThemesSection<'_> {
    fn label(theme: &pb::ThemeActivity) -> String {
        fr(&theme.theme)
    }

    fn plural(count: &u64) -> &'static str {
        plural(*count)
    }
}

/// What was done on each theme, across contacts, actions, surveys, interviews
/// and the consortium's commitments.
pub fn themes(data: &ReportData) -> ThemesSection<'_> {
    ThemesSection {
        themes: &data.territory.by_theme,
    }
}

/// The stakeholder map (`templates/report/stakeholder_map.html`).
#[derive(Template)]
#[template(path = "report/stakeholder_map.html")]
pub struct StakeholderMapSection<'a> {
    map: &'a pb::StakeholderMap,
    /// "label : count" for each position on the project.
    positions: String,
}

impl StakeholderMapSection<'_> {
    fn plural(count: usize) -> &'static str {
        plural(count as u64)
    }
}

/// The stakeholder map: the assessed actors by influence × interest quadrant
/// and by position, and how many to manage closely were not contacted lately.
pub fn stakeholder_map(data: &ReportData) -> StakeholderMapSection<'_> {
    let map = &data.stakeholder_map;
    let positions: Vec<String> = map
        .by_position
        .iter()
        .map(|count| format!("{} : {}", fr(&count.label), count.count))
        .collect();
    StakeholderMapSection {
        map,
        positions: positions.join(", "),
    }
}

/// Actors recensed by kind (`templates/report/stakeholders.html`).
#[derive(Template)]
#[template(path = "report/stakeholders.html")]
pub struct StakeholdersSection {
    chart: HBars,
}

/// Actors recensed by kind.
pub fn stakeholders(data: &ReportData) -> StakeholdersSection {
    let mut bars: Vec<Bar> = data
        .territory
        .stakeholders_by_kind
        .iter()
        .map(|count| Bar {
            label: fr(&count.label),
            value: count.count as f64,
            text: count.count.to_string(),
        })
        .collect();
    bars.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.label.cmp(&b.label))
    });
    StakeholdersSection {
        chart: charts::hbars(bars, None, charts::BAR, "Acteurs par catégorie"),
    }
}
