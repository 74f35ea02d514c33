//! The territory report: its data gathered from a running platform ([`gather`]) and
//! rendered as one self-contained HTML file ([`render`]) by the askama templates under
//! `templates/report/`: no external CSS, script or font, every inserted text escaped
//! by the template engine, the same data always giving the same bytes.

pub mod activity;
pub mod axes;
pub mod campaign;
pub mod charts;
pub mod coded;
pub mod communes;
pub mod concertations;
pub mod consortium;
pub mod data;
pub mod dates;
pub mod diagnostics;
pub mod diff;
pub mod foresight;
pub mod gather;
pub mod html;
pub mod labels;
pub mod lessons;
pub mod objectives;
pub mod reengagement;
pub mod scan;
pub mod summary;
pub mod surveys;

pub use data::{LogSource, MonthFigures, ReportData};
pub use gather::gather;

use askama::Template;

use labels::thousands;

/// The report as an HTML page. Rendering fails only if a template's value cannot be
/// formatted, which none of the report's values can.
pub fn render(data: &ReportData) -> askama::Result<String> {
    render_with(data, None)
}

/// The report as an HTML page, with what changed since an earlier date (its
/// section right after the key figures) when `changes` is given.
pub fn render_with(
    data: &ReportData,
    changes: Option<&diff::ReportDiff>,
) -> askama::Result<String> {
    let t = &data.territory;
    let title = format!("Maillage — engagement du territoire : {}", t.name);
    let level = match maillage_proto::v1::TerritoryLevel::try_from(
        t.territory.as_ref().map_or(0, |r| r.level),
    ) {
        Ok(maillage_proto::v1::TerritoryLevel::Commune) => "Commune",
        Ok(maillage_proto::v1::TerritoryLevel::Epci) => "EPCI",
        Ok(maillage_proto::v1::TerritoryLevel::Departement) => "Département",
        Ok(maillage_proto::v1::TerritoryLevel::Region) => "Région",
        _ => "Territoire",
    };
    let code = t
        .territory
        .as_ref()
        .map(|r| r.code.clone())
        .unwrap_or_default();
    let subtitle = vec![
        format!(
            "{level} {code} · {} communes · {} habitants (COG 2026)",
            t.communes_total,
            thousands(t.population)
        ),
        match &data.as_of {
            Some(as_of) => format!("Situation reconstituée par rejeu des événements au {as_of}"),
            None => "Situation actuelle (modèles de lecture en direct)".to_owned(),
        },
    ];
    let mut sections = vec![summary::section(data).render()?];
    if let Some(changes) = changes {
        sections.push(changes.render()?);
    }
    sections.extend([
        communes::table(data).render()?,
        activity::months(data).render()?,
        activity::actions(data).render()?,
        activity::themes(data).render()?,
        axes::section(data).render()?,
        objectives::section(data).render()?,
        concertations::section(data).render()?,
        surveys::section(data).render()?,
        coded::section(data).render()?,
        diagnostics::section(data).render()?,
        foresight::section(data).render()?,
        lessons::section(data).render()?,
        consortium::section(data).render()?,
        activity::stakeholders(data).render()?,
        activity::stakeholder_map(data).render()?,
        reengagement::section(data).render()?,
        communes::white_zones(data).render()?,
    ]);
    html::Page {
        title: &title,
        subtitle: &subtitle,
        sections: &sections,
        provenance: html::Provenance {
            scope: &data.scope,
            as_of: data.as_of.as_deref(),
            diff_from: changes.map(|c| c.from.as_str()),
            sources: &data.sources,
        },
        footer: "Rapport produit par Maillage à partir de son journal d'événements. Géographie : Code officiel géographique 2026 (Insee, via @etalab/decoupage-administratif), Licence Ouverte. Les personnes n'apparaissent que par des décomptes.",
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_proto::v1 as pb;

    fn sample() -> ReportData {
        ReportData {
            territory: pb::TerritoryEngagementReport {
                territory: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Epci as i32,
                    code: "243700499".into(),
                }),
                name: "CC <du> Castelrenaudais".into(),
                communes_total: 2,
                population: 15_802,
                coverage: 0.5,
                communes_with_elu_contacted: 1,
                white_zone_communes: vec!["37009".into()],
                communes: vec![
                    pb::CommuneEngagement {
                        code: "37009".into(),
                        name: "Autrèche".into(),
                        population: 419,
                        white_zone: true,
                        ..Default::default()
                    },
                    pb::CommuneEngagement {
                        code: "37063".into(),
                        name: "Château-Renault".into(),
                        population: 4392,
                        elus_contacted: 2,
                        stakeholders_contacted: 9,
                        actions_held: 3,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            months: vec![MonthFigures {
                month: "2026-05".into(),
                contacts: 7,
                actions: 2,
            }],
            organisation_names: [("x".to_owned(), "<script>alert(1)</script>".to_owned())].into(),
            consortium: Some(pb::ConsortiumState {
                name: "Consortium".into(),
                founding_collectivite_id: "x".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn renders_escaped_self_contained_and_deterministic() {
        let data = sample();
        let page = render(&data).unwrap();
        assert_eq!(page, render(&data).unwrap());
        assert!(page.contains("CC &#60;du&#62; Castelrenaudais"));
        assert!(!page.contains("<script>alert(1)"));
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(page.contains("50,0 %"));
        assert!(page.contains("Autrèche"));
        assert!(page.contains("class=\"niveau-0\""));
        assert!(page.contains("mai 2026 : 7 contacts"));
        for external in ["http://", "https://", "<link", "src="] {
            let outside_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !outside_svg_namespace.contains(external),
                "{external} in the page"
            );
        }
    }
}
