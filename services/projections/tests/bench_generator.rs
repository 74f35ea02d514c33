//! The rebuild bench's generator at a tiny size: a région's plan holds every
//! EPCI of the région and its communes, the generated logs replay into the
//! read models without a refusal (every EPCI has stakeholders, the times are
//! in the plan's years), and the same seed writes the same logs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

#[allow(dead_code)] // shared with examples/rebuild_bench, which uses the rest
#[path = "../examples/rebuild_bench/generator.rs"]
mod generator;

use std::collections::BTreeSet;
use std::sync::Arc;

use maillage_eventstore::EventStore;
use maillage_projections::queries::{territory, Page};
use maillage_projections::{local_sources, LiveProjection, MemoryStorage};
use maillage_territory::Territory;

/// Centre-Val de Loire.
const REGION: &str = "24";

/// Every record of the three logs: context, stream, type, payload, event
/// id, request id and recording time.
type Records = Vec<(String, String, String, Vec<u8>, String, String, i64)>;

fn records(logs: &generator::Logs) -> Records {
    let mut all = Vec::new();
    for (context, writer) in logs {
        let mut from = 1;
        loop {
            let batch = writer.store.read_all(from, 1_000).unwrap();
            let Some(last) = batch.last() else { break };
            from = last.position + 1;
            all.extend(batch.into_iter().map(|event| {
                (
                    (*context).to_owned(),
                    event.stream_id.as_str().to_owned(),
                    event.event_type.clone(),
                    event.payload.clone(),
                    event.event_id.to_string(),
                    event.metadata.request_id.clone(),
                    event
                        .recorded_at
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs() as i64,
                )
            }));
        }
    }
    all
}

fn plan(seed: u64) -> generator::Plan {
    let mut plan = generator::Plan::region(Territory::shared(), REGION, 2).unwrap();
    plan.events = 3_000;
    plan.stakeholders = 150;
    plan.seed = seed;
    plan
}

async fn generated(plan: &generator::Plan) -> (tempfile::TempDir, generator::Logs) {
    let dir = tempfile::tempdir().unwrap();
    let logs = generator::generate(dir.path(), plan).await.unwrap();
    (dir, logs)
}

#[test]
fn a_region_plan_holds_every_epci_of_the_region() {
    let cog = Territory::shared();
    let plan = plan(1);
    let expected: BTreeSet<&str> = cog
        .communes_of_region(REGION)
        .unwrap()
        .into_iter()
        .filter_map(|commune| commune.epci.as_deref())
        .collect();
    let planned: BTreeSet<&str> = plan.epcis.iter().map(|(siren, _)| siren.as_str()).collect();
    assert_eq!(planned, expected);
    assert!(planned.len() > 50, "{} EPCIs", planned.len());
    for commune in plan.communes() {
        assert_eq!(
            cog.region_of(&commune).map(|region| region.code.as_str()),
            Some(REGION),
            "{commune}"
        );
    }
    assert_eq!(plan.start, generator::END - 2 * generator::YEAR_SECONDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_logs_replay_and_cover_every_epci() {
    let cog = Territory::shared();
    let plan = plan(7);
    let (_dir, logs) = generated(&plan).await;
    let stores: Vec<(&str, EventStore)> = logs
        .iter()
        .map(|(context, writer)| (*context, writer.store.clone()))
        .collect();
    let written: u64 = logs.iter().map(|(_, writer)| writer.written).sum();
    assert!(written >= plan.events, "{written} events");
    assert!(logs.iter().all(|(_, writer)| writer.record_bytes > 0));
    for record in records(&logs) {
        assert!(
            (plan.start as i64..generator::END as i64).contains(&record.6),
            "recorded at {} outside the plan's years",
            record.6
        );
    }

    // Every event decodes and applies: a rebuild replays them all.
    let live = LiveProjection::open(Arc::new(MemoryStorage)).unwrap();
    let replayed = live.rebuild(&local_sources(&stores)).await.unwrap();
    assert_eq!(replayed, written);

    let report = territory::report(&live.read(), cog, &plan.reference().unwrap(), Page::ALL);
    assert_eq!(report.stakeholders_total, plan.stakeholders as u64);
    assert!(report.contacts > 0 && report.actions_held > 0 && report.survey_responses > 0);
    assert!(report.consortium_members > 0);
    // Every EPCI of the région has stakeholders.
    for (siren, members) in &plan.epcis {
        let located: u64 = report
            .communes
            .iter()
            .filter(|commune| members.contains(&commune.code))
            .map(|commune| commune.stakeholders)
            .sum();
        assert!(located > 0, "no stakeholder in EPCI {siren}");
    }
    for (_, store) in &stores {
        store.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_writes_the_same_logs() {
    let (_first_dir, first) = generated(&plan(11)).await;
    let (_second_dir, second) = generated(&plan(11)).await;
    let (_other_dir, other) = generated(&plan(12)).await;
    let (first, second, other) = (records(&first), records(&second), records(&other));
    assert!(!first.is_empty());
    assert_eq!(first, second, "the same seed wrote other logs");
    assert_ne!(first, other, "another seed wrote the same logs");
}
