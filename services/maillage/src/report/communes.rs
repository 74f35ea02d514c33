//! The communes of the territory: a sortable table coloured by level of engagement,
//! and the list of white-zone communes (no engagement at all), each from its template.

use maillage_proto::v1 as pb;

use askama::Template;

use super::data::ReportData;
use super::labels::thousands;

/// 0: white zone; 1 to 3: low, medium, strong engagement.
pub fn level(commune: &pb::CommuneEngagement) -> u8 {
    if commune.white_zone {
        return 0;
    }
    let score = commune.stakeholders_contacted * 5
        + commune.elus_contacted * 5
        + commune.actions_held * 20
        + commune.people_reached
        + commune.survey_responses;
    match score {
        0..=30 => 1,
        31..=120 => 2,
        _ => 3,
    }
}

const LEVELS: [&str; 4] = ["zone blanche", "faible", "moyen", "fort"];

/// One commune's row: its figures and its level of engagement.
pub struct CommuneRow<'a> {
    commune: &'a pb::CommuneEngagement,
    /// The figures of the numeric columns, in order.
    figures: [u64; 8],
    level: u8,
}

impl CommuneRow<'_> {
    fn level_label(&self) -> &'static str {
        LEVELS[usize::from(self.level)]
    }

    /// A figure with its thousands separated.
    fn figure(value: &u64) -> String {
        thousands(*value)
    }
}

/// The communes table (`templates/report/communes.html`).
#[derive(Template)]
#[template(path = "report/communes.html")]
pub struct CommunesTable<'a> {
    headers: &'static [(&'static str, bool)],
    rows: Vec<CommuneRow<'a>>,
}

/// The column headers: label, and whether the column is numeric.
const HEADERS: [(&str, bool); 11] = [
    ("Commune", false),
    ("Code", false),
    ("Population", true),
    ("Acteurs", true),
    ("Acteurs contactés", true),
    ("Élus contactés", true),
    ("Entreprises contactées", true),
    ("Actions tenues", true),
    ("Personnes touchées", true),
    ("Réponses à l'enquête", true),
    ("Engagement", true),
];

/// The communes table.
pub fn table(data: &ReportData) -> CommunesTable<'_> {
    let rows = data
        .territory
        .communes
        .iter()
        .map(|commune| CommuneRow {
            commune,
            figures: [
                commune.population,
                commune.stakeholders,
                commune.stakeholders_contacted,
                commune.elus_contacted,
                commune.businesses_contacted,
                commune.actions_held,
                commune.people_reached,
                commune.survey_responses,
            ],
            level: level(commune),
        })
        .collect();
    CommunesTable {
        headers: &HEADERS,
        rows,
    }
}

/// A white-zone commune: its name and code.
pub struct WhiteZone<'a> {
    name: &'a str,
    code: &'a str,
}

/// The white-zone communes (`templates/report/white_zones.html`).
#[derive(Template)]
#[template(path = "report/white_zones.html")]
pub struct WhiteZones<'a> {
    communes: Vec<WhiteZone<'a>>,
}

/// The white-zone communes.
pub fn white_zones(data: &ReportData) -> WhiteZones<'_> {
    let communes = data
        .territory
        .white_zone_communes
        .iter()
        .map(|code| WhiteZone {
            name: data
                .territory
                .communes
                .iter()
                .find(|c| &c.code == code)
                .map_or(code.as_str(), |c| c.name.as_str()),
            code,
        })
        .collect();
    WhiteZones { communes }
}
