//! Coded findings (issue 14, items 4 and 5): the codebook's events projected;
//! the codes of the interviews that complete a survey aggregated by audience
//! and commune next to the survey's results; the diagnostics' codes across
//! tiers-lieux, each by its latest diagnostic; interviews and rows written
//! before codes still read.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::*;
use maillage_projections::model::{InterviewRow, ReadModel};
use maillage_projections::queries;
use maillage_proto::v1 as pb;

const MOTIVATION: &str = "0190a000-0000-7000-8000-00000000c0d1";
const EXPECTATION: &str = "0190a000-0000-7000-8000-00000000c0d2";
const REFUSAL: &str = "0190a000-0000-7000-8000-00000000c0d3";
const INTERVIEW: &str = "0190a000-0000-7000-8000-0000000007c1";
const OLDER: &str = "0190a000-0000-7000-8000-0000000007c2";
const ANONYMOUS: &str = "0190a000-0000-7000-8000-0000000007c3";
const DIAGNOSED: &str = "0190a000-0000-7000-8000-0000000007e1";

fn codebook(id: &str, kind: pb::CodeKind, label: &str) -> Ev {
    ev(
        "engagement",
        format!("codebook-{}", uuid::Uuid::nil()),
        day(1),
        "alice",
        pb::CodebookCodeDefined {
            code_id: id.into(),
            kind: kind as i32,
            label: label.into(),
            topic: pb::Theme::Telework as i32,
            ..Default::default()
        },
    )
}

fn interview(id: &str, who: pb::interview_subject::Who, codes: &[&str]) -> Ev {
    ev(
        "engagement",
        format!("interview-{id}"),
        day(20),
        "alice",
        pb::InterviewRecorded {
            interview_id: id.into(),
            subject: Some(pb::InterviewSubject { who: Some(who) }),
            conducted_at: ts(day(20)),
            survey_id: S1.into(),
            motivation_codes: codes.iter().map(|c| c.to_string()).collect(),
            expectation_codes: vec![EXPECTATION.into()],
            ..Default::default()
        },
    )
}

fn model(events: &[Ev]) -> ReadModel {
    let mut model = ReadModel::new();
    for log in envelopes(events).values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    model
}

fn coded_scenario() -> Vec<Ev> {
    use pb::interview_subject::Who;
    let mut events = scenario();
    events.extend([
        codebook(MOTIVATION, pb::CodeKind::Motivation, "Rompre l'isolement"),
        codebook(EXPECTATION, pb::CodeKind::Expectation, "Haut débit"),
        codebook(REFUSAL, pb::CodeKind::Refusal, "Restauration"),
        ev(
            "engagement",
            format!("codebook-{}", uuid::Uuid::nil()),
            day(2),
            "alice",
            pb::CodebookCodeRelabelled {
                code_id: EXPECTATION.into(),
                label: "Très haut débit".into(),
                description: String::new(),
            },
        ),
        ev(
            "engagement",
            format!("codebook-{}", uuid::Uuid::nil()),
            day(3),
            "alice",
            pb::CodebookCodeRetired {
                code_id: REFUSAL.into(),
                reason: "trop vague".into(),
            },
        ),
        interview(INTERVIEW, Who::StakeholderId(P1.into()), &[MOTIVATION]),
        interview(
            ANONYMOUS,
            Who::Anonymous(pb::AnonymousParticipant {
                audience: pb::EngagementAudience::Businesses as i32,
                commune_code: LIEPVRE.into(),
            }),
            &[],
        ),
        // Written before interviews were linked to surveys and coded.
        ev(
            "engagement",
            format!("interview-{OLDER}"),
            day(21),
            "alice",
            pb::InterviewRecorded {
                interview_id: OLDER.into(),
                conducted_at: ts(day(21)),
                ..Default::default()
            },
        ),
        ev(
            "engagement",
            format!("diagnostic-{DIAGNOSED}"),
            day(22),
            "alice",
            pb::DiagnosticRecorded {
                diagnostic_id: DIAGNOSED.into(),
                tiers_lieu_id: L1.into(),
                conducted_at: ts(day(22)),
                findings: Some(pb::DiagnosticFindings {
                    initial_motivation_codes: vec![MOTIVATION.into()],
                    refusal_codes: vec![REFUSAL.into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    ]);
    events
}

#[test]
fn interview_codes_sit_next_to_the_survey_results_by_audience_and_commune() {
    let model = model(&coded_scenario());
    let results = queries::surveys::results(&model, S1).unwrap();
    assert_eq!(results.interviews, 2);
    let codes: Vec<(&str, u64)> = results
        .interview_codes
        .iter()
        .map(|code| (code.label.as_str(), code.count))
        .collect();
    assert_eq!(codes, [("Rompre l'isolement", 1), ("Très haut débit", 2)]);
    let heard = &results.interview_codes[1];
    let communes: Vec<&str> = heard.by_commune.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(communes, [LIEPVRE, SAINTE_CROIX]);
    let audiences: Vec<&str> = heard.by_audience.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        audiences,
        [
            "ENGAGEMENT_AUDIENCE_BUSINESSES",
            "ENGAGEMENT_AUDIENCE_POPULATION"
        ]
    );
    assert!(model.interviews.get(OLDER).unwrap().survey_id.is_empty());
}

#[test]
fn diagnostics_are_aggregated_across_tiers_lieux_and_a_revision_replaces_their_codes() {
    let mut events = coded_scenario();
    let model_before = model(&events);
    let synthesis = queries::coding::diagnostic_synthesis(&model_before, None);
    let codes: Vec<(&str, bool, u64)> = synthesis
        .codes
        .iter()
        .map(|code| (code.label.as_str(), code.retired, code.tiers_lieux))
        .collect();
    assert_eq!(
        codes,
        [("Rompre l'isolement", false, 1), ("Restauration", true, 1)]
    );
    events.push(ev(
        "engagement",
        format!("diagnostic-{DIAGNOSED}"),
        day(23),
        "alice",
        pb::DiagnosticRevised {
            diagnostic_id: DIAGNOSED.into(),
            findings: Some(pb::DiagnosticFindings::default()),
            sealed_notes: Vec::new(),
        },
    ));
    let revised = queries::coding::diagnostic_synthesis(&model(&events), None);
    assert_eq!((revised.tiers_lieux, revised.uncoded), (1, 1));
    assert!(revised.codes.is_empty());
}

#[test]
fn rows_stored_before_codes_still_read() {
    let older = r#"{"stakeholder_id":"","anonymous_commune":"68185","anonymous_audience":1,
        "interviewer":"alice","conducted_at":null,"themes":[],"topics":[]}"#;
    let row: InterviewRow = serde_json::from_str(older).unwrap();
    assert!(row.survey_id.is_empty() && row.motivation_codes.is_empty());
}

#[test]
fn a_recoding_replaces_the_codes_from_its_instant_and_not_before() {
    let before = coded_scenario();
    let mut events = before.clone();
    events.push(ev(
        "engagement",
        format!("interview-{INTERVIEW}"),
        day(24),
        "bob",
        pb::InterviewRecoded {
            interview_id: INTERVIEW.into(),
            motivation_codes: vec![],
            expectation_codes: vec![EXPECTATION.into()],
            survey_id: S1.into(),
            reason: "grille révisée".into(),
            recoded_by: "bob".into(),
            recoded_at: ts(day(24)),
        },
    ));
    let counts = |events: &[Ev]| -> Vec<(String, u64)> {
        queries::surveys::results(&model(events), S1)
            .unwrap()
            .interview_codes
            .iter()
            .map(|code| (code.label.clone(), code.count))
            .collect()
    };
    // As of before the recoding (the events up to it), the earlier coding.
    assert_eq!(
        counts(&before),
        [
            ("Rompre l'isolement".to_owned(), 1),
            ("Très haut débit".to_owned(), 2)
        ]
    );
    // After it, the motivation is gone; the other interview is untouched.
    assert_eq!(counts(&events), [("Très haut débit".to_owned(), 2)]);
}
