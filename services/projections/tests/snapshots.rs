//! Snapshots of the read models for `as_of` queries (issue 17): real event
//! stores, a projection on sled that snapshots every few events as it follows
//! the logs, and a projection without snapshots (every `as_of` a full
//! replay), both queried over real gRPC. Answers from a snapshot and a tail
//! are byte-identical to a full replay's, at random instants; snapshots are
//! derived data (deleted, of another format or of other logs: the same
//! answers, and they are written again); they hold no personal data and do
//! not undo an erasure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use maillage_eventstore::FixedClock;
use maillage_projections::model::TABLES;
use maillage_projections::time::{system_time, timestamp};
use maillage_projections::{
    local_sources, queries, replay, snapshot, MemoryStorage, Projections, SharedSource,
};
use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_service_kit::auth::{Role, TokenFile, TokenStore};
use maillage_service_kit::Server;
use proptest::strategy::Strategy;
use prost::Message;
use tonic::transport::Channel;
use tonic::Request;

/// A snapshot every 5 events: the scenario's logs get several.
const EVERY: u64 = 5;

struct World {
    dir: tempfile::TempDir,
    logs: Logs,
    sources: Vec<SharedSource>,
    /// On sled, with snapshots.
    projections: Projections,
    /// The projection with snapshots, and the one without (full replays).
    fast: ProjectionsClient<Channel>,
    full: ProjectionsClient<Channel>,
    token: String,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

impl World {
    fn snapshot_dir(&self) -> PathBuf {
        self.dir.path().join("projections").join(snapshot::DIR)
    }

    fn snapshot_files(&self) -> Vec<PathBuf> {
        self.projections
            .live()
            .snapshots()
            .unwrap()
            .list()
            .unwrap()
            .into_iter()
            .map(|(_, path)| path)
            .collect()
    }
}

async fn serve(
    projections: &Projections,
    tokens: &Path,
) -> (ProjectionsClient<Channel>, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let clock = Arc::new(FixedClock::new(system_time(day(50))));
    let server = Server::builder(TokenStore::open(tokens).unwrap())
        .add_service(projections.service(clock).into_server());
    tokio::spawn(server.serve_with_shutdown(listener, Vec::new(), async {
        let _ = stopped.await;
    }));
    let client = ProjectionsClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    (client, stop)
}

/// Appends `events` one by one, each applied by `projections` before the
/// next (so that its batches, and its snapshots, are every few events).
async fn append_followed(logs: &Logs, projections: &Projections, events: &[Ev]) {
    for event in events {
        logs.append(std::slice::from_ref(event)).await;
        let head = logs.store(event.context).head().position;
        projections.live().wait_for(event.context, head).await;
    }
}

/// The scenario appended event by event while the snapshotting projection
/// follows the logs.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    let sources = local_sources(&logs.pairs());
    let projections =
        Projections::open_with_snapshots(&dir.path().join("projections"), sources.clone(), EVERY)
            .unwrap();
    projections.spawn_direct(&logs.pairs()).unwrap();
    append_followed(&logs, &projections, &scenario()).await;
    let without = Projections::with_storage(Arc::new(MemoryStorage), sources.clone()).unwrap();
    let tokens = dir.path().join("tokens");
    let token = TokenFile::add(&tokens, "ana", &[Role::Analyst, Role::Auditor]).unwrap();
    let (fast, fast_stop) = serve(&projections, &tokens).await;
    let (full, full_stop) = serve(&without, &tokens).await;
    World {
        dir,
        logs,
        sources,
        projections,
        fast,
        full,
        token,
        stops: vec![fast_stop, full_stop],
    }
}

fn req<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn epci() -> Option<pb::TerritoryRef> {
    Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: EPCI.into(),
    })
}

/// A reply's bytes, or its status code and message.
fn bytes<M: Message>(reply: Result<tonic::Response<M>, tonic::Status>) -> Result<Vec<u8>, String> {
    reply
        .map(|reply| reply.into_inner().encode_to_vec())
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
}

/// The encoded replies of the `as_of` queries at `at` (µs).
async fn answers(
    client: &ProjectionsClient<Channel>,
    token: &str,
    at: i64,
) -> Vec<Result<Vec<u8>, String>> {
    let mut client = client.clone();
    let as_of = Some(timestamp(at));
    let territory = pb::TerritoryEngagementRequest {
        territory: epci(),
        as_of,
        page: None,
    };
    let audit = pb::ContactAuditRequest {
        scope: Some(pb::contact_audit_request::Scope::Territory(epci().unwrap())),
        as_of,
        ..Default::default()
    };
    let mut out = vec![
        bytes(
            client
                .get_territory_engagement(req(territory.clone(), token))
                .await,
        ),
        bytes(
            client
                .export_report(req(
                    pb::ExportReportRequest {
                        with_provenance: false,
                        format: pb::ExportFormat::Csv as i32,
                        report: Some(pb::export_report_request::Report::TerritoryEngagement(
                            territory,
                        )),
                    },
                    token,
                ))
                .await,
        ),
        bytes(client.get_contact_audit(req(audit, token)).await),
        bytes(
            client
                .list_follow_ups(req(
                    pb::FollowUpListRequest {
                        as_of,
                        include_completed: true,
                        ..Default::default()
                    },
                    token,
                ))
                .await,
        ),
        bytes(
            client
                .get_stakeholder_map(req(
                    pb::StakeholderMapRequest {
                        territory: epci(),
                        as_of,
                        ..Default::default()
                    },
                    token,
                ))
                .await,
        ),
        bytes(
            client
                .get_consortium_state(req(
                    pb::ConsortiumStateRequest {
                        consortium_id: C1.into(),
                        as_of,
                    },
                    token,
                ))
                .await,
        ),
    ];
    for id in [E1, E2, P1] {
        out.push(bytes(
            client
                .get_stakeholder_timeline(req(
                    pb::StakeholderTimelineRequest {
                        stakeholder_id: id.into(),
                        as_of,
                        page: None,
                    },
                    token,
                ))
                .await,
        ));
    }
    out
}

/// The replies with snapshots equal those of full replays at `at`.
async fn same_answers(world: &World, at: i64) {
    let fast = answers(&world.fast, &world.token, at).await;
    let full = answers(&world.full, &world.token, at).await;
    assert_eq!(fast, full, "as_of {at}");
}

/// The instants the scenario's events were recorded at.
fn instants() -> Vec<i64> {
    let mut instants: Vec<i64> = scenario().iter().map(|event| event.at).collect();
    instants.dedup();
    instants
}

#[test]
fn as_of_answers_from_a_snapshot_and_a_tail_are_those_of_a_full_replay() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(world());
    let written = world.snapshot_files().len();
    assert!(
        written >= 3,
        "{written} snapshots written as the logs were followed"
    );

    // A snapshot is used: the model of the end is loaded from the latest one.
    let snapshots = world.projections.live().snapshots().unwrap();
    let latest = snapshots.list().unwrap()[0].0;
    let loaded = runtime
        .block_on(snapshots.load_as_of(&world.sources, day(1_000), queries::territory::TABLES))
        .unwrap()
        .expect("a snapshot at or before the end");
    assert_eq!(snapshot::events(&loaded), latest);

    // Random instants, and the instants of the events (a tie with an event
    // includes it) and just before them.
    let events = instants();
    let exact = proptest::sample::select(events.clone()).prop_flat_map(|at| {
        proptest::prop_oneof![
            proptest::strategy::Just(at),
            proptest::strategy::Just(at - 1)
        ]
    });
    let strategy = proptest::prop_oneof![day(-1_002)..day(62), exact];
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 64,
        ..proptest::test_runner::Config::default()
    });
    runner
        .run(&strategy, |at| {
            runtime.block_on(async {
                same_answers(&world, at).await;
                // Every table as a full replay gives it.
                let from_snapshot =
                    replay::replay_as_of_from(Some(snapshots.as_ref()), &world.sources, at, TABLES)
                        .await
                        .unwrap();
                let full = replay::replay_as_of(&world.sources, at).await.unwrap();
                assert!(from_snapshot == full, "the read models as_of {at}");
            });
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_snapshots_changes_no_answer_and_they_are_written_again() {
    let world = world().await;
    let at = [day(3), day(20), day(41), day(1_000)];
    let mut before = Vec::new();
    for at in at {
        before.push(answers(&world.fast, &world.token, at).await);
    }
    for path in world.snapshot_files() {
        std::fs::remove_file(path).unwrap();
    }
    assert!(world.snapshot_files().is_empty());
    for (at, before) in at.into_iter().zip(before) {
        assert_eq!(answers(&world.fast, &world.token, at).await, before);
        same_answers(&world, at).await;
    }
    // The replays that found none kept their read models as snapshots.
    assert!(!world.snapshot_files().is_empty());
}

/// Rewrites the format version of the snapshot at `path`.
fn set_version(path: &Path, version: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[snapshot::MAGIC.len()..snapshot::MAGIC.len() + 4].copy_from_slice(&version.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_another_format_is_ignored_deleted_and_written_again() {
    let world = world().await;
    let old = world.snapshot_files();
    for path in &old {
        set_version(path, snapshot::FORMAT_VERSION + 1);
    }
    for at in [day(41), day(1_000)] {
        same_answers(&world, at).await;
    }
    let now = world.snapshot_files();
    assert!(!now.is_empty(), "written again");
    for path in &now {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(
            bytes[snapshot::MAGIC.len()..snapshot::MAGIC.len() + 4],
            snapshot::FORMAT_VERSION.to_le_bytes()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_other_logs_is_ignored_and_deleted() {
    let world = world().await;
    // The same scenario in other logs: the same positions, other hashes.
    let other = tempfile::tempdir().unwrap();
    let logs = Logs::open(&other.path().join("logs"));
    let projections = Projections::open_with_snapshots(
        &other.path().join("projections"),
        local_sources(&logs.pairs()),
        EVERY,
    )
    .unwrap();
    projections.spawn_direct(&logs.pairs()).unwrap();
    append_followed(&logs, &projections, &scenario()).await;
    let foreign = projections.live().snapshots().unwrap().list().unwrap();
    assert!(!foreign.is_empty());
    for path in world.snapshot_files() {
        std::fs::remove_file(path).unwrap();
    }
    let mut copied = Vec::new();
    for (_, path) in &foreign {
        let copy = world.snapshot_dir().join(path.file_name().unwrap());
        std::fs::copy(path, &copy).unwrap();
        copied.push((copy, std::fs::read(path).unwrap()));
    }
    for at in [day(3), day(41), day(1_000)] {
        same_answers(&world, at).await;
    }
    // Deleted (or replaced by a snapshot of these logs at the same positions).
    for (copy, foreign) in copied {
        assert!(
            std::fs::read(&copy).map_or(true, |bytes| bytes != foreign),
            "{} was not deleted",
            copy.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_hold_no_personal_data_and_do_not_undo_an_erasure() {
    let world = world().await;
    const X: &str = "0190a000-0000-7000-8000-0000000000ff";
    const IX: &str = "0190a000-0000-7000-8000-0000000001ff";
    let given = b"sealed-given-name-of-x-0123456789".to_vec();
    let email = b"sealed-email-of-x-0123456789abcdef".to_vec();
    let subject = b"sealed-subject-of-the-contact-with-x".to_vec();
    let registered = ev(
        "stakeholders",
        format!("stakeholder-{X}"),
        day(70),
        "alice",
        pb::PersonRegistered {
            stakeholder_id: X.into(),
            profile: Some(pb::SealedPersonProfile {
                sealed_given_name: given.clone(),
                sealed_family_name: given.clone(),
                sealed_email: email.clone(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: LIEPVRE.into(),
                ..Default::default()
            }),
            registered_at: ts(day(70)),
            registered_by: "alice".into(),
        },
    );
    let contact = ev(
        "stakeholders",
        format!("interaction-{IX}"),
        day(71),
        "alice",
        pb::InteractionLogged {
            interaction_id: IX.into(),
            participants: vec![pb::InteractionParticipant {
                stakeholder_id: X.into(),
                r#type: pb::StakeholderType::Person as i32,
            }],
            channel: pb::InteractionChannel::Phone as i32,
            occurred_at: ts(day(71)),
            sealed_subject: subject.clone(),
            sealed_notes: subject.clone(),
            themes: vec![1],
            logged_at: ts(day(71)),
            facilitator: "alice".into(),
            ..Default::default()
        },
    );
    world.logs.append(&[registered, contact]).await;
    for (context, head) in world.logs.heads() {
        world.projections.live().wait_for(context, head).await;
    }
    let snapshots = world.projections.live().snapshots().unwrap();
    let written = snapshots
        .write(&world.projections.live().read())
        .unwrap()
        .unwrap();
    for path in world.snapshot_files() {
        let bytes = std::fs::read(&path).unwrap();
        for sealed in [&given, &email, &subject] {
            assert!(
                !bytes
                    .windows(sealed.len())
                    .any(|window| window == sealed.as_slice()),
                "{} holds sealed bytes",
                path.display()
            );
        }
    }

    // Erased after the snapshot: an as_of after it, from the snapshot and
    // the tail, shows the erasure.
    let erased = ev(
        "stakeholders",
        format!("stakeholder-{X}"),
        day(72),
        "admin",
        pb::PersonErased {
            stakeholder_id: X.into(),
            erased_at: ts(day(72)),
            reason: "RGPD art. 17 #2".into(),
            interaction_ids: vec![IX.into()],
            erased_by: "admin".into(),
        },
    );
    world.logs.append(&[erased]).await;
    for (context, head) in world.logs.heads() {
        world.projections.live().wait_for(context, head).await;
    }
    let loaded = snapshots
        .load_as_of(&world.sources, day(73), TABLES)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        snapshot::events(&loaded),
        snapshot::events(&world.projections.live().read()) - 1,
        "the snapshot {} is before the erasure",
        written.display()
    );
    let model =
        replay::replay_as_of_from(Some(snapshots.as_ref()), &world.sources, day(73), TABLES)
            .await
            .unwrap();
    assert!(model.stakeholders.get(X).unwrap().erased);
    assert!(model.interactions.get(IX).unwrap().erased);
    assert!(model == replay::replay_as_of(&world.sources, day(73)).await.unwrap());
    same_answers(&world, day(73)).await;
}
