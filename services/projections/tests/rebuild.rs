//! A rebuild on a real sled read-model database leaves the previous read
//! models answering while the rebuilt rows are written: a query, and a
//! batch of deliveries, made while the storage is writing them (held there
//! by a pause around the real `SledStorage`) are answered and applied — the
//! rewrite used to hold the write lock from start to end — and afterwards
//! the rebuilt models, in memory and on disk, are those of a full replay.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use maillage_projections::model::{Change, CurrentTree, ReadModel};
use maillage_projections::queries::{territory, Page};
use maillage_projections::{
    local_sources, replay, LiveProjection, RebuildProgress, SledStorage, Storage, StorageError,
};
use maillage_territory::{Territory, TerritoryRef};

/// How long a step may take before the test fails rather than hangs.
const PATIENCE: Duration = Duration::from_secs(30);

/// The real sled storage, whose `prepare` (the rebuilt rows written beside
/// the current ones) says it has written them, then waits to be resumed.
struct Paused {
    inner: SledStorage,
    written: Mutex<mpsc::Sender<()>>,
    resume: Mutex<mpsc::Receiver<()>>,
}

impl Storage for Paused {
    fn load(&self) -> Result<ReadModel, StorageError> {
        self.inner.load()
    }

    fn commit(&self, changes: Vec<Change>) -> Result<(), StorageError> {
        self.inner.commit(changes)
    }

    fn begin_rewrite(&self) -> Result<Option<CurrentTree>, StorageError> {
        self.inner.begin_rewrite()
    }

    fn write_ahead(&self, rows: Vec<Change>) -> Result<(), StorageError> {
        self.inner.write_ahead(rows)
    }

    fn prepare(&self, model: &ReadModel) -> Result<(), StorageError> {
        self.inner.prepare(model)?;
        self.written.lock().unwrap().send(()).unwrap();
        self.resume.lock().unwrap().recv_timeout(PATIENCE).unwrap();
        Ok(())
    }

    fn switch(&self, changes: Vec<Change>) -> Result<(), StorageError> {
        self.inner.switch(changes)
    }

    fn release_previous(&self) -> Result<(), StorageError> {
        self.inner.release_previous()
    }

    fn keep_on_disk(&self, model: &mut ReadModel) {
        self.inner.keep_on_disk(model);
    }
}

/// Runs `work` on a thread of its own; its result, or a failure after [`PATIENCE`].
fn within<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("{what} waited for the rebuild"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_deliveries_go_on_while_a_rebuild_writes_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    logs.append(&scenario()).await;
    let sources = local_sources(&logs.pairs());
    let (written, on_written) = mpsc::channel();
    let (resume, on_resume) = mpsc::channel();
    let storage = Arc::new(Paused {
        inner: SledStorage::open(&dir.path().join("projections")).unwrap(),
        written: Mutex::new(written),
        resume: Mutex::new(on_resume),
    });
    let live = Arc::new(LiveProjection::open(storage.clone()).unwrap());
    let rebuild = {
        let (live, sources) = (live.clone(), sources.clone());
        tokio::spawn(async move { live.rebuild(&sources).await })
    };
    tokio::task::spawn_blocking(move || on_written.recv_timeout(PATIENCE).unwrap())
        .await
        .unwrap();

    // Its progress says it runs, every event replayed (the live models were
    // empty: nothing was expected).
    let progress = live.rebuild_progress();
    assert!(progress.running);
    assert_eq!(progress.expected, 0);
    let mut all = ReadModel::for_replay();
    let total = replay::replay_into(&mut all, &sources, None).await.unwrap();
    assert_eq!(progress.replayed, total);

    // The rows are written, not yet switched to: the previous (empty)
    // models answer, and a delivery is applied and committed.
    let reader = live.clone();
    let report = within("a query", move || {
        let epci = TerritoryRef::epci(EPCI).unwrap();
        territory::report(&reader.read(), Territory::shared(), &epci, Page::ALL)
    });
    assert_eq!(report.contacts, 0);
    assert_eq!(report.stakeholders_total, 0);
    let first = sources[0].read(1, 1).await.unwrap();
    let writer = live.clone();
    let outcome = within("a delivery", move || writer.apply_batch(&first).unwrap());
    assert_eq!(outcome.applied, 1);

    resume.send(()).unwrap();
    let replayed = tokio::time::timeout(PATIENCE, rebuild)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mut full = ReadModel::for_replay();
    let events = replay::replay_into(&mut full, &sources, None)
        .await
        .unwrap();
    assert_eq!(replayed, events);
    assert_eq!(live.rebuild_progress(), RebuildProgress::default(), "done");
    assert!(*live.read() == full);
    assert!(storage.inner.load().unwrap() == full);
    let epci = TerritoryRef::epci(EPCI).unwrap();
    assert!(territory::report(&live.read(), Territory::shared(), &epci, Page::ALL).contacts > 0);
}
