//! What changed on a territory between two dates (`maillage report --diff --from D1
//! --to D2`), as `Projections.CompareTerritory` finds it by two replays, named for
//! a reader: communes that left (or entered) the white zone, the key figures before
//! and after, the commitments of the action plan that moved, and the resolutions
//! voted in between — counts and organisation names only, like the rest of the
//! report. Rendered as a section of the HTML report (`templates/report/diff.html`)
//! or as lines of text.

use std::fmt::Write;

use askama::Template;
use maillage_proto::v1 as pb;

use super::data::ReportData;
use super::labels::{commitment_status, resolution_status, thousands};

/// A key figure at both dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureChange {
    /// What it counts, in French.
    pub label: &'static str,
    /// At the first date.
    pub before: u64,
    /// At the second date.
    pub after: u64,
}

impl FigureChange {
    /// The change, signed, with thousands separated ("+12", "−3", "0").
    pub fn delta(&self) -> String {
        match self.after.cmp(&self.before) {
            std::cmp::Ordering::Greater => format!("+{}", thousands(self.after - self.before)),
            std::cmp::Ordering::Less => format!("−{}", thousands(self.before - self.after)),
            std::cmp::Ordering::Equal => "0".to_owned(),
        }
    }

    fn before_text(&self) -> String {
        thousands(self.before)
    }

    fn after_text(&self) -> String {
        thousands(self.after)
    }
}

/// A commune: its name and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommuneName {
    /// Its name.
    pub name: String,
    /// Its INSEE code.
    pub code: String,
}

/// A commitment whose status or progress moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentMove {
    /// Its title.
    pub title: String,
    /// The member who carries it.
    pub owner: String,
    /// Status and percent at the first date; None when it did not exist yet.
    pub before: Option<(String, u32)>,
    /// Status and percent at the second date.
    pub after: (String, u32),
}

/// A resolution whose outcome changed (voted) between the two dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionOutcome {
    /// Its title.
    pub title: String,
    /// Its status at the second date.
    pub status: String,
}

/// What changed between two reports.
#[derive(Debug, Clone, PartialEq, Eq, Template)]
#[template(path = "report/diff.html")]
pub struct ReportDiff {
    /// The first instant (RFC 3339).
    pub from: String,
    /// The second instant (RFC 3339), or "maintenant" for the live state.
    pub to: String,
    /// Communes in the white zone at the first date and no longer at the second.
    pub left_white_zone: Vec<CommuneName>,
    /// Communes in the white zone at the second date only (an erasure can do it).
    pub entered_white_zone: Vec<CommuneName>,
    /// The key figures at both dates.
    pub figures: Vec<FigureChange>,
    /// Commitments that moved.
    pub commitments: Vec<CommitmentMove>,
    /// Resolutions voted in between.
    pub resolutions: Vec<ResolutionOutcome>,
}

fn communes(data: &ReportData, codes: impl Iterator<Item = String>) -> Vec<CommuneName> {
    codes
        .map(|code| CommuneName {
            name: data
                .territory
                .communes
                .iter()
                .find(|c| c.code == code)
                .map_or_else(|| code.clone(), |c| c.name.clone()),
            code,
        })
        .collect()
}

fn figures(
    before: &pb::TerritoryEngagementReport,
    after: &pb::TerritoryEngagementReport,
) -> Vec<FigureChange> {
    let figure = |label, pick: fn(&pb::TerritoryEngagementReport) -> u64| FigureChange {
        label,
        before: pick(before),
        after: pick(after),
    };
    vec![
        figure("Communes avec un élu contacté", |t| {
            t.communes_with_elu_contacted
        }),
        figure("Communes en zone blanche", |t| {
            t.white_zone_communes.len() as u64
        }),
        figure("Élus contactés", |t| t.elus_engaged),
        figure("Entreprises contactées", |t| t.businesses_engaged),
        figure("Contacts enregistrés", |t| t.contacts),
        figure("Actions tenues sur le territoire", |t| t.actions_held),
        figure("Personnes touchées", |t| t.people_reached),
        figure("Réponses à l'enquête", |t| t.survey_responses),
        figure("Membres du consortium sur le territoire", |t| {
            t.consortium_members
        }),
        figure("Acteurs recensés", |t| t.stakeholders_total),
    ]
}

/// The changes `CompareTerritory` found, named for a reader with the report's
/// data at the later instant (commune and organisation names).
pub fn named(comparison: &pb::TerritoryComparison, after: &ReportData) -> ReportDiff {
    let instant = |at: Option<&prost_types::Timestamp>| {
        at.map_or_else(|| "maintenant".to_owned(), super::dates::rfc3339)
    };
    let empty = pb::TerritoryEngagementReport::default();
    ReportDiff {
        from: instant(comparison.from.as_ref()),
        to: instant(comparison.to.as_ref()),
        left_white_zone: communes(after, comparison.left_white_zone.iter().cloned()),
        entered_white_zone: communes(after, comparison.entered_white_zone.iter().cloned()),
        figures: figures(
            comparison.before.as_ref().unwrap_or(&empty),
            comparison.after.as_ref().unwrap_or(&empty),
        ),
        commitments: comparison
            .commitments
            .iter()
            .map(|moved| CommitmentMove {
                title: moved.title.clone(),
                owner: after.organisation(&moved.owner_member_id),
                before: moved
                    .existed_before
                    .then(|| (commitment_status(moved.status_before), moved.percent_before)),
                after: (commitment_status(moved.status_after), moved.percent_after),
            })
            .collect(),
        resolutions: comparison
            .resolutions
            .iter()
            .map(|decided| ResolutionOutcome {
                title: decided.title.clone(),
                status: resolution_status(decided.status),
            })
            .collect(),
    }
}

fn names(communes: &[CommuneName]) -> String {
    if communes.is_empty() {
        return "aucune".to_owned();
    }
    let names: Vec<String> = communes
        .iter()
        .map(|c| format!("{} ({})", c.name, c.code))
        .collect();
    names.join(", ")
}

/// The changes as lines of French text, for a terminal.
pub fn text(diff: &ReportDiff) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(out, "Évolution du {} au {}", diff.from, diff.to);
    let _ = writeln!(
        out,
        "Sorties de la zone blanche ({}) : {}",
        diff.left_white_zone.len(),
        names(&diff.left_white_zone)
    );
    if !diff.entered_white_zone.is_empty() {
        let _ = writeln!(
            out,
            "Entrées en zone blanche ({}) : {}",
            diff.entered_white_zone.len(),
            names(&diff.entered_white_zone)
        );
    }
    for figure in &diff.figures {
        let _ = writeln!(
            out,
            "  {} : {} → {} ({})",
            figure.label,
            figure.before_text(),
            figure.after_text(),
            figure.delta()
        );
    }
    for commitment in &diff.commitments {
        let before = commitment
            .before
            .as_ref()
            .map_or_else(|| "nouveau".to_owned(), |(s, p)| format!("{s} {p} %"));
        let _ = writeln!(
            out,
            "  Engagement « {} » ({}) : {before} → {} {} %",
            commitment.title, commitment.owner, commitment.after.0, commitment.after.1
        );
    }
    for resolution in &diff.resolutions {
        let _ = writeln!(
            out,
            "  Résolution « {} » : {}",
            resolution.title, resolution.status
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commune(code: &str, name: &str) -> pb::CommuneEngagement {
        pb::CommuneEngagement {
            code: code.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn after() -> ReportData {
        ReportData {
            territory: pb::TerritoryEngagementReport {
                communes: vec![
                    commune("37009", "Autrèche"),
                    commune("37063", "Château-Renault"),
                ],
                ..Default::default()
            },
            organisation_names: [("m1".to_owned(), "Mairie".to_owned())].into(),
            ..Default::default()
        }
    }

    fn figures_with(white: &[&str], contacts: u64) -> pb::TerritoryEngagementReport {
        pb::TerritoryEngagementReport {
            white_zone_communes: white.iter().map(|c| (*c).to_owned()).collect(),
            contacts,
            ..Default::default()
        }
    }

    #[test]
    fn the_changes_are_named_for_a_reader() {
        let comparison = pb::TerritoryComparison {
            from: Some(prost_types::Timestamp {
                seconds: 1_772_323_200,
                nanos: 0,
            }),
            to: None,
            before: Some(figures_with(&["37009", "37063"], 3)),
            after: Some(figures_with(&["37063"], 10)),
            left_white_zone: vec!["37009".into()],
            commitments: vec![
                pb::CommitmentChange {
                    title: "Ouvrir un <atelier>".into(),
                    owner_member_id: "m1".into(),
                    existed_before: true,
                    percent_before: 10,
                    percent_after: 40,
                    ..Default::default()
                },
                pb::CommitmentChange {
                    title: "Recenser les besoins".into(),
                    owner_member_id: "m2".into(),
                    percent_after: 5,
                    ..Default::default()
                },
            ],
            resolutions: vec![pb::ResolutionDecided {
                title: "Adopter la charte".into(),
                status: pb::ResolutionStatus::Adopted as i32,
                ..Default::default()
            }],
            ..Default::default()
        };
        let diff = named(&comparison, &after());
        assert_eq!(diff.from, "2026-03-01T00:00:00Z");
        assert_eq!(diff.to, "maintenant");
        assert_eq!(
            diff.left_white_zone,
            vec![CommuneName {
                name: "Autrèche".into(),
                code: "37009".into()
            }]
        );
        let contacts = diff
            .figures
            .iter()
            .find(|f| f.label == "Contacts enregistrés")
            .unwrap();
        assert_eq!(
            (contacts.before, contacts.after, contacts.delta().as_str()),
            (3, 10, "+7")
        );
        let white = diff
            .figures
            .iter()
            .find(|f| f.label == "Communes en zone blanche")
            .unwrap();
        assert_eq!(white.delta(), "−1");
        assert_eq!(diff.commitments[0].owner, "Mairie");
        assert_eq!(diff.commitments[0].before.as_ref().map(|b| b.1), Some(10));
        assert_eq!(diff.commitments[1].before, None);
        assert_eq!(diff.resolutions[0].status, "adoptée");

        let text = text(&diff);
        assert!(
            text.starts_with("Évolution du 2026-03-01T00:00:00Z au maintenant"),
            "{text}"
        );
        assert!(
            text.contains("Sorties de la zone blanche (1) : Autrèche (37009)"),
            "{text}"
        );
        assert!(
            text.contains("Contacts enregistrés : 3 → 10 (+7)"),
            "{text}"
        );
        assert!(text.contains("« Recenser les besoins »"), "{text}");
        assert!(text.contains(": nouveau →"), "{text}");
        let html = diff.render().unwrap();
        assert!(html.contains("Ouvrir un &#60;atelier&#62;"), "{html}");
        assert!(html.contains("id=\"evolution\""), "{html}");
    }

    #[test]
    fn nothing_moved_gives_zero_deltas() {
        let same = figures_with(&["37009"], 3);
        let comparison = pb::TerritoryComparison {
            before: Some(same.clone()),
            after: Some(same),
            ..Default::default()
        };
        let diff = named(&comparison, &after());
        assert!(diff.left_white_zone.is_empty());
        assert!(diff.commitments.is_empty());
        assert!(diff.resolutions.is_empty());
        assert!(diff.figures.iter().all(|f| f.delta() == "0"));
    }
}
