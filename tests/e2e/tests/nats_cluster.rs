//! The three-node NATS JetStream cluster of `deploy/nats/` under the real
//! service binaries, losing a node mid-load.
//!
//! Starts `nats-server` three times from `deploy/nats/node-{a,b,c}.conf`
//! (fixed loopback ports 14222-14224, 16222-16224, 18222-18224; a temporary
//! store directory each; the users of `deploy/nats/authorization.conf` with
//! fresh passwords), creates `MAILLAGE_EVENTS` with 3 replicas as admin, runs
//! the command services and the projections against the three URLs, each as
//! its own NATS user, logs a few
//! hundred interactions from concurrent tasks, SIGKILLs the node leading the
//! stream once half of them are acknowledged, and goes on. Then every
//! acknowledged interaction must be in the projections (the contact audit),
//! and the stream must hold every event of the stakeholders' log exactly once.
//!
//! The ports are fixed by the configuration, so this is the only test of the
//! workspace that uses them, it is this binary's only test, and it takes a
//! lock file so that two runs (two checkouts, two target directories) never
//! overlap; a port taken by something else fails the test with its number.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_service_kit::Role;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use futures::TryStreamExt;
use maillage_e2e::clients::{bearer, Clients, Secrets};
use maillage_e2e::cluster::Processes;
use maillage_e2e::nats_users::NatsUsers;
use maillage_e2e::scenario::{self, day, LIEPVRE};
use maillage_nats_test::nats_server_binary;
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use tokio::process::{Child, Command};

/// The nodes of deploy/nats: (name, client port, cluster port, monitoring port).
const NODES: [(&str, u16, u16, u16); 3] = [
    ("a", 14222, 16222, 18222),
    ("b", 14223, 16223, 18223),
    ("c", 14224, 16224, 18224),
];
/// The URL list the services get (deploy/nats/README.md).
const URLS: &str = "nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224";

/// Concurrent writers, and interactions each logs.
const WRITERS: usize = 4;
const PER_WRITER: usize = 75;

/// Bounds of the waits (never timing assertions).
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60);
// One run of the projections' catch-up after the kill took ~45 s here.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (tests/e2e/../..).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The last lines of a log, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Holds the cross-process lock of this test until dropped.
struct RunLock(#[allow(dead_code)] std::fs::File);

impl RunLock {
    fn take() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join("maillage-nats-cluster-test.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self(file)),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another run of the NATS cluster test holds {} (the ports of deploy/nats are \
                 fixed, so runs cannot overlap): wait for it to finish",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

/// One nats-server of the cluster.
struct Node {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

/// The three nodes, in temporary store directories. Dropping it SIGKILLs
/// every node still running (kill_on_drop), e.g. when the test panics.
struct NatsCluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Checks the nine ports are free, then starts the three nodes.
    fn start(users: &NatsUsers) -> anyhow::Result<Self> {
        let binary = nats_server_binary()?;
        for (name, client, cluster, monitoring) in NODES {
            for (what, port) in [
                ("client", client),
                ("cluster", cluster),
                ("monitoring", monitoring),
            ] {
                if let Err(error) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                    bail!(
                        "port 127.0.0.1:{port} ({what} port of NATS node {name}, fixed by \
                         deploy/nats/node-{name}.conf) is not free: {error}. Stop whatever holds \
                         it (a leftover nats-server? `ss -ltnp | grep {port}`) and rerun"
                    );
                }
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("maillage-nats-cluster-")
            .tempdir()?;
        let mut nodes = Vec::new();
        for (name, ..) in NODES {
            let config = workspace().join(format!("deploy/nats/node-{name}.conf"));
            let store = dir.path().join(name);
            std::fs::create_dir_all(&store)?;
            let log = dir.path().join(format!("nats-{name}.log"));
            let out = std::fs::File::create(&log)?;
            let child = Command::new(&binary)
                .envs(users.server_env())
                .arg("-c")
                .arg(&config)
                .arg("-sd")
                .arg(&store)
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out)
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("cannot start {} for node {name}", binary.display()))?;
            nodes.push(Node {
                name,
                child: Some(child),
                log,
            });
        }
        Ok(Self { nodes, _dir: dir })
    }

    /// Fails if a node that should run has exited.
    fn check_running(&mut self) -> anyhow::Result<()> {
        for node in &mut self.nodes {
            if let Some(child) = node.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "NATS node {} exited with {status}:\n{}",
                        node.name,
                        tail(&node.log)
                    );
                }
            }
        }
        Ok(())
    }

    /// SIGKILLs node `name` and reaps it.
    async fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let node = self
            .nodes
            .iter_mut()
            .find(|node| node.name == name)
            .with_context(|| format!("no NATS node {name}"))?;
        let mut child = node.child.take().context("node already stopped")?;
        child.kill().await?; // SIGKILL, then wait.
        Ok(())
    }

    /// SIGTERMs every running node and waits (bounded) for each to exit.
    async fn stop(mut self) -> anyhow::Result<()> {
        for node in &mut self.nodes {
            let Some(mut child) = node.child.take() else {
                continue;
            };
            let pid = child.id().context("nats-server already reaped")?;
            Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await?;
            match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
                // nats-server 2.9 exits with status 1 after a clean SIGTERM
                // shutdown ("Server Exiting.."): the status says nothing.
                Ok(status) => drop(status?),
                Err(_) => {
                    child.kill().await?;
                    bail!(
                        "NATS node {} did not exit within {STOP_TIMEOUT:?}",
                        node.name
                    );
                }
            }
        }
        Ok(())
    }
}

/// Waits until the cluster has a JetStream meta leader and takes an R3
/// `MAILLAGE_EVENTS`; returns the connected JetStream context.
async fn create_r3_stream(
    cluster: &mut NatsCluster,
    users: &NatsUsers,
) -> anyhow::Result<async_nats::jetstream::Context> {
    let deadline = tokio::time::Instant::now() + CLUSTER_TIMEOUT;
    loop {
        cluster.check_running()?;
        let attempt = async {
            let client = maillage_bus::connect(&users.config(URLS, "admin"), "admin").await?;
            let jetstream = async_nats::jetstream::new(client);
            let mut stream = maillage_bus::ensure_stream(&jetstream, 3).await?;
            let replicas = stream.info().await?.config.num_replicas;
            anyhow::ensure!(replicas == 3, "MAILLAGE_EVENTS has {replicas} replicas");
            anyhow::Ok(jetstream)
        };
        let last_error = match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(jetstream)) => return Ok(jetstream),
            Ok(Err(error)) => format!("{error:#}"),
            Err(_) => "timed out".to_owned(),
        };
        if tokio::time::Instant::now() >= deadline {
            bail!("the NATS cluster did not take an R3 MAILLAGE_EVENTS within {CLUSTER_TIMEOUT:?}: {last_error}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The node ("a", "b" or "c") leading `MAILLAGE_EVENTS`, else "b".
async fn stream_leader(jetstream: &async_nats::jetstream::Context) -> &'static str {
    let leader = async {
        let mut stream = jetstream.get_stream(maillage_bus::STREAM_NAME).await.ok()?;
        let info = stream.info().await.ok()?;
        info.cluster.as_ref()?.leader.clone()
    };
    let leader = tokio::time::timeout(Duration::from_secs(5), leader)
        .await
        .ok()
        .flatten();
    let node = NODES
        .iter()
        .map(|(name, ..)| *name)
        .find(|name| leader.as_deref() == Some(format!("maillage-{name}").as_str()));
    eprintln!("MAILLAGE_EVENTS's leader: {leader:?}");
    node.unwrap_or("b")
}

/// Registers the person the load's interactions are with.
async fn register_person(clients: &mut Clients) -> anyhow::Result<pb::CommandReply> {
    let request = pb::RegisterPersonRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        profile: Some(pb::PersonProfile {
            given_name: "Camille".into(),
            family_name: "Charge".into(),
            kinds: vec![pb::PersonKind::Inhabitant as i32],
            commune_code: LIEPVRE.into(),
            email: "camille.charge@example.org".into(),
            ..Default::default()
        }),
        mandates: vec![],
    };
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    Ok(clients
        .stakeholders
        .register_person(bearer(&token, request)?)
        .await
        .context("register the person")?
        .into_inner())
}

/// What the writers saw: acknowledged interactions (id, position), failures.
#[derive(Default)]
struct Load {
    acknowledged: Vec<(String, u64)>,
    acknowledged_after_kill: usize,
    failures: Vec<String>,
}

/// One writer: logs `PER_WRITER` interactions with `person`.
async fn writer(
    mut clients: Clients,
    person: String,
    writer: usize,
    acked: Arc<AtomicUsize>,
    killed: Arc<std::sync::atomic::AtomicBool>,
    load: Arc<Mutex<Load>>,
) {
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    for n in 0..PER_WRITER {
        let request = pb::LogInteractionRequest {
            axis_ids: Default::default(),
            topics: Default::default(),
            request_id: uuid::Uuid::now_v7().to_string(),
            participant_ids: vec![person.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some(day(n as i64 % 28, writer as i64)),
            subject: format!("Appel {writer}-{n}"),
            notes: String::new(),
            themes: vec![pb::InteractionTheme::TiersLieuxKinds as i32],
            follow_ups: vec![],
        };
        let reply = match bearer(&token, request) {
            Ok(request) => {
                tokio::time::timeout(CALL_TIMEOUT, clients.stakeholders.log_interaction(request))
                    .await
                    .unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no reply in time")))
            }
            Err(error) => {
                load.lock().unwrap().failures.push(format!("{error:#}"));
                continue;
            }
        };
        let mut load = load.lock().unwrap();
        match reply {
            Ok(reply) => {
                let reply = reply.into_inner();
                load.acknowledged.push((reply.id, reply.position));
                if killed.load(Ordering::SeqCst) {
                    load.acknowledged_after_kill += 1;
                }
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Err(status) => load.failures.push(format!("{writer}-{n}: {status}")),
        }
    }
}

/// Every interaction id in the contact audit of `person` (all pages).
async fn audited(clients: &mut Clients, person: &str) -> anyhow::Result<BTreeSet<String>> {
    use pb::contact_audit_request::Scope;
    let token = clients.tokens.of(Role::Auditor).to_owned();
    let mut ids = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ContactAuditRequest {
            scope: Some(Scope::StakeholderId(person.to_owned())),
            page: Some(pb::PageRequest {
                page_size: 500,
                page_token: page_token.clone(),
            }),
            ..Default::default()
        };
        let report = clients
            .projections
            .get_contact_audit(bearer(&token, request)?)
            .await
            .context("contact audit")?
            .into_inner();
        ids.extend(report.rows.into_iter().map(|row| row.interaction_id));
        page_token = report.page.map(|p| p.next_page_token).unwrap_or_default();
        if page_token.is_empty() {
            return Ok(ids);
        }
    }
}

/// How many messages `MAILLAGE_EVENTS` holds on `context`'s subjects, once
/// it holds at least `expected` of them (bounded wait).
async fn stream_messages(
    jetstream: &async_nats::jetstream::Context,
    context: &str,
    expected: u64,
) -> anyhow::Result<u64> {
    let filter = format!("maillage.events.{context}.>");
    let deadline = tokio::time::Instant::now() + CATCH_UP_TIMEOUT;
    loop {
        let count = async {
            let stream = jetstream.get_stream(maillage_bus::STREAM_NAME).await?;
            let mut subjects = stream.info_with_subjects(&filter).await?;
            let mut total = 0;
            while let Some((_, count)) = subjects.try_next().await? {
                total += count as u64;
            }
            anyhow::Ok(total)
        };
        let count = tokio::time::timeout(Duration::from_secs(10), count).await;
        if let Ok(Ok(count)) = count {
            if count >= expected || tokio::time::Instant::now() >= deadline {
                return Ok(count);
            }
        } else if tokio::time::Instant::now() >= deadline {
            bail!("cannot read MAILLAGE_EVENTS's subjects: {count:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_event_is_lost_when_a_nats_node_dies() {
    let started = std::time::Instant::now();
    let _lock = RunLock::take().unwrap();
    let users = NatsUsers::generate();
    let mut nats = NatsCluster::start(&users).unwrap();
    let jetstream = create_r3_stream(&mut nats, &users).await.unwrap();
    eprintln!("cluster up with an R3 stream after {:?}", started.elapsed());

    let secrets_dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::create(secrets_dir.path()).unwrap();
    let processes = Processes::start_on(&secrets, URLS, &users)
        .await
        .expect("the services start against the cluster");
    let mut clients = Clients::connect(processes.endpoints(), &secrets.tokens)
        .await
        .unwrap();
    let person = register_person(&mut clients).await.unwrap();

    // The load, from concurrent writers; the leader of the stream dies when
    // half of it is acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = Arc::new(Mutex::new(Load::default()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(writer(
                clients.clone(),
                person.id.clone(),
                w,
                acked.clone(),
                killed.clone(),
                load.clone(),
            ))
        })
        .collect();
    let deadline = tokio::time::Instant::now() + CATCH_UP_TIMEOUT;
    while acked.load(Ordering::SeqCst) < WRITERS * PER_WRITER / 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "half the load was not acknowledged within {CATCH_UP_TIMEOUT:?}: {:?}",
            load.lock().unwrap().failures
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let victim = stream_leader(&jetstream).await;
    nats.kill(victim).await.unwrap();
    killed.store(true, Ordering::SeqCst);
    eprintln!(
        "SIGKILLed NATS node {victim} after {} acknowledged interactions",
        acked.load(Ordering::SeqCst)
    );
    for writer in writers {
        writer.await.unwrap();
    }
    nats.check_running().unwrap();

    let load = std::mem::take(&mut *load.lock().unwrap());
    eprintln!(
        "{} interactions acknowledged ({} after the kill), {} failed: {:?}",
        load.acknowledged.len(),
        load.acknowledged_after_kill,
        load.failures.len(),
        load.failures
    );
    assert!(
        load.acknowledged_after_kill > 0,
        "no command was acknowledged after the NATS node died"
    );

    // The last acknowledged position per context; the projections catch up.
    let mut heads = BTreeMap::new();
    let last = load
        .acknowledged
        .iter()
        .map(|(_, position)| *position)
        .chain([person.position])
        .max()
        .unwrap();
    heads.insert("stakeholders".to_owned(), last);
    scenario::wait_for_projections(&mut clients, &heads, CATCH_UP_TIMEOUT)
        .await
        .unwrap();
    eprintln!("projections caught up after {:?}", started.elapsed());

    // Every acknowledged interaction is in the projections.
    let audit = audited(&mut clients, &person.id).await.unwrap();
    let missing: Vec<_> = load
        .acknowledged
        .iter()
        .filter(|(id, _)| !audit.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged interactions are missing from the projections: {missing:?}",
        missing.len(),
        load.acknowledged.len()
    );

    // And the R3 stream on the two surviving nodes holds every event of the
    // stakeholders' log (positions 1..=head, relayed once each: the relay
    // deduplicates by message id).
    let token = clients.tokens.of(Role::Tool).to_owned();
    let mut log = EventLogClient::connect(processes.endpoints().stakeholders.clone())
        .await
        .unwrap();
    let head = log
        .read_all(
            bearer(
                &token,
                pb::ReadAllRequest {
                    from_position: 1,
                    limit: 1,
                    context: String::new(),
                },
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .into_inner()
        .head_position;
    assert!(head >= last);
    let relayed = stream_messages(&jetstream, "stakeholders", head)
        .await
        .unwrap();
    eprintln!("stream checked after {:?}", started.elapsed());
    assert_eq!(
        relayed, head,
        "MAILLAGE_EVENTS holds {relayed} stakeholders events, the log {head}"
    );

    drop((clients, log));
    let statuses = processes.stop().await.expect("the services stop");
    for (name, status) in statuses {
        assert!(
            status.success(),
            "{name} exited with {status} after SIGTERM"
        );
    }
    nats.stop().await.unwrap();
    eprintln!("done in {:?}", started.elapsed());
}
