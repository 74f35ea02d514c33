//! The read models converge whatever the interleaving of the contexts: the
//! scenario's three logs are merged in random orders (each log's own order
//! kept), applied, and every query answer compared with the answer of a
//! sequential application. Also: a redelivered prefix changes nothing.

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
