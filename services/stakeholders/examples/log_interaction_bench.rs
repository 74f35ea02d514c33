//! Benchmark: `LogInteraction` through gRPC against the real service, compared
//! with the event store's own durable append rate, in one run.
//!
//! 1. Starts the stakeholders service in-process on 127.0.0.1 (TCP, auth,
//!    sealing, the command loop, a durable sled log in a temp dir), registers
//!    two persons and an organisation, then drives `LogInteraction` at
//!    concurrency 1, 16 and 64 (one client connection per task), each level
//!    for `--seconds`, and prints throughput and p50/p99 latency.
//! 2. In a fresh temp dir, 64 tasks append one event at a time (`Exact(v)`, each
//!    to its own stream, payloads of the size of a logged interaction) directly
//!    to an `EventStore` for `--seconds`: the store's 64-writer durable rate.
//! 3. Prints the ratio of (1) at 64 to (2); the target is at least 50%.
//!
//! `cargo run --release -p maillage-stakeholders --example log_interaction_bench -- --seconds 20`

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
use uuid::Uuid;

const LEVELS: [usize; 3] = [1, 16, 64];

struct Figures {
    per_second: f64,
    count: u64,
    p50_us: u64,
    p99_us: u64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>9.0}/s  ({} in all)  p50 {:>7.2} ms  p99 {:>7.2} ms",
            self.per_second,
            self.count,
            self.p50_us as f64 / 1000.0,
            self.p99_us as f64 / 1000.0
        )
    }
}

fn parse_seconds() -> Result<u64> {
    let mut seconds = 20;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--seconds needs a value"))?
                    .parse()?
            }
            other => anyhow::bail!("unknown flag {other}; flags: --seconds N"),
        }
    }
    Ok(seconds)
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
            description: "Envoyer la synthèse de l'enquête".into(),
            due_at: None,
        }],
    }
}

async fn grpc_level(
    address: std::net::SocketAddr,
    token: &MetadataValue<tonic::metadata::Ascii>,
    participants: &[String],
    concurrency: usize,
    run_for: Duration,
) -> Result<Figures> {
    let mut clients = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let channel = Channel::from_shared(format!("http://{address}"))?
            .connect()
            .await?;
        clients.push(StakeholdersClient::new(channel));
    }
    let started = Instant::now();
    let deadline = started + run_for;
    let mut tasks = Vec::with_capacity(concurrency);
    for mut client in clients {
        let token = token.clone();
        let participants = participants.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3)?;
            while Instant::now() < deadline {
                let sent = Instant::now();
                client
                    .log_interaction(request(&token, log_request(&participants)))
                    .await?;
                latencies.record(sent.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies.add(task.await??)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Figures {
        per_second: latencies.len() as f64 / elapsed,
        count: latencies.len(),
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
    })
}

/// 64 writers appending one event at a time, each to its own stream, straight to the store.
async fn store_rate(payload_bytes: usize, writers: usize, run_for: Duration) -> Result<Figures> {
    let dir = tempfile::tempdir()?;
    let store = EventStore::open(dir.path(), StoreOptions::default())?;
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
    let elapsed = started.elapsed().as_secs_f64();
    store.close().await?;
    Ok(Figures {
        per_second: latencies.len() as f64 / elapsed,
        count: latencies.len(),
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let seconds = parse_seconds()?;
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
    for concurrency in LEVELS {
        let figures = grpc_level(address, &token, &participants, concurrency, run_for).await?;
        println!("  concurrency {concurrency:>2}: {figures}");
        if concurrency == 64 {
            at_64 = figures.per_second;
        }
    }
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
    let store = store_rate(payload_bytes, 64, run_for).await?;
    println!("EventStore append, 64 writers, 1 event per append ({payload_bytes}-byte payloads, {seconds} s):");
    println!("  {store}");
    println!(
        "Ratio at 64: {:.1}% of the store's rate (target: >= 50%)",
        100.0 * at_64 / store.per_second
    );
    Ok(())
}
