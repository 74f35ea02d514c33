//! The re-engagement section ("À recontacter depuis les municipales"): the
//! élus of the territory whose current mandate of a commune or an EPCI
//! started after their last contact, or who were never contacted — the same
//! rule as the search filter `not_contacted_since_mandate_start` and
//! `maillage reach --elus-not-contacted-since-mandate`, computed from the
//! logs as of the report's instant so that a replayed report agrees with its
//! date. Counts only, per authority and office: the report is read by
//! analysts, who see no person's name; a facilitator lists the names with
//! `maillage reach`.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use maillage_proto::v1 as pb;
use maillage_territory::Territory;

use super::data::ReportData;
use super::scan::LogFacts;
use crate::cli::search::office;

/// The élus to reach again for one office of one authority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReengagementRow {
    /// The authority (a commune or an EPCI of the territory).
    pub authority: pb::TerritoryRef,
    /// Its name.
    pub name: String,
    /// `MandateOffice`.
    pub office: i32,
    /// Élus holding that office now.
    pub in_office: u64,
    /// Of them, not contacted since their mandate started (or never).
    pub to_reach: u64,
    /// Of those, never contacted.
    pub never_contacted: u64,
}

/// The whole section's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reengagement {
    /// Rows with someone to reach, by authority name then office.
    pub rows: Vec<ReengagementRow>,
    /// Distinct élus holding a commune or EPCI mandate of the territory now.
    pub elus: u64,
    /// Distinct élus to reach again.
    pub to_reach: u64,
    /// Of them, never contacted.
    pub never_contacted: u64,
}

/// The offices the municipal elections renew (of a commune, or of an EPCI
/// whose councillors come from the conseils municipaux).
fn renewed_by_municipales(office: i32) -> bool {
    use pb::MandateOffice as O;
    matches!(
        O::try_from(office),
        Ok(O::Maire
            | O::Adjoint
            | O::ConseillerMunicipal
            | O::ConseillerCommunautaire
            | O::PresidentEpci
            | O::VicePresidentEpci)
    )
}

/// The authority's name when it lies in (or overlaps) the territory of `communes`.
fn authority_here(authority: &pb::TerritoryRef, communes: &BTreeSet<String>) -> Option<String> {
    let territory = Territory::shared();
    match pb::TerritoryLevel::try_from(authority.level) {
        Ok(pb::TerritoryLevel::Commune) if communes.contains(&authority.code) => Some(
            territory
                .commune(&authority.code)
                .map_or_else(|| authority.code.clone(), |c| c.name.clone()),
        ),
        Ok(pb::TerritoryLevel::Epci) => {
            let epci = territory.epci(&authority.code)?;
            let overlaps = territory
                .communes_of_epci(&authority.code)?
                .iter()
                .any(|commune| communes.contains(&commune.code));
            overlaps.then(|| epci.name.clone())
        }
        _ => None,
    }
}

/// The figures as of `at` (seconds) for the territory of `communes`.
pub fn compute(facts: &LogFacts, communes: &BTreeSet<String>, at: i64) -> Reengagement {
    // Each person's last contact as of `at`.
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for contact in facts.contacts.values().filter(|c| c.occurred_at <= at) {
        for participant in &contact.participants {
            let seen = last.entry(participant.as_str()).or_insert(i64::MIN);
            *seen = (*seen).max(contact.occurred_at);
        }
    }
    let mut rows: BTreeMap<(String, String, i32), ReengagementRow> = BTreeMap::new();
    let mut figures = Reengagement::default();
    for (person, mandates) in &facts.mandates {
        if facts.gone.contains(person) {
            continue;
        }
        let contacted = last.get(person.as_str()).copied();
        let (mut here, mut reach) = (false, false);
        for mandate in mandates.values() {
            let current = mandate.started_at <= at && mandate.ended_at.is_none_or(|end| end > at);
            if !current || !renewed_by_municipales(mandate.office) {
                continue;
            }
            let Some(name) = authority_here(&mandate.authority, communes) else {
                continue;
            };
            here = true;
            let key = (name.clone(), mandate.authority.code.clone(), mandate.office);
            let row = rows.entry(key).or_insert_with(|| ReengagementRow {
                authority: mandate.authority.clone(),
                name,
                office: mandate.office,
                ..Default::default()
            });
            row.in_office += 1;
            if contacted.is_none_or(|last| last < mandate.started_at) {
                row.to_reach += 1;
                row.never_contacted += u64::from(contacted.is_none());
                reach = true;
            }
        }
        figures.elus += u64::from(here);
        figures.to_reach += u64::from(reach);
        figures.never_contacted += u64::from(reach && contacted.is_none());
    }
    figures.rows = rows.into_values().filter(|row| row.to_reach > 0).collect();
    figures
}

/// The section (`templates/report/reengagement.html`).
#[derive(Template)]
#[template(path = "report/reengagement.html")]
pub struct ReengagementSection<'a> {
    figures: &'a Reengagement,
}

impl ReengagementSection<'_> {
    fn office(value: &i32) -> &'static str {
        office(*value)
    }

    fn plural(count: &u64) -> &'static str {
        if *count > 1 {
            "s"
        } else {
            ""
        }
    }
}

/// The section.
pub fn section(data: &ReportData) -> ReengagementSection<'_> {
    ReengagementSection {
        figures: &data.reengagement,
    }
}

#[cfg(test)]
mod tests {
    use super::super::scan::{ContactFact, MandateFact};
    use super::*;

    fn commune(code: &str) -> pb::TerritoryRef {
        pb::TerritoryRef {
            level: pb::TerritoryLevel::Commune as i32,
            code: code.into(),
        }
    }

    fn mandate(office: pb::MandateOffice, code: &str, start: i64, end: Option<i64>) -> MandateFact {
        MandateFact {
            office: office as i32,
            authority: commune(code),
            started_at: start,
            ended_at: end,
        }
    }

    #[test]
    fn elus_not_contacted_since_their_mandate_started_are_counted_per_office() {
        let mut facts = LogFacts::default();
        let carcassonne = "11069";
        // Never contacted; contacted before the mandate; contacted since; an
        // ended mandate; archived; a mandate elsewhere.
        let mandates = [
            (
                "never",
                mandate(pb::MandateOffice::Maire, carcassonne, 100, None),
            ),
            (
                "before",
                mandate(pb::MandateOffice::Adjoint, carcassonne, 100, None),
            ),
            (
                "since",
                mandate(pb::MandateOffice::Adjoint, carcassonne, 100, None),
            ),
            (
                "ended",
                mandate(pb::MandateOffice::Adjoint, carcassonne, 10, Some(50)),
            ),
            (
                "archived",
                mandate(pb::MandateOffice::Adjoint, carcassonne, 100, None),
            ),
            (
                "elsewhere",
                mandate(pb::MandateOffice::Maire, "37261", 100, None),
            ),
        ];
        for (person, fact) in mandates {
            facts
                .mandates
                .entry(person.into())
                .or_default()
                .insert(format!("{person}-m"), fact);
        }
        facts.gone.insert("archived".into());
        for (id, at, who) in [
            ("c1", 90, "before"),
            ("c2", 150, "since"),
            ("c3", 300, "never"),
        ] {
            facts.contacts.insert(
                id.into(),
                ContactFact {
                    occurred_at: at,
                    participants: vec![who.into()],
                },
            );
        }
        let communes = BTreeSet::from([carcassonne.to_owned()]);
        // As of 200: the contact at 300 has not happened yet.
        let figures = compute(&facts, &communes, 200);
        assert_eq!(
            (figures.elus, figures.to_reach, figures.never_contacted),
            (3, 2, 1)
        );
        let rows: Vec<(i32, u64, u64, u64)> = figures
            .rows
            .iter()
            .map(|row| (row.office, row.to_reach, row.never_contacted, row.in_office))
            .collect();
        assert_eq!(
            rows,
            vec![
                (pb::MandateOffice::Maire as i32, 1, 1, 1),
                (pb::MandateOffice::Adjoint as i32, 1, 0, 2),
            ]
        );
        assert_eq!(figures.rows[0].name, "Carcassonne");
        // As of 400, the maire was contacted since their mandate started.
        assert_eq!(compute(&facts, &communes, 400).to_reach, 1);
        let data = ReportData {
            reengagement: figures,
            ..Default::default()
        };
        let page = section(&data).render().unwrap();
        assert!(
            page.contains("À recontacter depuis les municipales"),
            "{page}"
        );
        assert!(
            page.contains("2 élus à recontacter sur 3 en mandat"),
            "{page}"
        );
        assert!(
            page.contains("<td>maire</td><td class=\"n\">1</td>"),
            "{page}"
        );
    }
}
