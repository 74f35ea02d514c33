//! The "Concertation avec les responsables désignés" section: the meetings
//! the accompanying team held with the collectivité's designated officers
//! (issue 14), oldest first, each with its axis, the officers present, how
//! many other participants and actions it concerned, and its decisions with
//! their owner and due date — read from the engagement log as of the report's
//! instant. Notes (sealed: they may be about people) are never shown; the
//! other participants are counted, not named. Rendered by
//! `templates/report/concertations.html`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::data::ReportData;
use super::dates::date_fr;
use super::scan::LogFacts;

/// One decision, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionLine {
    /// What was decided.
    pub text: String,
    /// Who carries it out ("—" without).
    pub owner: String,
    /// When it is due (`JJ/MM/AAAA`, "—" without).
    pub due: String,
}

/// One meeting, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcertationLine {
    /// The day it was held (`JJ/MM/AAAA`).
    pub day: String,
    /// Its axis's name, or "Tout le programme".
    pub axis: String,
    /// What it was about.
    pub subject: String,
    /// The officers present: "title (principal)", joined.
    pub officers: String,
    /// Other participants.
    pub participants: usize,
    /// Actions it concerned.
    pub actions: usize,
    /// Its decisions, in order.
    pub decisions: Vec<DecisionLine>,
}

/// The concertations of `facts`, oldest first (ties in log order).
pub fn concertations(facts: &LogFacts) -> Vec<ConcertationLine> {
    let mut recorded: Vec<&pb::ProgrammeConcertationRecorded> =
        facts.concertations.iter().collect();
    recorded.sort_by_key(|c| c.held_at.map(|at| (at.seconds, at.nanos)));
    let day = |at: Option<&prost_types::Timestamp>| at.map_or_else(|| "—".to_owned(), date_fr);
    recorded
        .into_iter()
        .map(|c| ConcertationLine {
            day: day(c.held_at.as_ref()),
            axis: match c.axis_id.as_str() {
                "" => "Tout le programme".to_owned(),
                id => facts
                    .axes
                    .iter()
                    .find(|axis| axis.id == id)
                    .map_or_else(|| "axe inconnu".to_owned(), |axis| axis.name.clone()),
            },
            subject: c.subject.clone(),
            officers: c
                .officers
                .iter()
                .map(|principal| match facts.officer_titles.get(principal) {
                    Some(title) if !title.is_empty() => format!("{title} ({principal})"),
                    _ => principal.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            participants: c.participant_ids.len(),
            actions: c.action_ids.len(),
            decisions: c
                .decisions
                .iter()
                .map(|d| DecisionLine {
                    text: d.text.clone(),
                    owner: match d.owner.as_str() {
                        "" => "—".to_owned(),
                        owner => owner.to_owned(),
                    },
                    due: day(d.due_at.as_ref()),
                })
                .collect(),
        })
        .collect()
}

/// The section (`templates/report/concertations.html`).
#[derive(Template)]
#[template(path = "report/concertations.html")]
pub struct ConcertationsSection<'a> {
    concertations: &'a [ConcertationLine],
}

/// The concertations with the designated officers.
pub fn section(data: &ReportData) -> ConcertationsSection<'_> {
    ConcertationsSection {
        concertations: &data.concertations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::scan::AxisFact;

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn meetings_are_shown_oldest_first_with_their_decisions_escaped_and_no_names() {
        let mut facts = LogFacts {
            axes: vec![AxisFact {
                id: "a".into(),
                name: "Structurer l'offre".into(),
                retired: false,
            }],
            ..LogFacts::default()
        };
        facts.officer_titles.insert("dgs".into(), "DGS".into());
        facts.concertations = vec![
            pb::ProgrammeConcertationRecorded {
                held_at: at(1_790_000_000),
                axis_id: "a".into(),
                officers: vec!["dgs".into()],
                participant_ids: vec!["p1".into(), "p2".into()],
                action_ids: vec!["x".into()],
                subject: "Ateliers <thématiques>".into(),
                decisions: vec![pb::ConcertationDecision {
                    text: "Deux ateliers".into(),
                    owner: "Service développement".into(),
                    due_at: at(1_800_000_000),
                }],
                ..Default::default()
            },
            pb::ProgrammeConcertationRecorded {
                held_at: at(1_780_000_000),
                officers: vec!["maire".into()],
                subject: "Lancement".into(),
                ..Default::default()
            },
        ];
        let data = ReportData {
            concertations: concertations(&facts),
            ..Default::default()
        };
        assert_eq!(data.concertations[0].subject, "Lancement");
        assert_eq!(data.concertations[0].axis, "Tout le programme");
        assert_eq!(data.concertations[1].officers, "DGS (dgs)");
        assert_eq!(data.concertations[1].decisions[0].due, "15/01/2027");
        let html = section(&data).render().unwrap();
        assert!(
            html.contains("Concertation avec les responsables désignés"),
            "{html}"
        );
        assert!(html.contains("Ateliers &#60;thématiques&#62;"), "{html}");
        assert!(html.contains("Service développement"), "{html}");
        assert!(!html.contains("p1"), "participants are counted, not named");
        let empty = section(&ReportData::default()).render().unwrap();
        assert!(empty.contains("Aucune concertation"), "{empty}");
    }
}
