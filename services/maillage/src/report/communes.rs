//! The communes of the territory: a sortable table coloured by level of engagement,
//! and the list of white-zone communes (no engagement at all).

use maillage_proto::v1 as pb;

use super::data::ReportData;
use super::html::escape;
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

fn number_cell(value: u64) -> String {
    format!(
        "<td class=\"n\" data-v=\"{value}\">{}</td>",
        thousands(value)
    )
}

/// The communes table.
pub fn table(data: &ReportData) -> String {
    let mut rows = String::new();
    for commune in &data.territory.communes {
        let level = level(commune);
        rows.push_str(&format!(
            "<tr class=\"niveau-{level}\" data-code=\"{code}\"><td data-v=\"{name}\">{name}</td><td data-v=\"{code}\">{code}</td>",
            code = escape(&commune.code),
            name = escape(&commune.name),
        ));
        for value in [
            commune.population,
            commune.stakeholders,
            commune.stakeholders_contacted,
            commune.elus_contacted,
            commune.businesses_contacted,
            commune.actions_held,
            commune.people_reached,
            commune.survey_responses,
        ] {
            rows.push_str(&number_cell(value));
        }
        rows.push_str(&format!(
            "<td data-v=\"{level}\">{}</td></tr>\n",
            LEVELS[usize::from(level)]
        ));
    }
    let headers = [
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
    let head: String = headers
        .iter()
        .map(|(label, numeric)| {
            format!(
                "<th{}>{}</th>",
                if *numeric { " class=\"n\"" } else { "" },
                escape(label)
            )
        })
        .collect();
    format!(
        "<section id=\"communes\"><h2>Communes du territoire</h2>\
         <p class=\"legend\">Engagement : <span style=\"border-left:4px solid #c0392b\">zone blanche</span>\
         <span style=\"background:#e8f3f7\">faible</span><span style=\"background:#c7e3ee\">moyen</span>\
         <span style=\"background:#9dcde0\">fort</span> — cliquez sur un en-tête pour trier.</p>\
         <table class=\"sortable\" id=\"table-communes\"><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table></section>"
    )
}

/// The white-zone communes.
pub fn white_zones(data: &ReportData) -> String {
    let names: Vec<String> = data
        .territory
        .white_zone_communes
        .iter()
        .map(|code| {
            let name = data
                .territory
                .communes
                .iter()
                .find(|c| &c.code == code)
                .map_or(code.as_str(), |c| c.name.as_str());
            format!(
                "<li>{} <span class=\"muted\">({})</span></li>",
                escape(name),
                escape(code)
            )
        })
        .collect();
    let body = if names.is_empty() {
        "<p>Aucune : chaque commune a connu au moins un contact, une action ou une réponse.</p>"
            .to_owned()
    } else {
        format!(
            "<p>{} communes sans aucun contact, action, présence, réponse ni entretien :</p><ul class=\"zones\" id=\"liste-zones-blanches\">{}</ul>",
            names.len(),
            names.join("")
        )
    };
    format!("<section id=\"zones-blanches-liste\"><h2>Zones blanches</h2>{body}</section>")
}
