//! A survey response changes rows of its own size, not the survey's row: the
//! live projection writes every changed row again with each batch, and a
//! survey row that counted each respondent in itself grew with them (the
//! région bench at 1,000,000 events: about 14,000 respondents per survey,
//! half a megabyte per survey row, written again at each batch). Survey rows
//! stored before, with their respondents in them, still count.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_projections::model::{codec, storage_key, ReadModel, SurveyRow};
use maillage_projections::queries::surveys;
use maillage_projections::{SledStorage, Storage};
use maillage_proto::v1 as pb;
use prost::{Message, Name};

const SURVEY: &str = "0190a000-0000-7000-8000-000000000051";

fn stakeholder(n: usize) -> String {
    format!("0190a000-0000-7000-8000-{n:012}")
}

fn envelope<M: Message + Name>(context: &str, position: u64, message: M) -> pb::EventEnvelope {
    pb::EventEnvelope {
        context: context.into(),
        position,
        stream_id: format!("stream-{position}"),
        version: 1,
        event_id: format!("0190a000-0000-7000-9000-{position:012}"),
        event_type: M::full_name(),
        payload: message.encode_to_vec(),
        metadata: Some(pb::EventMetadata {
            actor: "web".into(),
            ..Default::default()
        }),
        recorded_at: Some(prost_types::Timestamp {
            seconds: 1_772_323_200 + position as i64,
            nanos: 0,
        }),
        prev_hash: vec![0; 32],
        hash: vec![0; 32],
    }
}

fn response(position: u64, stakeholder_id: &str) -> pb::EventEnvelope {
    envelope(
        "engagement",
        position,
        pb::SurveyResponseSubmitted {
            survey_id: SURVEY.into(),
            response_id: format!("0190a000-0000-7000-8000-1{position:011}"),
            respondent: Some(pb::SurveyRespondent {
                who: Some(pb::survey_respondent::Who::StakeholderId(
                    stakeholder_id.into(),
                )),
            }),
            ..Default::default()
        },
    )
}

fn registered(position: u64, stakeholder_id: &str, commune: &str) -> pb::EventEnvelope {
    envelope(
        "stakeholders",
        position,
        pb::PersonRegistered {
            stakeholder_id: stakeholder_id.into(),
            profile: Some(pb::SealedPersonProfile {
                commune_code: commune.into(),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
}

/// The bytes a batch would commit: keys and rows.
fn committed_bytes(model: &mut ReadModel) -> usize {
    model
        .take_changes()
        .unwrap()
        .iter()
        .map(|(key, value)| key.len() + value.as_ref().map_or(0, Vec::len))
        .sum()
}

#[test]
fn a_response_commits_as_many_bytes_whatever_the_number_of_respondents() {
    let mut model = ReadModel::new();
    model.apply(&response(1, &stakeholder(0)));
    let first = committed_bytes(&mut model);
    for n in 1..2_000 {
        model.apply(&response(n as u64 + 1, &stakeholder(n)));
    }
    committed_bytes(&mut model);
    model.apply(&response(2_001, &stakeholder(2_000)));
    let later = committed_bytes(&mut model);
    assert!(
        later <= first + 64,
        "the 2,001st respondent's response commits {later} bytes, the first's {first}"
    );
    assert_eq!(
        surveys::results(&model, SURVEY).unwrap().responses,
        2_001,
        "every response is counted"
    );
}

#[test]
fn respondents_kept_in_a_survey_row_stored_before_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SledStorage::open(dir.path()).unwrap();
    // As an earlier version stored it: two responses of `s1` in the survey's row.
    let (s1, s2) = (stakeholder(1), stakeholder(2));
    let mut old = SurveyRow {
        responses: 2,
        ..SurveyRow::default()
    };
    old.by_stakeholder.insert(s1.clone(), 2);
    storage
        .db()
        .open_tree(maillage_projections::storage::TREE)
        .unwrap()
        .insert(
            storage_key("surveys", SURVEY),
            codec::to_stored(&old).unwrap(),
        )
        .unwrap();
    let mut model = storage.load().unwrap();
    model.apply(&registered(1, &s1, "64102"));
    model.apply(&registered(2, &s2, "64024"));
    model.apply(&response(1, &s1));
    model.apply(&response(2, &s2));
    storage.commit(model.take_changes().unwrap()).unwrap();

    let model = storage.load().unwrap();
    let results = surveys::results(&model, SURVEY).unwrap();
    assert_eq!(results.responses, 4);
    let by_commune: Vec<(String, u64)> = results
        .responses_by_commune
        .iter()
        .map(|count| (count.label.clone(), count.count))
        .collect();
    assert_eq!(
        by_commune,
        vec![("64024".to_owned(), 1), ("64102".to_owned(), 3)]
    );
}
