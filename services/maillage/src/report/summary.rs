//! The report's key figures: coverage, white zones, élus and businesses engaged,
//! contacts, actions, people reached, survey responses, consortium members
//! (`templates/report/summary.html`).

use askama::Template;

use super::data::ReportData;
use super::labels::{percent, thousands};

/// One key figure: its value, what it counts, and its element id.
pub struct Card {
    value: String,
    label: String,
    id: &'static str,
}

fn card(value: String, label: impl Into<String>, id: &'static str) -> Card {
    Card {
        value,
        label: label.into(),
        id,
    }
}

/// The key figures section.
#[derive(Template)]
#[template(path = "report/summary.html")]
pub struct Summary {
    cards: Vec<Card>,
}

/// The key figures of the report.
pub fn section(data: &ReportData) -> Summary {
    let t = &data.territory;
    let cards = vec![
        card(
            percent(t.coverage),
            format!(
                "Couverture : {} communes sur {} avec un élu contacté",
                t.communes_with_elu_contacted, t.communes_total
            ),
            "couverture",
        ),
        card(
            t.white_zone_communes.len().to_string(),
            "Communes en zone blanche",
            "zones-blanches",
        ),
        card(
            format!("{} / {}", t.elus_engaged, t.elus),
            "Élus contactés / connus",
            "elus",
        ),
        card(
            format!("{} / {}", t.businesses_engaged, t.businesses),
            "Entreprises contactées / connues",
            "entreprises",
        ),
        card(thousands(t.contacts), "Contacts enregistrés", "contacts"),
        card(
            thousands(t.follow_ups_open),
            format!("Relances à faire, dont {} en retard", t.follow_ups_overdue),
            "relances",
        ),
        card(
            thousands(t.actions_held),
            "Actions tenues sur le territoire",
            "actions",
        ),
        card(
            thousands(t.people_reached),
            format!(
                "Personnes touchées ({} nommées, {} anonymes)",
                t.named_people_reached, t.anonymous_people_reached
            ),
            "personnes",
        ),
        card(
            thousands(t.survey_responses),
            "Réponses à l'enquête",
            "reponses",
        ),
        card(
            thousands(t.consortium_members),
            "Membres du consortium sur le territoire",
            "membres",
        ),
        card(
            thousands(t.stakeholders_total),
            "Acteurs recensés",
            "acteurs",
        ),
    ];
    Summary { cards }
}
