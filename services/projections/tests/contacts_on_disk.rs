//! The live read models on sled keep the contacts (`interactions`, a row per
//! logged contact) in the database only (issue 17, bounded memory): every
//! query that reads them — the territory report, the audit, the follow-ups,
//! the stakeholder map, a timeline — reads the current tree, and the
//! projector reads a stored contact back when a later batch corrects it,
//! completes its follow-ups or erases a participant. Taking the rows out of
//! the tree takes them out of the answers; a rebuild writes them into the
//! other tree as it goes and switches to it. Answers, and the snapshot's
//! section of the table, are those of a replay in memory throughout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::*;
use maillage_projections::model::{storage_key, ReadModel};
use maillage_projections::queries::{self, audit::AuditScope, follow_ups::Filter, territory, Page};
use maillage_projections::{local_sources, storage, LiveProjection, SledStorage};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};
use prost::Message;

/// Every answer that reads the contacts, encoded: equal bytes mean equal answers.
fn answers(model: &ReadModel) -> Vec<Vec<u8>> {
    let cog = Territory::shared();
    let epci = TerritoryRef::epci(EPCI).unwrap();
    let now = day(50);
    let mut out = vec![
        territory::report_at(model, cog, &epci, Page::ALL, now).encode_to_vec(),
        queries::stakeholder_map::map(model, cog, &epci, 30, now).encode_to_vec(),
    ];
    let mut audits = vec![queries::audit::rows(
        model,
        cog,
        &AuditScope::Territory(&epci),
        None,
        None,
    )];
    let follow_ups = queries::follow_ups::list(
        model,
        cog,
        &Filter {
            include_completed: true,
            ..Filter::default()
        },
        now,
    );
    let (open, overdue) = queries::follow_ups::open_and_overdue(model, cog, &epci, now);
    out.push(format!("{follow_ups:?} {open} {overdue}").into_bytes());
    for id in [E1, E2, E3, E4, B1, B2, P1, L1] {
        out.push(queries::timeline::timeline(model, id, Page::ALL).encode_to_vec());
        audits.push(queries::audit::rows(
            model,
            cog,
            &AuditScope::Stakeholder(id),
            None,
            None,
        ));
        out.push(vec![u8::from(queries::joins::in_a_contact(model, id))]);
    }
    for rows in audits {
        out.push(
            pb::ContactAuditReport {
                rows,
                total: 0,
                page: None,
            }
            .encode_to_vec(),
        );
    }
    out
}

/// The snapshot section of the contacts.
fn section(model: &ReadModel) -> Vec<u8> {
    let mut bytes = Vec::new();
    model.encode_table("interactions", &mut bytes).unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_models_on_sled_read_the_contacts_from_the_current_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, envelopes, reference) = scenario_and_its_replay(&dir.path().join("logs")).await;
    let expected = answers(&reference);
    let report = territory::report(&reference, Territory::shared(), &epci(), Page::ALL);
    assert!(report.contacts > 0, "the scenario logs contacts");

    // Followed a few events per batch, as the consumer does: the
    // corrections, follow-ups and erasure of a contact come in later
    // batches than its logging, and read its stored row.
    let path = dir.path().join("projections");
    let live = followed_on_sled(&path, &envelopes, 3);
    assert_eq!(answers(&live.read()), expected);
    assert_eq!(section(&live.read()), section(&reference));
    assert!(*live.read() == reference);

    // Loaded at start: the same answers.
    drop(live);
    let storage = Arc::new(SledStorage::open(&path).unwrap());
    let live = LiveProjection::open(storage.clone()).unwrap();
    assert_eq!(answers(&live.read()), expected);
    assert_eq!(section(&live.read()), section(&reference));

    // The contacts are read from the current tree: removed there, gone.
    assert!(remove_rows(&storage, "interactions") > 0);
    let emptied = territory::report(&live.read(), Territory::shared(), &epci(), Page::ALL);
    assert_eq!(emptied.contacts, 0);
    assert_ne!(answers(&live.read()), expected);

    // A rebuild writes them into the other tree, reading back those a later
    // event changes, and switches to it.
    live.rebuild(&local_sources(&logs.pairs())).await.unwrap();
    let alternate = storage.db().open_tree(storage::ALTERNATE_TREE).unwrap();
    assert!(alternate
        .scan_prefix(storage_key("interactions", ""))
        .next()
        .is_some());
    assert_eq!(answers(&live.read()), expected);
    assert_eq!(section(&live.read()), section(&reference));
}

fn epci() -> TerritoryRef {
    TerritoryRef::epci(EPCI).unwrap()
}
