//! The report's key figures: coverage, white zones, élus and businesses engaged,
//! contacts, actions, people reached, survey responses, consortium members.

use super::data::ReportData;
use super::html::escape;
use super::labels::{percent, thousands};

fn card(value: &str, label: &str, id: &str) -> String {
    format!(
        "<div class=\"card\" id=\"{}\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
        escape(id),
        escape(value),
        escape(label)
    )
}

/// The key figures section.
pub fn section(data: &ReportData) -> String {
    let t = &data.territory;
    let cards = [
        card(
            &percent(t.coverage),
            &format!(
                "Couverture : {} communes sur {} avec un élu contacté",
                t.communes_with_elu_contacted, t.communes_total
            ),
            "couverture",
        ),
        card(
            &t.white_zone_communes.len().to_string(),
            "Communes en zone blanche",
            "zones-blanches",
        ),
        card(
            &format!("{} / {}", t.elus_engaged, t.elus),
            "Élus contactés / connus",
            "elus",
        ),
        card(
            &format!("{} / {}", t.businesses_engaged, t.businesses),
            "Entreprises contactées / connues",
            "entreprises",
        ),
        card(&thousands(t.contacts), "Contacts enregistrés", "contacts"),
        card(
            &thousands(t.follow_ups_open),
            &format!("Relances à faire, dont {} en retard", t.follow_ups_overdue),
            "relances",
        ),
        card(
            &thousands(t.actions_held),
            "Actions tenues sur le territoire",
            "actions",
        ),
        card(
            &thousands(t.people_reached),
            &format!(
                "Personnes touchées ({} nommées, {} anonymes)",
                t.named_people_reached, t.anonymous_people_reached
            ),
            "personnes",
        ),
        card(
            &thousands(t.survey_responses),
            "Réponses à l'enquête",
            "reponses",
        ),
        card(
            &thousands(t.consortium_members),
            "Membres du consortium sur le territoire",
            "membres",
        ),
        card(
            &thousands(t.stakeholders_total),
            "Acteurs recensés",
            "acteurs",
        ),
    ];
    format!(
        "<section id=\"chiffres-cles\"><h2>Chiffres clés</h2><div class=\"cards\">{}</div></section>",
        cards.join("")
    )
}
