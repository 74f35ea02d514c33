//! The activity sections: contacts and actions by month, actions held by theme and by
//! audience (with the people they reached), what was done on each theme across
//! contacts, actions, surveys, interviews and commitments, and the actors
//! recensed by kind.

use maillage_proto::v1 as pb;

use super::charts::{self, Bar};
use super::data::ReportData;
use super::html::escape;
use super::labels::fr;

/// Contacts and actions by month.
pub fn months(data: &ReportData) -> String {
    format!(
        "<section id=\"series-mensuelles\"><h2>Contacts et actions par mois</h2>{}\
         <p class=\"muted\">Contacts avec les acteurs du territoire à leur date, actions tenues sur le territoire au mois de leur début.</p></section>",
        charts::months(&data.months)
    )
}

fn group_bars(groups: &[pb::ActionGroupStatistics]) -> Vec<Bar> {
    let mut bars: Vec<Bar> = groups
        .iter()
        .filter(|g| g.held > 0)
        .map(|g| Bar {
            label: fr(&g.group),
            value: g.held as f64,
            text: format!(
                "{} tenue{} · {} participant{}",
                g.held,
                if g.held > 1 { "s" } else { "" },
                g.attended + g.anonymous_attendees,
                if g.attended + g.anonymous_attendees > 1 {
                    "s"
                } else {
                    ""
                }
            ),
        })
        .collect();
    bars.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| a.label.cmp(&b.label))
    });
    bars
}

/// Actions by theme and by audience.
pub fn actions(data: &ReportData) -> String {
    let overall = data.actions.overall.clone().unwrap_or_default();
    let rate = if overall.accepted > 0 {
        format!(
            " Taux de présence des invités ayant accepté : {}.",
            super::labels::percent(overall.attendance_rate)
        )
    } else {
        String::new()
    };
    format!(
        "<section id=\"actions\"><h2>Actions par thème et par public</h2>\
         <p>{} actions ({} tenues, {} annulées), {} invitations, {} présents nommés et {} anonymes.{}</p>\
         <div class=\"cols\"><div><h3>Par thème</h3>{}</div><div><h3>Par public visé</h3>{}</div></div></section>",
        overall.actions,
        overall.held,
        overall.cancelled,
        overall.invited,
        overall.attended,
        overall.anonymous_attendees,
        rate,
        charts::hbars(&group_bars(&data.actions.by_theme), None, charts::BAR, "Actions tenues par thème"),
        charts::hbars(&group_bars(&data.actions.by_audience), None, charts::BAR2, "Actions tenues par public"),
    )
}

/// What was done on each theme, across contacts, actions, surveys, interviews
/// and the consortium's commitments.
pub fn themes(data: &ReportData) -> String {
    let rows: String = data
        .territory
        .by_theme
        .iter()
        .map(|t| {
            format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{} (dont {} tenu{})</td></tr>\n",
                escape(&fr(&t.theme)),
                t.contacts,
                t.actions_held,
                t.surveys,
                t.interviews,
                t.commitments,
                t.commitments_done,
                if t.commitments_done > 1 { "s" } else { "" },
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<p>Aucun contact, aucune action, enquête, entretien ni engagement rattaché à un thème.</p>"
            .to_owned()
    } else {
        format!(
            "<table id=\"themes\"><thead><tr><th>Thème</th><th class=\"n\">Contacts</th>\
             <th class=\"n\">Actions tenues</th><th class=\"n\">Enquêtes</th><th class=\"n\">Entretiens</th>\
             <th class=\"n\">Engagements</th></tr></thead><tbody>\n{rows}</tbody></table>"
        )
    };
    format!(
        "<section id=\"themes-transverses\"><h2>Ce qui a été fait sur chaque thème</h2>{body}\
         <p class=\"muted\">Contacts avec des acteurs du territoire, actions tenues sur le territoire ou pour lui, \
         enquêtes ayant des réponses du territoire, entretiens avec des personnes du territoire, \
         engagements (hors abandonnés) des consortiums qui couvrent une partie du territoire.</p></section>"
    )
}

/// The stakeholder map: the assessed actors by influence × interest quadrant
/// and by position, and how many to manage closely were not contacted lately.
pub fn stakeholder_map(data: &ReportData) -> String {
    let map = &data.stakeholder_map;
    if map.assessed == 0 {
        return "<section id=\"cartographie\"><h2>Cartographie des acteurs</h2>\
                <p>Aucun acteur du territoire n'a encore été évalué.</p></section>"
            .to_owned();
    }
    let positions: Vec<String> = map
        .by_position
        .iter()
        .map(|count| format!("{} : {}", fr(&count.label), count.count))
        .collect();
    format!(
        "<section id=\"cartographie\"><h2>Cartographie des acteurs</h2>\
         <table id=\"matrice\"><caption>{} acteurs évalués, {} pas encore</caption>\
         <thead><tr><th></th><th>Intérêt faible</th><th>Intérêt fort</th></tr></thead><tbody>\
         <tr><th>Influence forte</th><td>À satisfaire : {}</td><td>À suivre de près : {}</td></tr>\
         <tr><th>Influence faible</th><td>À surveiller : {}</td><td>À informer : {}</td></tr>\
         </tbody></table><p>Positions sur le projet : {}.</p>\
         <p><strong>{} acteur{} à suivre de près sans contact depuis {} jours.</strong></p>\
         <p class=\"muted\">Influence et intérêt notés de 1 à 5, forts à partir de 4. La position porte sur le projet de tiers-lieux, jamais sur une opinion politique.</p></section>",
        map.assessed,
        map.not_assessed,
        map.keep_satisfied,
        map.manage_closely,
        map.monitor,
        map.keep_informed,
        positions.join(", "),
        map.manage_closely_not_contacted.len(),
        if map.manage_closely_not_contacted.len() > 1 { "s" } else { "" },
        map.quiet_days,
    )
}

/// Actors recensed by kind.
pub fn stakeholders(data: &ReportData) -> String {
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
    format!(
        "<section id=\"acteurs\"><h2>Acteurs recensés par catégorie</h2>{}</section>",
        charts::hbars(&bars, None, charts::BAR, "Acteurs par catégorie")
    )
}
