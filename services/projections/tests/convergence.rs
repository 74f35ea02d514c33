//! The read models converge whatever the interleaving of the contexts: the
//! scenario's three logs are merged in random orders (each log's own order
//! kept), applied, and every query answer compared with the answer of a
//! sequential application. Also: a redelivered prefix changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::*;
use maillage_projections::model::ReadModel;
use maillage_projections::queries::{self, audit::AuditScope, Page};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};
use proptest::prelude::*;
use prost::Message;

/// Every query's answer, encoded: equal bytes mean equal answers.
fn answers(model: &ReadModel) -> Vec<Vec<u8>> {
    let territory = Territory::shared();
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let mut out = vec![
        queries::territory::report(model, territory, &epci, Page::ALL).encode_to_vec(),
        queries::actions::statistics(model, None).encode_to_vec(),
        queries::surveys::results(model, S1)
            .unwrap()
            .encode_to_vec(),
        queries::consortium::state(model, C1, day(50))
            .unwrap()
            .encode_to_vec(),
    ];
    let audit = queries::audit::rows(model, territory, &AuditScope::Territory(&epci), None, None);
    out.push(
        pb::ContactAuditReport {
            rows: audit,
            total: 0,
            page: None,
        }
        .encode_to_vec(),
    );
    for id in [E1, E2, E3, E4, B1, B2, P1, L1] {
        out.push(queries::timeline::timeline(model, id, Page::ALL).encode_to_vec());
    }
    out
}

fn sequential() -> Vec<Vec<u8>> {
    let logs = envelopes(&scenario());
    let mut model = ReadModel::new();
    for log in logs.values() {
        for envelope in log {
            model.apply(envelope);
        }
    }
    answers(&model)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_interleaving_gives_the_same_answers(choices in proptest::collection::vec(0usize..3, 0..200)) {
        let logs = envelopes(&scenario());
        let logs: Vec<&Vec<pb::EventEnvelope>> = logs.values().collect();
        let mut next = vec![0usize; logs.len()];
        let mut model = ReadModel::new();
        // Merge: each choice takes the next event of a log (or of the next
        // log with events left); then whatever is left, log by log, reversed.
        for choice in choices {
            for offset in 0..logs.len() {
                let log = (choice + offset) % logs.len();
                if next[log] < logs[log].len() {
                    model.apply(&logs[log][next[log]]);
                    next[log] += 1;
                    break;
                }
            }
        }
        for log in (0..logs.len()).rev() {
            for envelope in &logs[log][next[log]..] {
                model.apply(envelope);
            }
        }
        prop_assert_eq!(answers(&model), sequential());
    }

    #[test]
    fn redelivered_events_change_nothing(prefix in 0usize..60) {
        let logs = envelopes(&scenario());
        let mut model = ReadModel::new();
        for log in logs.values() {
            for envelope in log {
                model.apply(envelope);
            }
        }
        // At-least-once: a prefix of every log comes again.
        for log in logs.values() {
            for envelope in log.iter().take(prefix) {
                prop_assert_eq!(model.apply(envelope), maillage_projections::Applied::Duplicate);
            }
        }
        prop_assert_eq!(answers(&model), sequential());
    }
}

#[test]
fn a_contact_before_its_stakeholder_is_joined_once_both_arrived() {
    // The engagement and stakeholders logs applied in opposite orders.
    let logs = envelopes(&scenario());
    let mut forward = ReadModel::new();
    let mut backward = ReadModel::new();
    for context in ["governance", "engagement", "stakeholders"] {
        for envelope in &logs[context] {
            forward.apply(envelope);
        }
    }
    for context in ["stakeholders", "engagement", "governance"] {
        for envelope in &logs[context] {
            backward.apply(envelope);
        }
    }
    assert_eq!(answers(&forward), answers(&backward));
    // And the read models themselves (tables and checkpoints) are equal.
    assert_eq!(forward.all_rows().unwrap(), backward.all_rows().unwrap());
}

#[test]
fn a_model_built_for_replay_answers_as_a_live_one_and_tracks_nothing() {
    let logs = envelopes(&scenario());
    let mut live = ReadModel::new();
    let mut replayed = ReadModel::for_replay();
    for log in logs.values() {
        for envelope in log {
            live.apply(envelope);
            replayed.apply(envelope);
        }
    }
    assert_eq!(answers(&replayed), answers(&live));
    assert!(replayed.take_changes().unwrap().is_empty());
    assert!(!live.take_changes().unwrap().is_empty());
    assert_eq!(replayed.all_rows().unwrap(), live.all_rows().unwrap());
    // Streamed rows are the listed rows.
    let mut streamed = Vec::new();
    replayed
        .write_rows(|key, value| -> Result<(), serde_json::Error> {
            streamed.push((key, value));
            Ok(())
        })
        .unwrap();
    assert_eq!(streamed, replayed.all_rows().unwrap());
    assert_eq!(replayed, live);
}

#[test]
fn sled_rewrites_switch_trees_and_reopen_to_the_same_model() {
    use maillage_projections::{SledStorage, Storage};
    let logs = envelopes(&scenario());
    let mut model = ReadModel::for_replay();
    let mut half = ReadModel::for_replay();
    for log in logs.values() {
        for (index, envelope) in log.iter().enumerate() {
            model.apply(envelope);
            if index < log.len() / 2 {
                half.apply(envelope);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let storage = SledStorage::open(dir.path()).unwrap();
        // A first rewrite, changes committed on top, then rewrites that
        // replace everything (rows the last model lacks are gone).
        storage.replace_all(&model).unwrap();
        let mut live = storage.load().unwrap();
        assert_eq!(live, model);
        let extra = logs.values().next().unwrap().last().unwrap().clone();
        let mut extra = extra;
        extra.position += 1;
        live.apply(&extra);
        storage.commit(live.take_changes().unwrap()).unwrap();
        storage.replace_all(&half).unwrap();
        assert_eq!(storage.load().unwrap(), half);
        storage.replace_all(&model).unwrap();
        assert_eq!(storage.load().unwrap(), model);
        storage.replace_all(&half).unwrap();
        // The fifth rewrite: the alternate tree is current.
        storage.replace_all(&model).unwrap();
        storage.db().flush().unwrap();
    }
    // Reopened: the tree the last rewrite switched to.
    let reopened = SledStorage::open(dir.path()).unwrap().load().unwrap();
    assert_eq!(reopened, model);
    assert_eq!(answers(&reopened), answers(&model));
}
