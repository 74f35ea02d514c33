//! Benchmark: `LogInteraction` through gRPC against the real service, compared
//! with the event store's own durable append rate, in one run.
//!
//! 1. Starts the stakeholders service in-process on 127.0.0.1 (TCP, auth,
//!    sealing, the command loop, a durable sled log in a temp dir), registers
//!    two persons and an organisation, then drives `LogInteraction` at
//!    concurrency 1, 16 and 64 (one client connection per task), each level
//!    for `--seconds`, and prints throughput and p50/p99 latency.
//! 2. The same client calls a no-op RPC (`grpc.health.v1.Health/Check`) at
//!    concurrency 64: what the gRPC transport alone allows on this machine.
//! 3. In a fresh temp dir per level, 4, 8, 16 then 64 tasks append one event at
//!    a time (`Exact(v)`, each to its own stream, payloads of the size of a
//!    logged interaction) directly to an `EventStore` for `--seconds`: the
//!    store's own durable rate, and its CPU per event as group commits grow.
//! 4. Prints the ratio of (1) at 64 to (3); the target is at least 50%.
//!
//! The clients run on a runtime of their own (threads named `bench-client`),
//! so each figure also gives the CPU time spent per call on each side: the
//! client threads' time (from `/proc/self/task/*/schedstat`) and the rest of
//! the process (from `/proc/self/stat`, exited threads included) — the
//! server, its store and sled. Both sides share the machine's cores.
//!
//! `cargo run --release -p maillage-stakeholders --example log_interaction_bench -- --seconds 20`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use hdrhistogram::Histogram;
use maillage_eventstore::{EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions};
use maillage_privacy::MasterKey;
use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use uuid::Uuid;

const LEVELS: [usize; 3] = [1, 16, 64];
/// Writers of the store's own runs: fewer writers mean smaller group
/// commits, and the flush's cost shared by fewer events. 64 comes last.
const STORE_WRITERS: [usize; 4] = [4, 8, 16, 64];

/// Name prefix of the client runtime's threads.
const CLIENT_THREADS: &str = "bench-client";
/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// CPU time used so far, in seconds: by the whole process, and by the client threads.
#[derive(Clone, Copy)]
struct CpuTime {
    process: f64,
    client: f64,
}

impl CpuTime {
    fn now() -> Result<Self> {
        Ok(Self {
            process: process_cpu_seconds()?,
            client: thread_cpu_seconds(CLIENT_THREADS)?,
        })
    }
}

/// user + system time of the whole process, exited threads included.
fn process_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/self/stat"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> Result<f64> {
        Ok(fields
            .get(index)
            .ok_or_else(|| anyhow::anyhow!("short /proc/self/stat"))?
            .parse::<f64>()?)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    Ok((ticks(11)? + ticks(12)?) / USER_HZ)
}

/// Time on CPU of the live threads whose name starts with `prefix`.
fn thread_cpu_seconds(prefix: &str) -> Result<f64> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let Ok(schedstat) = std::fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        nanos += schedstat
            .split_whitespace()
            .next()
            .unwrap_or("0")
            .parse::<u64>()?;
    }
    Ok(nanos as f64 / 1e9)
}

struct Figures {
    per_second: f64,
    count: u64,
    p50_us: u64,
    p99_us: u64,
    /// CPU time per call outside the client threads (server, store, sled), in µs.
    server_cpu_us: f64,
    /// CPU time per call of the client threads, in µs.
    client_cpu_us: f64,
}

impl Figures {
    fn new(latencies: &Histogram<u64>, elapsed: Duration, before: CpuTime) -> Result<Self> {
        let after = CpuTime::now()?;
        let count = latencies.len().max(1) as f64;
        let client = after.client - before.client;
        let server = (after.process - before.process) - client;
        Ok(Self {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            count: latencies.len(),
            p50_us: latencies.value_at_quantile(0.50),
            p99_us: latencies.value_at_quantile(0.99),
            server_cpu_us: server.max(0.0) * 1e6 / count,
            client_cpu_us: client * 1e6 / count,
        })
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>9.0}/s  ({} in all)  p50 {:>7.2} ms  p99 {:>7.2} ms  CPU per call: server {:>4.0} µs, client {:>4.0} µs",
            self.per_second,
            self.count,
            self.p50_us as f64 / 1000.0,
            self.p99_us as f64 / 1000.0,
            self.server_cpu_us,
            self.client_cpu_us,
        )
    }
}

/// `LogInteraction` through gRPC against the store's own append rate.
#[derive(clap::Parser)]
struct Args {
    /// How long each load runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
}

fn request<T>(token: &MetadataValue<tonic::metadata::Ascii>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.clone());
    request
}

fn log_request(participants: &[String]) -> pb::LogInteractionRequest {
    pb::LogInteractionRequest {
        axis_ids: Default::default(),
        topics: Default::default(),
        request_id: Uuid::now_v7().to_string(),
        participant_ids: participants.to_vec(),
        channel: pb::InteractionChannel::Phone as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: Some(prost_types::Timestamp::from(
            SystemTime::now() - Duration::from_secs(600),
        )),
        subject: "Projet de tiers-lieu : visite de la friche".into(),
        notes: "Échange sur les besoins en coworking et en atelier partagé ; \
                rappel prévu après le conseil municipal."
            .into(),
        themes: vec![
            pb::InteractionTheme::Telework as i32,
            pb::InteractionTheme::TiersLieuxKinds as i32,
        ],
        follow_ups: vec![pb::FollowUpInput {
            owner: Default::default(),
            description: "Envoyer la synthèse de l'enquête".into(),
            due_at: None,
        }],
    }
}

/// What each client task calls.
#[derive(Clone, Copy, PartialEq)]
enum Call {
    LogInteraction,
    /// `grpc.health.v1.Health/Check`: the transport's own cost.
    NoOp,
}

/// Runs `concurrency` client tasks (one connection each) for `run_for`.
/// Spawn it on the client runtime: connections and tasks then live there.
async fn grpc_level(
    address: std::net::SocketAddr,
    token: MetadataValue<tonic::metadata::Ascii>,
    participants: Vec<String>,
    call: Call,
    concurrency: usize,
    run_for: Duration,
) -> Result<Figures> {
    let mut channels = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        channels.push(
            Channel::from_shared(format!("http://{address}"))?
                .connect()
                .await?,
        );
    }
    let before = CpuTime::now()?;
    let started = Instant::now();
    let deadline = started + run_for;
    let mut tasks = Vec::with_capacity(concurrency);
    for channel in channels {
        let mut stakeholders = StakeholdersClient::new(channel.clone());
        let mut health = HealthClient::new(channel);
        let token = token.clone();
        let participants = participants.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match call {
                    Call::LogInteraction => {
                        stakeholders
                            .log_interaction(request(&token, log_request(&participants)))
                            .await?;
                    }
                    Call::NoOp => {
                        health.check(HealthCheckRequest::default()).await?;
                    }
                }
                latencies.record(sent.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies.add(task.await??)?;
    }
    Figures::new(&latencies, started.elapsed(), before)
}

/// `writers` tasks appending one event at a time, each to its own stream, straight to the store.
async fn store_rate(payload_bytes: usize, writers: usize, run_for: Duration) -> Result<Figures> {
    let dir = tempfile::tempdir()?;
    let store = EventStore::open(dir.path(), StoreOptions::default())?;
    let before = CpuTime::now()?;
    let started = Instant::now();
    let deadline = started + run_for;
    let mut tasks = Vec::with_capacity(writers);
    for writer in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            let stream = format!("bench-{}", Uuid::now_v7());
            let mut version = 0;
            while Instant::now() < deadline {
                let request_id = Uuid::now_v7().to_string();
                let event = EventData {
                    event_id: Uuid::now_v7(),
                    event_type: "maillage.v1.InteractionLogged".into(),
                    payload: vec![writer as u8; payload_bytes],
                    metadata: EventMetadata {
                        actor: "bench-facilitator".into(),
                        request_id: request_id.clone(),
                        correlation_id: request_id.clone(),
                        causation_id: request_id,
                    },
                };
                let sent = Instant::now();
                let result = store
                    .append(&stream, ExpectedVersion::Exact(version), vec![event])
                    .await?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
                version = result.stream_version;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies.add(task.await??)?;
    }
    let figures = Figures::new(&latencies, started.elapsed(), before)?;
    store.close().await?;
    Ok(figures)
}

fn main() -> Result<()> {
    let seconds = <Args as clap::Parser>::parse().seconds;
    let server = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .thread_name(CLIENT_THREADS)
        .enable_all()
        .build()?;
    server.block_on(run(seconds, clients.handle().clone()))
}

/// The service and store (on the current runtime) and the clients (on `clients`).
async fn run(seconds: u64, clients: tokio::runtime::Handle) -> Result<()> {
    let run_for = Duration::from_secs(seconds);

    // The service, in-process, on a real TCP port and a real sled dir.
    let dir = tempfile::tempdir()?;
    MasterKey::generate_file(dir.path().join("master.key"))?;
    let token = TokenFile::add(
        dir.path().join("tokens"),
        "bench-facilitator",
        &[Role::Facilitator],
    )?;
    let token: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut config = ServiceConfig::for_dir(dir.path());
    config.master_key_file = Some(dir.path().join("master.key"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = Arc::new(config);
    let server = {
        let config = config.clone();
        tokio::spawn(async move {
            maillage_stakeholders::serve(&config, listener, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let mut client = loop {
        match Channel::from_shared(format!("http://{address}"))?
            .connect()
            .await
        {
            Ok(channel) => break StakeholdersClient::new(channel),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let mut participants = Vec::new();
    for (given, family) in [("Camille", "Martin"), ("Léa", "Roux")] {
        let reply = client
            .register_person(request(
                &token,
                pb::RegisterPersonRequest {
                    request_id: Uuid::now_v7().to_string(),
                    profile: Some(pb::PersonProfile {
                        given_name: given.into(),
                        family_name: family.into(),
                        kinds: vec![pb::PersonKind::BusinessLeader as i32],
                        commune_code: "11069".into(),
                        email: "contact@example.fr".into(),
                        ..Default::default()
                    }),
                    mandates: vec![],
                },
            ))
            .await?;
        participants.push(reply.into_inner().id);
    }
    let organisation = client
        .register_organisation(request(
            &token,
            pb::RegisterOrganisationRequest {
                request_id: Uuid::now_v7().to_string(),
                profile: Some(pb::OrganisationProfile {
                    name: "Menuiserie Durand".into(),
                    commune_code: "11069".into(),
                    siren: String::new(),
                    details: Some(pb::organisation_profile::Details::Business(
                        pb::BusinessDetails {
                            size: pb::BusinessSize::Tpe as i32,
                            sector: "menuiserie".into(),
                        },
                    )),
                }),
            },
        ))
        .await?;
    participants.push(organisation.into_inner().id);

    println!("LogInteraction over gRPC ({seconds} s per level; 3 participants, sealed subject, notes and follow-up):");
    let mut at_64 = 0.0;
    let mut server_cpu_at_64 = 0.0;
    for concurrency in LEVELS {
        let level = grpc_level(
            address,
            token.clone(),
            participants.clone(),
            Call::LogInteraction,
            concurrency,
            run_for,
        );
        let figures = clients.spawn(level).await??;
        println!("  concurrency {concurrency:>2}: {figures}");
        if concurrency == 64 {
            at_64 = figures.per_second;
            server_cpu_at_64 = figures.server_cpu_us;
        }
    }
    let no_op = grpc_level(address, token, participants, Call::NoOp, 64, run_for);
    let no_op = clients.spawn(no_op).await??;
    println!("No-op gRPC call (grpc.health.v1.Health/Check) through the same server and client, concurrency 64:");
    println!("  {no_op}");
    let _ = stop.send(());
    server.await??;

    // The size of a logged interaction's payload, for the store's own run.
    let payload_bytes = {
        let log = EventStore::open(
            &config.service_dir(maillage_stakeholders::CONTEXT),
            StoreOptions::default(),
        )?;
        let head = log.head().position;
        let last = log.read_all(head, 1)?;
        log.close().await?;
        last.first()
            .map(|record| record.payload.len())
            .unwrap_or(500)
    };
    println!("EventStore append, one event per append to its own stream ({payload_bytes}-byte payloads, {seconds} s per level):");
    let mut store = None;
    for writers in STORE_WRITERS {
        let figures = store_rate(payload_bytes, writers, run_for).await?;
        println!("  {writers:>2} writers: {figures}");
        store = Some(figures);
    }
    // The last level is the 64-writer rate the target refers to.
    let store = store.ok_or_else(|| anyhow::anyhow!("no store level ran"))?;
    println!(
        "Ratio at 64: {:.1}% of the store's rate (target: >= 50%); the no-op call reaches {:.1}%",
        100.0 * at_64 / store.per_second,
        100.0 * no_op.per_second / store.per_second
    );
    println!(
        "Server-side CPU per logged interaction at 64: {:.0} µs = {:.1}x the store's CPU per appended event ({:.0} µs)",
        server_cpu_at_64,
        server_cpu_at_64 / store.server_cpu_us,
        store.server_cpu_us
    );
    Ok(())
}
