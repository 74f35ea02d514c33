//! Coded findings, read with the codebook: the codes of the interviews that
//! complete a survey, by audience and commune (next to the survey's
//! results), and the codes of the tiers-lieux diagnostics across tiers-lieux
//! (what they share, what they refuse, per theme).

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;

use super::joins::{audience_of, communes_of};
use crate::labels;
use crate::model::{CodeRow, ReadModel};

/// Where a code counts: the interviews by audience and by commune.
#[derive(Default)]
struct Heard {
    count: u64,
    by_audience: BTreeMap<String, u64>,
    by_commune: BTreeMap<String, u64>,
}

fn counts(map: BTreeMap<String, u64>) -> Vec<pb::LabelCount> {
    map.into_iter()
        .map(|(label, count)| pb::LabelCount { label, count })
        .collect()
}

/// The code `id` as the codebook has it (a code unknown to it, which the
/// engagement service never records, reads as its id).
fn code<'m>(model: &'m ReadModel, id: &str) -> std::borrow::Cow<'m, CodeRow> {
    match model.codes.get(id) {
        Some(row) => std::borrow::Cow::Borrowed(row),
        None => std::borrow::Cow::Owned(CodeRow {
            label: id.to_owned(),
            ..CodeRow::default()
        }),
    }
}

/// Orders codes by kind, then most counted first, then label.
fn rank(kind: i32, count: u64, label: &str) -> (i32, std::cmp::Reverse<u64>, String) {
    (kind, std::cmp::Reverse(count), label.to_owned())
}

/// The interviews linked to `survey_id`, and their codes: each code heard,
/// with the interviews that carry it by audience and by commune (stakeholders
/// joined to their commune and kind, as the survey's respondents are).
pub fn interview_codes(model: &ReadModel, survey_id: &str) -> (u64, Vec<pb::CodeCount>) {
    let mut interviews = 0;
    let mut heard: BTreeMap<&str, Heard> = BTreeMap::new();
    for (_, interview) in model.interviews.iter() {
        if interview.survey_id != survey_id {
            continue;
        }
        interviews += 1;
        let (audience, commune) = if interview.stakeholder_id.is_empty() {
            (
                labels::engagement_audience(interview.anonymous_audience).to_owned(),
                interview.anonymous_commune.clone(),
            )
        } else {
            let row = model
                .stakeholders
                .get(&interview.stakeholder_id)
                .filter(|row| row.registered);
            let commune = row
                .map(|row| row.commune.clone())
                .filter(|code| !code.is_empty())
                .unwrap_or_else(|| "unknown".to_owned());
            (audience_of(row).as_str_name().to_owned(), commune)
        };
        let codes: BTreeSet<&str> = interview
            .motivation_codes
            .iter()
            .chain(&interview.expectation_codes)
            .map(String::as_str)
            .collect();
        for id in codes {
            let entry = heard.entry(id).or_default();
            entry.count += 1;
            *entry.by_audience.entry(audience.clone()).or_default() += 1;
            *entry.by_commune.entry(commune.clone()).or_default() += 1;
        }
    }
    let mut codes: Vec<pb::CodeCount> = heard
        .into_iter()
        .map(|(id, heard)| {
            let row = code(model, id);
            pb::CodeCount {
                code_id: id.to_owned(),
                label: row.label.clone(),
                kind: row.kind,
                topic: row.topic,
                count: heard.count,
                by_audience: counts(heard.by_audience),
                by_commune: counts(heard.by_commune),
                retired: row.retired,
            }
        })
        .collect();
    codes.sort_by_key(|code| rank(code.kind, code.count, &code.label));
    (interviews, codes)
}

/// The coded findings of the tiers-lieux diagnostics, each tiers-lieu by its
/// latest diagnostic (by date, then id); only the tiers-lieux located in
/// `communes` when given.
pub fn diagnostic_synthesis(
    model: &ReadModel,
    communes: Option<&BTreeSet<&str>>,
) -> pb::DiagnosticSynthesis {
    let here = |tiers_lieu: &str| {
        communes.is_none_or(|communes| {
            model
                .stakeholders
                .get(tiers_lieu)
                .is_some_and(|row| communes_of(row).iter().any(|c| communes.contains(c)))
        })
    };
    let mut diagnostics = 0;
    let mut latest: BTreeMap<&str, (Option<i64>, &str, &Vec<String>)> = BTreeMap::new();
    for (id, diagnostic) in model.diagnostics.iter() {
        if !here(&diagnostic.tiers_lieu_id) {
            continue;
        }
        diagnostics += 1;
        let candidate = (diagnostic.conducted_at, id.as_str(), &diagnostic.codes);
        let entry = latest
            .entry(diagnostic.tiers_lieu_id.as_str())
            .or_insert(candidate);
        if (candidate.0, candidate.1) > (entry.0, entry.1) {
            *entry = candidate;
        }
    }
    let mut shared: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut uncoded = 0;
    for (tiers_lieu, (_, _, codes)) in &latest {
        if codes.is_empty() {
            uncoded += 1;
        }
        for id in codes.iter() {
            shared.entry(id.as_str()).or_default().insert(tiers_lieu);
        }
    }
    let mut codes: Vec<pb::DiagnosticCodeCount> = shared
        .into_iter()
        .map(|(id, tiers_lieux)| {
            let row = code(model, id);
            pb::DiagnosticCodeCount {
                code_id: id.to_owned(),
                label: row.label.clone(),
                kind: row.kind,
                topic: row.topic,
                retired: row.retired,
                tiers_lieux: tiers_lieux.len() as u64,
                tiers_lieu_ids: tiers_lieux.into_iter().map(str::to_owned).collect(),
            }
        })
        .collect();
    codes.sort_by_key(|code| rank(code.kind, code.tiers_lieux, &code.label));
    pb::DiagnosticSynthesis {
        tiers_lieux: latest.len() as u64,
        diagnostics,
        uncoded,
        codes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DiagnosticRow, InterviewRow};

    fn model() -> ReadModel {
        let mut model = ReadModel::default();
        for (id, kind, label) in [
            ("m1", pb::CodeKind::Motivation, "Rompre l'isolement"),
            ("e1", pb::CodeKind::Expectation, "Haut débit"),
            ("r1", pb::CodeKind::Refusal, "Restauration"),
            ("n1", pb::CodeKind::Need, "Un animateur"),
        ] {
            let row = model.codes.upsert(id);
            row.kind = kind as i32;
            row.label = label.into();
            row.topic = pb::Theme::Telework as i32;
        }
        for (id, commune) in [("tl1", "37063"), ("tl2", "37009"), ("p1", "37063")] {
            let row = model.stakeholders.upsert(id);
            row.registered = true;
            row.commune = commune.into();
        }
        model
    }

    #[test]
    fn interview_codes_count_by_audience_and_commune_for_the_survey_only() {
        let mut model = model();
        *model.interviews.upsert("i1") = InterviewRow {
            anonymous_commune: "37009".into(),
            anonymous_audience: pb::EngagementAudience::Population as i32,
            survey_id: "s1".into(),
            motivation_codes: vec!["m1".into()],
            expectation_codes: vec!["e1".into()],
            ..Default::default()
        };
        *model.interviews.upsert("i2") = InterviewRow {
            stakeholder_id: "p1".into(),
            survey_id: "s1".into(),
            motivation_codes: vec!["m1".into()],
            ..Default::default()
        };
        *model.interviews.upsert("i3") = InterviewRow {
            survey_id: "s2".into(),
            motivation_codes: vec!["m1".into()],
            ..Default::default()
        };
        let (interviews, codes) = interview_codes(&model, "s1");
        assert_eq!(interviews, 2);
        let summary: Vec<(&str, u64)> = codes
            .iter()
            .map(|code| (code.label.as_str(), code.count))
            .collect();
        assert_eq!(summary, [("Rompre l'isolement", 2), ("Haut débit", 1)]);
        let communes: Vec<(&str, u64)> = codes[0]
            .by_commune
            .iter()
            .map(|c| (c.label.as_str(), c.count))
            .collect();
        assert_eq!(communes, [("37009", 1), ("37063", 1)]);
        assert_eq!(codes[0].by_audience.len(), 2);
        assert_eq!(interview_codes(&model, "s3"), (0, vec![]));
    }

    #[test]
    fn diagnostics_count_each_tiers_lieu_once_by_its_latest_and_filter_by_territory() {
        let mut model = model();
        let diagnostic = |tiers_lieu: &str, at: i64, codes: &[&str]| DiagnosticRow {
            tiers_lieu_id: tiers_lieu.into(),
            conducted_at: Some(at),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        };
        *model.diagnostics.upsert("d1") = diagnostic("tl1", 1, &["m1", "n1"]);
        *model.diagnostics.upsert("d2") = diagnostic("tl1", 2, &["m1", "r1"]);
        *model.diagnostics.upsert("d3") = diagnostic("tl2", 1, &["m1", "r1"]);
        let all = diagnostic_synthesis(&model, None);
        assert_eq!((all.tiers_lieux, all.diagnostics, all.uncoded), (2, 3, 0));
        let shared: Vec<(&str, u64)> = all
            .codes
            .iter()
            .map(|code| (code.label.as_str(), code.tiers_lieux))
            .collect();
        // "Un animateur" was in tl1's older diagnostic only.
        assert_eq!(shared, [("Rompre l'isolement", 2), ("Restauration", 2)]);
        assert_eq!(all.codes[1].tiers_lieu_ids, ["tl1", "tl2"]);
        let here: BTreeSet<&str> = ["37009"].into();
        let one = diagnostic_synthesis(&model, Some(&here));
        assert_eq!((one.tiers_lieux, one.diagnostics), (1, 1));
    }
}
