//! What changed on a territory between two dates (`maillage report --diff --from D1
//! --to D2`): the report's data replayed at both instants, compared. Communes that
//! left (or entered) the white zone, the key figures before and after, the
//! commitments of the action plan that moved, and the resolutions voted in between —
//! counts and organisation names only, like the rest of the report. Rendered as a
//! section of the HTML report (`templates/report/diff.html`) or as lines of text.

use std::collections::{BTreeMap, BTreeSet};
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

fn figures(before: &ReportData, after: &ReportData) -> Vec<FigureChange> {
    let (b, a) = (&before.territory, &after.territory);
    let figure = |label, pick: fn(&pb::TerritoryEngagementReport) -> u64| FigureChange {
        label,
        before: pick(b),
        after: pick(a),
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

fn commitments(before: &ReportData, after: &ReportData) -> Vec<CommitmentMove> {
    let earlier: BTreeMap<&str, &pb::ConsortiumCommitmentState> = before
        .consortium
        .iter()
        .flat_map(|state| &state.commitments)
        .map(|c| (c.commitment_id.as_str(), c))
        .collect();
    after
        .consortium
        .iter()
        .flat_map(|state| &state.commitments)
        .filter_map(|now| {
            let then = earlier.get(now.commitment_id.as_str());
            let moved =
                then.is_none_or(|then| then.status != now.status || then.percent != now.percent);
            moved.then(|| CommitmentMove {
                title: now.title.clone(),
                owner: after.organisation(&now.owner_member_id),
                before: then.map(|then| (commitment_status(then.status), then.percent)),
                after: (commitment_status(now.status), now.percent),
            })
        })
        .collect()
}

fn resolutions(before: &ReportData, after: &ReportData) -> Vec<ResolutionOutcome> {
    let resolutions = |data: &ReportData| -> BTreeMap<String, (String, i32)> {
        data.consortium
            .iter()
            .flat_map(|state| &state.meetings)
            .flat_map(|meeting| &meeting.resolutions)
            .map(|r| (r.resolution_id.clone(), (r.title.clone(), r.status)))
            .collect()
    };
    let earlier = resolutions(before);
    let open = pb::ResolutionStatus::Open as i32;
    resolutions(after)
        .into_iter()
        .filter(|(id, (_, status))| {
            *status != open && earlier.get(id).is_none_or(|(_, then)| then != status)
        })
        .map(|(_, (title, status))| ResolutionOutcome {
            title,
            status: resolution_status(status),
        })
        .collect()
}

/// Compares the report at `before` with the report at `after`.
pub fn compare(before: &ReportData, after: &ReportData) -> ReportDiff {
    let white = |data: &ReportData| -> BTreeSet<String> {
        data.territory.white_zone_communes.iter().cloned().collect()
    };
    let (white_before, white_after) = (white(before), white(after));
    ReportDiff {
        from: before
            .as_of
            .clone()
            .unwrap_or_else(|| "maintenant".to_owned()),
        to: after
            .as_of
            .clone()
            .unwrap_or_else(|| "maintenant".to_owned()),
        left_white_zone: communes(after, white_before.difference(&white_after).cloned()),
        entered_white_zone: communes(after, white_after.difference(&white_before).cloned()),
        figures: figures(before, after),
        commitments: commitments(before, after),
        resolutions: resolutions(before, after),
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

    fn report(
        white: &[&str],
        contacts: u64,
        percent: u32,
        status: pb::ResolutionStatus,
    ) -> ReportData {
        ReportData {
            territory: pb::TerritoryEngagementReport {
                white_zone_communes: white.iter().map(|c| (*c).to_owned()).collect(),
                communes: vec![
                    commune("37009", "Autrèche"),
                    commune("37063", "Château-Renault"),
                ],
                contacts,
                ..Default::default()
            },
            consortium: Some(pb::ConsortiumState {
                commitments: vec![pb::ConsortiumCommitmentState {
                    commitment_id: "c1".into(),
                    title: "Ouvrir un <atelier>".into(),
                    owner_member_id: "m1".into(),
                    percent,
                    ..Default::default()
                }],
                meetings: vec![pb::ConsortiumMeetingState {
                    resolutions: vec![pb::ConsortiumResolutionState {
                        resolution_id: "r1".into(),
                        title: "Adopter la charte".into(),
                        status: status as i32,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            organisation_names: [("m1".to_owned(), "Mairie".to_owned())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn white_zones_figures_commitments_and_votes_are_compared() {
        let mut before = report(&["37009", "37063"], 3, 10, pb::ResolutionStatus::Open);
        before.as_of = Some("2026-03-01T00:00:00Z".into());
        let mut after = report(&["37063"], 10, 40, pb::ResolutionStatus::Adopted);
        after.as_of = Some("2026-06-01T00:00:00Z".into());
        let diff = compare(&before, &after);
        assert_eq!(
            diff.left_white_zone,
            vec![CommuneName {
                name: "Autrèche".into(),
                code: "37009".into()
            }]
        );
        assert!(diff.entered_white_zone.is_empty());
        let contacts = diff
            .figures
            .iter()
            .find(|f| f.label == "Contacts enregistrés")
            .unwrap();
        assert_eq!((contacts.before, contacts.after), (3, 10));
        assert_eq!(contacts.delta(), "+7");
        let white = diff
            .figures
            .iter()
            .find(|f| f.label == "Communes en zone blanche")
            .unwrap();
        assert_eq!(white.delta(), "−1");
        assert_eq!(diff.commitments.len(), 1);
        assert_eq!(diff.commitments[0].after.1, 40);
        assert_eq!(diff.commitments[0].owner, "Mairie");
        assert_eq!(diff.resolutions.len(), 1);
        assert_eq!(diff.resolutions[0].status, "adoptée");

        let text = text(&diff);
        assert!(text.starts_with("Évolution du 2026-03-01T00:00:00Z au 2026-06-01T00:00:00Z"));
        assert!(
            text.contains("Sorties de la zone blanche (1) : Autrèche (37009)"),
            "{text}"
        );
        assert!(
            text.contains("Contacts enregistrés : 3 → 10 (+7)"),
            "{text}"
        );
        let html = diff.render().unwrap();
        assert!(html.contains("Ouvrir un &#60;atelier&#62;"), "{html}");
        assert!(html.contains("id=\"evolution\""), "{html}");
    }

    #[test]
    fn nothing_moved_between_equal_reports() {
        let same = report(&["37009"], 3, 10, pb::ResolutionStatus::Adopted);
        let diff = compare(&same, &same);
        assert!(diff.left_white_zone.is_empty());
        assert!(diff.commitments.is_empty());
        assert!(diff.resolutions.is_empty());
        assert!(diff.figures.iter().all(|f| f.delta() == "0"));
    }
}
