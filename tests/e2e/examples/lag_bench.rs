//! End-to-end lag benchmark: from an acknowledged command to its effect being
//! visible to projection queries, under a steady command rate.
//!
//! Serves the all-in-one platform in this process (projections on the direct
//! feed, or with `--nats` on a private `nats-server -js` through the relays and
//! the JetStream consumer), registers 200 persons, then sends `LogInteraction`
//! commands open-loop at `--rate` per second for `--seconds`. A watcher polls
//! `GetProjectionStatus` every millisecond and notes when each stakeholders-log
//! position became applied (the checkpoint is published after the batch's
//! commit, so the event is then visible to every query). The lag of a command is
//! the first poll that saw its position minus the instant its reply arrived
//! (0 when the projection had it first); the polling adds up to one round trip
//! of resolution.
//!
//! `cargo run --release -p maillage-e2e --example lag_bench -- --rate 500 --seconds 20 [--nats]`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_service_kit::Role;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use maillage_e2e::clients::{bearer, Clients, Secrets};
use maillage_e2e::cluster::InProcess;
use maillage_nats_test::NatsServer;
use maillage_proto::v1 as pb;
use tokio::sync::Mutex;

/// The projections' lag behind a steady load of contacts.
#[derive(clap::Parser)]
struct Args {
    /// Contacts logged per second.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// How long the load runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Through NATS JetStream (else the direct feed).
    #[arg(long)]
    nats: bool,
}

async fn register(clients: &mut Clients, n: usize) -> anyhow::Result<String> {
    let request = pb::RegisterPersonRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        profile: Some(pb::PersonProfile {
            given_name: format!("Prénom {n}"),
            family_name: format!("Nom {n}"),
            kinds: vec![pb::PersonKind::BusinessLeader as i32],
            commune_code: "68298".into(),
            ..Default::default()
        }),
        mandates: vec![],
    };
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    Ok(clients
        .stakeholders
        .register_person(bearer(&token, request)?)
        .await?
        .into_inner()
        .id)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let secrets_dir = tempfile::tempdir()?;
    let secrets = Secrets::create(secrets_dir.path())?;
    let nats = if args.nats {
        Some(NatsServer::start().await?)
    } else {
        None
    };
    let platform = InProcess::start_with(&secrets, nats.as_ref().map(NatsServer::url)).await?;
    let mut clients = Clients::connect(&platform.endpoints(), &secrets.tokens).await?;
    let mut people = Vec::new();
    for n in 0..200 {
        people.push(register(&mut clients, n).await?);
    }
    let people = Arc::new(people);

    // The watcher: (checkpoint of the stakeholders log, when it was seen).
    let seen: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (mut clients, seen, stop) = (clients.clone(), seen.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(checkpoints) = maillage_e2e::scenario::checkpoints(&mut clients).await {
                    let position = checkpoints.get("stakeholders").copied().unwrap_or(0);
                    seen.lock().await.push((position, Instant::now()));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    // The load: open loop, one command every 1/rate s.
    let acks: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let total = args.rate * args.seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        tick.tick().await;
        let (mut clients, acks, errors, people) = (
            clients.clone(),
            acks.clone(),
            errors.clone(),
            people.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let request = pb::LogInteractionRequest {
                axis_ids: Default::default(),
                topics: Default::default(),
                request_id: uuid::Uuid::now_v7().to_string(),
                participant_ids: vec![people[n as usize % people.len()].clone()],
                channel: pb::InteractionChannel::Phone as i32,
                direction: pb::InteractionDirection::Outbound as i32,
                occurred_at: Some(prost_types::Timestamp::from(std::time::SystemTime::now())),
                subject: "Suivi du projet".into(),
                notes: String::new(),
                themes: vec![pb::InteractionTheme::TiersLieuxKinds as i32],
                follow_ups: vec![],
            };
            let token = clients.tokens.of(Role::Facilitator).to_owned();
            let Ok(request) = bearer(&token, request) else {
                return;
            };
            match clients.stakeholders.log_interaction(request).await {
                Ok(reply) => acks
                    .lock()
                    .await
                    .push((reply.into_inner().position, Instant::now())),
                Err(_) => {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed();
    let acks = acks.lock().await.clone();
    let last = acks.iter().map(|(p, _)| *p).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().await.last().map_or(0, |(p, _)| *p) < last {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the projections did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.await?;
    let seen = seen.lock().await.clone();

    let mut lag = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for (position, acked) in &acks {
        // The first poll that saw the position (the polls are in time order).
        let index = seen.partition_point(|(p, _)| p < position);
        let Some((_, at)) = seen.get(index) else {
            anyhow::bail!("position {position} never seen");
        };
        let micros = at.saturating_duration_since(*acked).as_micros() as u64;
        lag.record(micros.max(1))?;
    }
    let ms = |q: f64| lag.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{} commands acknowledged in {:.1} s ({:.0}/s, {} errors), feed {}, polls {}: lag p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        acks.len(),
        elapsed.as_secs_f64(),
        acks.len() as f64 / elapsed.as_secs_f64(),
        errors.load(std::sync::atomic::Ordering::Relaxed),
        if args.nats { "jetstream" } else { "direct" },
        seen.len(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        lag.max() as f64 / 1000.0
    );
    println!(
        "{{\"feed\":\"{}\",\"rate\":{},\"commands\":{},\"achieved_per_s\":{:.0},\"lag_p50_ms\":{:.2},\"lag_p90_ms\":{:.2},\"lag_p99_ms\":{:.2},\"lag_max_ms\":{:.2}}}",
        if args.nats { "jetstream" } else { "direct" },
        args.rate,
        acks.len(),
        acks.len() as f64 / elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        lag.max() as f64 / 1000.0
    );
    drop(clients);
    platform.stop().await?;
    Ok(())
}
