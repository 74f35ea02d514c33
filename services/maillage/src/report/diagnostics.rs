//! The "Diagnostics des tiers-lieux" section: the coded findings of the
//! diagnostics of the territory's existing tiers-lieux, across them — what
//! they share (a code two or more carry), what they refuse (activities that
//! do not concern them), and everything per theme. Rendered by
//! `templates/report/diagnostics.html`.

use std::collections::BTreeMap;

use askama::Template;
use maillage_proto::v1::{self as pb, CodeKind};

use super::coded::label;
use super::data::ReportData;
use super::labels::{code_kind, topic};

/// A code and the tiers-lieux that carry it.
pub struct Found {
    /// The code's label (marked when retired).
    pub label: String,
    /// Its kind, in French.
    pub kind: String,
    /// How many tiers-lieux.
    pub count: u64,
    /// Their names, joined.
    pub names: String,
}

/// One theme's codes, each kind's as "label (n)" joined.
pub struct ThemeRow {
    /// The theme, in French.
    pub theme: String,
    /// Initial motivations.
    pub motivations: String,
    /// Development priorities.
    pub priorities: String,
    /// Needs.
    pub needs: String,
    /// Activities refused.
    pub refusals: String,
}

/// The section (`templates/report/diagnostics.html`).
#[derive(Template)]
#[template(path = "report/diagnostics.html")]
pub struct DiagnosticsSection<'a> {
    synthesis: &'a pb::DiagnosticSynthesis,
    shared: Vec<Found>,
    refused: Vec<Found>,
    themes: Vec<ThemeRow>,
}

/// The diagnostics' coded findings across the territory's tiers-lieux.
pub fn section(data: &ReportData) -> DiagnosticsSection<'_> {
    let synthesis = &data.diagnostics;
    let found = |code: &pb::DiagnosticCodeCount| Found {
        label: label(&code.label, code.retired),
        kind: code_kind(code.kind),
        count: code.tiers_lieux,
        names: code
            .tiers_lieu_ids
            .iter()
            .map(|id| data.organisation(id))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let refusal = CodeKind::Refusal as i32;
    let shared = synthesis
        .codes
        .iter()
        .filter(|code| code.kind != refusal && code.tiers_lieux >= 2)
        .map(found)
        .collect();
    let refused = synthesis
        .codes
        .iter()
        .filter(|code| code.kind == refusal)
        .map(found)
        .collect();
    // Themes in French order, codes without a theme last.
    let mut by_theme: BTreeMap<(bool, String), [Vec<String>; 4]> = BTreeMap::new();
    for code in &synthesis.codes {
        let column = match CodeKind::try_from(code.kind) {
            Ok(CodeKind::Motivation) => 0,
            Ok(CodeKind::Priority) => 1,
            Ok(CodeKind::Need) => 2,
            Ok(CodeKind::Refusal) => 3,
            _ => continue,
        };
        let key = (code.topic == 0, topic(code.topic));
        by_theme.entry(key).or_default()[column].push(format!(
            "{} ({})",
            label(&code.label, code.retired),
            code.tiers_lieux
        ));
    }
    let themes = by_theme
        .into_iter()
        .map(
            |((_, theme), [motivations, priorities, needs, refusals])| ThemeRow {
                theme,
                motivations: motivations.join(", "),
                priorities: priorities.join(", "),
                needs: needs.join(", "),
                refusals: refusals.join(", "),
            },
        )
        .collect();
    DiagnosticsSection {
        synthesis,
        shared,
        refused,
        themes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(label: &str, kind: CodeKind, ids: &[&str]) -> pb::DiagnosticCodeCount {
        pb::DiagnosticCodeCount {
            label: label.into(),
            kind: kind as i32,
            topic: pb::Theme::Telework as i32,
            tiers_lieux: ids.len() as u64,
            tiers_lieu_ids: ids.iter().map(|id| id.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn shared_codes_refusals_and_themes_are_shown_with_the_tiers_lieux_names() {
        let data = ReportData {
            organisation_names: [
                ("a".to_owned(), "La <Fabrique>".to_owned()),
                ("b".to_owned(), "Le Relais".to_owned()),
            ]
            .into(),
            diagnostics: pb::DiagnosticSynthesis {
                tiers_lieux: 2,
                diagnostics: 3,
                uncoded: 0,
                codes: vec![
                    code("Rompre l'isolement", CodeKind::Motivation, &["a", "b"]),
                    code("Un animateur", CodeKind::Need, &["a"]),
                    code("Restauration", CodeKind::Refusal, &["a", "b"]),
                ],
            },
            ..Default::default()
        };
        let html = section(&data).render().unwrap();
        assert!(html.contains("Diagnostics des tiers-lieux"), "{html}");
        assert!(html.contains("<strong>2</strong> tiers-lieux"), "{html}");
        let shared = html.find("Ce qu'ils partagent").unwrap();
        let refused = html.find("Ce qu'ils refusent").unwrap();
        assert!(
            html[shared..refused].contains("Rompre l&#39;isolement"),
            "{html}"
        );
        assert!(!html[shared..refused].contains("Un animateur"), "{html}");
        assert!(html[refused..].contains("Restauration"), "{html}");
        assert!(html.contains("La &#60;Fabrique&#62;, Le Relais"), "{html}");
        assert!(html.contains("<td>Télétravail</td>"), "{html}");
        assert!(html.contains("Un animateur (1)"), "{html}");
        let empty = section(&ReportData::default()).render().unwrap();
        assert!(empty.contains("Aucun diagnostic"), "{empty}");
    }
}
