//! The live read models on sled keep the stakeholders' timeline facts in the
//! database only (issue 17, bounded memory): after a batch is committed, a
//! timeline is read from the current tree — taking the rows out of the tree
//! takes them out of the answers — and after a rebuild's switch, from the
//! tree the rebuild wrote. Answers are those of a replay in memory throughout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::*;
use maillage_projections::model::{storage_key, ReadModel};
use maillage_projections::queries::{timeline, Page};
use maillage_projections::{local_sources, storage, LiveProjection, SledStorage};
use maillage_proto::v1 as pb;

/// Every stakeholder's timeline in `model`, by id.
fn timelines(model: &ReadModel, ids: &[String]) -> Vec<pb::StakeholderTimeline> {
    ids.iter()
        .map(|id| timeline::timeline(model, id, Page::ALL))
        .collect()
}

/// How many timeline entries were recorded by the engagement and governance
/// logs (the facts of the `timeline` table; contacts and registrations are
/// joined from other tables).
fn facts(timelines: &[pb::StakeholderTimeline]) -> usize {
    timelines
        .iter()
        .flat_map(|timeline| &timeline.entries)
        .filter(|entry| entry.context != "stakeholders")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_models_on_sled_read_the_timeline_from_the_current_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, envelopes, reference) = scenario_and_its_replay(&dir.path().join("logs")).await;
    let ids: Vec<String> = reference
        .stakeholders
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let expected = timelines(&reference, &ids);
    assert!(facts(&expected) > 0, "the scenario records timeline facts");

    // Followed batch by batch, as the consumer does.
    let path = dir.path().join("projections");
    let live = followed_on_sled(&path, &envelopes, 7);
    assert_eq!(timelines(&live.read(), &ids), expected);

    // Loaded at start: the same answers.
    drop(live);
    let storage = Arc::new(SledStorage::open(&path).unwrap());
    let live = LiveProjection::open(storage.clone()).unwrap();
    assert_eq!(timelines(&live.read(), &ids), expected);

    // The facts are read from the current tree: removed there, gone.
    assert!(remove_rows(&storage, "timeline") > 0);
    assert_eq!(facts(&timelines(&live.read(), &ids)), 0);

    // A rebuild writes them into the other tree and switches to it.
    live.rebuild(&local_sources(&logs.pairs())).await.unwrap();
    let alternate = storage.db().open_tree(storage::ALTERNATE_TREE).unwrap();
    assert!(alternate
        .scan_prefix(storage_key("timeline", ""))
        .next()
        .is_some());
    assert_eq!(timelines(&live.read(), &ids), expected);
}
