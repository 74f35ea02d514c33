//! Disaster recovery from the feed, end to end: `maillage up --nats` (the
//! binary) on a private nats-server (one node: the three-node cluster of
//! tests/e2e uses fixed ports and runs alone), the demo territory played,
//! then two logs lost and written back with `maillage restore`.
//!
//! The governance directory is deleted whole (governance holds no key
//! vault); the stakeholders log is dropped from its database with the key
//! vault kept, as when the vault comes back from a backup. After the
//! restores and a restart: every log has the same head (position and hash)
//! and holds the same envelopes (`EventLog.ReadAll`), a person's profile
//! opens as before, and the territory report is the same, replayed from the
//! restored logs (`as_of`) and from the live projections after a `Rebuild`.
//!
//! Then the refusals: a second restore into a restored (not empty) log, and
//! a stream that lacks one of the engagement events, after which the
//! half-restored engagement log keeps `maillage up` from starting.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use maillage::cli::client::{Authed, Connection};
use maillage_eventstore::{open_sled, SledEngine, SledOptions};
use maillage_nats_test::NatsServer;
use maillage_proto::v1 as pb;
use pb::event_log_client::EventLogClient;
use pb::projections_client::ProjectionsClient;
use pb::stakeholders_client::StakeholdersClient;
use process::{start_with_args, stop, text, wait_for_file, KillOnDrop, MAILLAGE};
use prost::Message as _;

/// A log as `EventLog` shows it: its verified head (position, hash) and
/// every envelope.
type LogView = ((u64, Vec<u8>), Vec<pb::EventEnvelope>);

/// What the platform answers, compared before the loss and after the restore.
#[derive(Debug, PartialEq)]
struct Answers {
    /// Per context.
    logs: BTreeMap<&'static str, LogView>,
    /// A person's profile, personal fields opened.
    person: pb::Stakeholder,
    /// The territory report replayed from the logs as of a fixed instant.
    replayed: String,
}

async fn answers(channel: Authed, territory: &str, as_of: prost_types::Timestamp) -> Answers {
    let mut logs = BTreeMap::new();
    let mut event_log = EventLogClient::new(channel.clone());
    for context in maillage::CONTEXTS {
        let verified = event_log
            .verify(pb::VerifyRequest {
                context: context.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(verified.intact, "{context}: {verified:?}");
        let mut envelopes = Vec::new();
        loop {
            let page = event_log
                .read_all(pb::ReadAllRequest {
                    from_position: envelopes.len() as u64 + 1,
                    limit: 1000,
                    context: context.into(),
                })
                .await
                .unwrap()
                .into_inner();
            let done = page.events.is_empty();
            envelopes.extend(page.events);
            if done || envelopes.len() as u64 == page.head_position {
                break;
            }
        }
        logs.insert(
            context,
            ((verified.position, verified.head_hash), envelopes),
        );
    }
    let person = logs["stakeholders"]
        .1
        .iter()
        .find(|envelope| envelope.event_type == "maillage.v1.PersonRegistered")
        .and_then(|envelope| envelope.stream_id.strip_prefix("stakeholder-"))
        .expect("the demo registers persons")
        .to_owned();
    let person = StakeholdersClient::new(channel.clone())
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: person,
        })
        .await
        .unwrap()
        .into_inner();
    let territory = maillage::cli::territory::resolve(territory).unwrap();
    let replayed = report(channel, &territory, Some(as_of)).await;
    Answers {
        logs,
        person,
        replayed,
    }
}

async fn report(
    channel: Authed,
    territory: &maillage_territory::TerritoryRef,
    as_of: Option<prost_types::Timestamp>,
) -> String {
    let mut data = maillage::report::gather(channel, territory, as_of)
        .await
        .unwrap();
    // When the live consortium state was computed (the clock, not the logs).
    if as_of.is_none() {
        if let Some(consortium) = data.consortium.as_mut() {
            consortium.evaluated_at = None;
        }
    }
    format!("{data:?}")
}

/// `maillage restore --context CONTEXT --from URL --data-dir DATA`.
fn restore(data: &Path, url: &str, context: &str) -> Output {
    Command::new(MAILLAGE)
        .args(["restore", "--context", context, "--from", url, "--data-dir"])
        .arg(data)
        .output()
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_logs_are_restored_from_the_stream_with_the_same_heads_and_answers() {
    let nats = NatsServer::start().await.unwrap();
    let url = nats.url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("maillage-data");
    let up_with_nats = |log: &str| {
        let (up, port) = start_with_args(
            dir.path(),
            Some(&dir.path().join(log)),
            &[],
            &["--nats", &url],
        );
        (KillOnDrop::new(up), port)
    };
    let (up, port) = up_with_nats("up-1.log");
    wait_for_file(&data.join("admin.token"));
    let mut connection = Connection {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: None,
        data_dir: data.clone(),
        purpose: None,
    };
    let outcome = maillage::demo::play(&connection, 2026, 0.02).await.unwrap();
    let channel = connection.connect().await.unwrap();
    // The projections consume the JetStream stream: once they hold every
    // position, the stream holds every event of the three logs.
    maillage::cli::catch_up::wait(channel.clone(), &outcome.positions)
        .await
        .unwrap();
    let as_of = prost_types::Timestamp::from(std::time::SystemTime::now());
    let before = answers(channel, &outcome.territory, as_of).await;
    stop(up.take());

    // The disaster: governance's directory gone, stakeholders' log gone
    // (its key vault kept, as restored from a backup).
    std::fs::remove_dir_all(data.join("governance")).unwrap();
    {
        let db = open_sled(&data.join("stakeholders"), &SledOptions::default()).unwrap();
        assert!(db.drop_tree(SledEngine::TREE).unwrap());
        db.flush().unwrap();
    }
    for context in ["governance", "stakeholders"] {
        let restored = restore(&data, &url, context);
        let stdout = text(&restored.stdout);
        assert!(
            restored.status.success(),
            "{stdout}{}",
            text(&restored.stderr)
        );
        let ((position, hash), _) = &before.logs[context];
        assert!(
            stdout.starts_with(&format!(
                "{context:<13} restored  head {position:>9}  {}\n",
                hex(hash)
            )),
            "{stdout}"
        );
        assert!(stdout.contains(" 0 refused"), "{stdout}");
        // The relay starts after the restored head: the stream has it all.
        let db = open_sled(&data.join(context), &SledOptions::default()).unwrap();
        assert_eq!(
            maillage_bus::read_checkpoint(&db, context).unwrap(),
            *position
        );
    }
    let again = restore(&data, &url, "governance");
    assert!(!again.status.success());
    let governance_head = before.logs["governance"].0 .0;
    assert!(
        text(&again.stderr).contains(&format!(
            "is not empty: it holds positions 1 to {governance_head}"
        )),
        "{}",
        text(&again.stderr)
    );

    // Restarted, it binds a port of its own again.
    let (up, port) = up_with_nats("up-2.log");
    connection.endpoint = format!("http://127.0.0.1:{port}");
    let channel = connection.connect().await.unwrap();
    let after = answers(channel.clone(), &outcome.territory, as_of).await;
    assert_eq!(after.logs, before.logs);
    assert_eq!(after.person, before.person);
    assert_eq!(after.replayed, before.replayed);
    // The live read models rebuilt from the restored logs answer the same.
    let territory = maillage::cli::territory::resolve(&outcome.territory).unwrap();
    let live_before = report(channel.clone(), &territory, None).await;
    ProjectionsClient::new(channel.clone())
        .rebuild(pb::ProjectionRebuildRequest {})
        .await
        .unwrap();
    assert_eq!(report(channel, &territory, None).await, live_before);
    stop(up.take());

    // A stream that lacks engagement's position 3 (a limit, a mistake) for
    // a lost engagement log: refused, and the platform will not start on
    // the half-restored log.
    let js = jetstream::new(async_nats::connect(&url).await.unwrap());
    let mut stream = js.get_stream(maillage_bus::STREAM_NAME).await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let envelope = pb::EventEnvelope::decode(message.payload).unwrap();
        if envelope.context == "engagement" && envelope.position == 3 {
            stream.delete_message(sequence).await.unwrap();
        }
    }
    std::fs::remove_dir_all(data.join("engagement")).unwrap();
    let incomplete = restore(&data, &url, "engagement");
    let stderr = text(&incomplete.stderr);
    assert!(!incomplete.status.success(), "{stderr}");
    assert!(
        stderr.contains("stop at position 2")
            && stderr.contains("position 3 is missing from the stream"),
        "{stderr}"
    );
    let mut refused = Command::new(MAILLAGE)
        .args(["up", "--listen", "127.0.0.1:0"])
        // Ports are ephemeral here: no web console on its fixed default port.
        .env("MAILLAGE_HTTP", "off")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while refused.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            refused.kill().unwrap();
            panic!("maillage up started on a half-restored log");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused = refused.wait_with_output().unwrap();
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("cannot open the engagement service")
            && stderr.contains("a restore of this log was started and not completed"),
        "{stderr}"
    );
}
