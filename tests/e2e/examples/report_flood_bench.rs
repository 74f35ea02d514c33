//! Benchmark: a flood of `as_of` reports must not stall commands nor health
//! probes in `maillage up` (issue 15, defect 7).
//!
//! Serves the all-in-one platform (`maillage::platform::serve`, projections on
//! the direct feed) on a runtime of its own (one worker per core, as `maillage
//! up`), and drives it from another runtime (threads `bench-client`) over
//! real gRPC connections:
//!
//! 1. seeds the stakeholders log: 1,000 persons across the communes of CA du
//!    Pays Basque, then `LogInteraction` commands (64 at a time, one to three
//!    participants each) until the log holds `--events` events, and waits for
//!    the projections to apply them;
//! 2. *quiet*: for `--seconds`, `LogInteraction` open loop at `--rate` per
//!    second (each command on its own task, latency from send to reply) and a
//!    health prober (`grpc.health.v1.Health/Check` of the whole server, one
//!    every 50 ms, each waited for);
//! 3. *flood*: the same, while `--reports` clients each ask, in a loop, for
//!    the EPCI's territory engagement report `as_of` now (a replay of every
//!    log from position 1). A refused report (RESOURCE_EXHAUSTED) is asked
//!    again after 50 ms.
//!
//! Prints, per phase, the commands' p50/p99/max, the health checks' p99/max,
//! the reports completed and refused, then one JSON line.
//!
//! `cargo run --release -p maillage-e2e --example report_flood_bench -- --events 200000 --seconds 20`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_service_kit::Role;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use maillage_e2e::clients::{bearer, Clients, Secrets};
use maillage_e2e::cluster::InProcess;
use maillage_proto::v1 as pb;
use maillage_territory::Territory;
use tokio::sync::Mutex;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// CA du Pays Basque (158 communes).
const EPCI: &str = "200067106";
/// Persons registered before the interactions.
const PERSONS: usize = 1_000;
/// Commands in flight while seeding.
const SEED_CONCURRENCY: usize = 64;
/// Pause between health checks.
const HEALTH_PERIOD: Duration = Duration::from_millis(50);
/// Pause before a refused report is asked again.
const REFUSED_PAUSE: Duration = Duration::from_millis(50);

/// Contacts logged at a steady rate while reports flood the projections.
#[derive(clap::Parser)]
struct Args {
    /// Events in the platform before the run.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// How long the load runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Contacts logged per second.
    #[arg(long, default_value_t = 200)]
    rate: u64,
    /// Concurrent report askers.
    #[arg(long, default_value_t = 8)]
    reports: usize,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

fn micros(elapsed: Duration) -> u64 {
    (elapsed.as_micros() as u64).max(1)
}

fn ms(value: u64) -> f64 {
    value as f64 / 1000.0
}

/// Registers person `n` in one of `communes`; returns its id.
async fn register(clients: &mut Clients, n: usize, communes: &[String]) -> anyhow::Result<String> {
    let request = pb::RegisterPersonRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        profile: Some(pb::PersonProfile {
            given_name: format!("Prénom {n}"),
            family_name: format!("Nom {n}"),
            kinds: vec![pb::PersonKind::BusinessLeader as i32],
            commune_code: communes[n % communes.len()].clone(),
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

/// Logs one interaction with one to three of `people` (picked from `n`);
/// returns the reply's log position.
async fn log_interaction(
    clients: &mut Clients,
    people: &[String],
    n: u64,
) -> Result<u64, tonic::Status> {
    let count = 1 + (n % 3) as usize;
    let participant_ids = (0..count)
        .map(|k| people[(n as usize * 7 + k * 131) % people.len()].clone())
        .collect();
    let request = pb::LogInteractionRequest {
        axis_ids: Default::default(),
        topics: Default::default(),
        request_id: uuid::Uuid::now_v7().to_string(),
        participant_ids,
        channel: pb::InteractionChannel::Phone as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: Some(prost_types::Timestamp::from(SystemTime::now())),
        subject: "Suivi du projet".into(),
        notes: String::new(),
        themes: vec![pb::InteractionTheme::TiersLieuxKinds as i32],
        follow_ups: vec![],
    };
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let request = bearer(&token, request).map_err(|e| tonic::Status::internal(e.to_string()))?;
    Ok(clients
        .stakeholders
        .log_interaction(request)
        .await?
        .into_inner()
        .position)
}

/// What one phase measured.
struct Phase {
    commands: Histogram<u64>,
    command_errors: u64,
    health: Histogram<u64>,
    health_errors: u64,
    reports: Histogram<u64>,
    refused: u64,
    report_errors: u64,
    elapsed: Duration,
}

/// Runs one phase: commands open loop and the health prober for `seconds`,
/// with `reports` report clients flooding meanwhile.
async fn phase(
    clients: &Clients,
    health_url: &str,
    people: Arc<Vec<String>>,
    args: &Args,
    reports: usize,
) -> anyhow::Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let prober = {
        let stop = stop.clone();
        let mut health = HealthClient::new(
            tonic::transport::Endpoint::from_shared(health_url.to_owned())?
                .connect()
                .await?,
        );
        tokio::spawn(async move {
            let mut latencies = histogram()?;
            let mut errors = 0;
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                match health.check(HealthCheckRequest::default()).await {
                    Ok(_) => latencies.record(micros(sent.elapsed()))?,
                    Err(_) => errors += 1,
                }
                tokio::time::sleep(HEALTH_PERIOD).await;
            }
            anyhow::Ok((latencies, errors))
        })
    };

    let mut flooders = Vec::new();
    for _ in 0..reports {
        // One connection per report client, as separate tools would have.
        let mut own = Clients::connect(
            &maillage_e2e::clients::Endpoints::all_at(health_url),
            &clients.tokens,
        )
        .await?;
        let stop = stop.clone();
        let territory = Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: EPCI.into(),
        });
        flooders.push(tokio::spawn(async move {
            let mut latencies = histogram()?;
            let (mut refused, mut errors) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let request = pb::TerritoryEngagementRequest {
                    territory: territory.clone(),
                    as_of: Some(prost_types::Timestamp::from(SystemTime::now())),
                    page: None,
                };
                let token = own.tokens.of(Role::Analyst).to_owned();
                let sent = Instant::now();
                match own
                    .projections
                    .get_territory_engagement(bearer(&token, request)?)
                    .await
                {
                    Ok(_) => latencies.record(micros(sent.elapsed()))?,
                    Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                        refused += 1;
                        tokio::time::sleep(REFUSED_PAUSE).await;
                    }
                    Err(_) => errors += 1,
                }
            }
            anyhow::Ok((latencies, refused, errors))
        }));
    }

    let latencies = Arc::new(Mutex::new(histogram()?));
    let errors = Arc::new(AtomicU64::new(0));
    let total = args.rate * args.seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut commands = Vec::with_capacity(total as usize);
    for n in 0..total {
        tick.tick().await;
        let (mut clients, people, latencies, errors) = (
            clients.clone(),
            people.clone(),
            latencies.clone(),
            errors.clone(),
        );
        commands.push(tokio::spawn(async move {
            let sent = Instant::now();
            match log_interaction(&mut clients, &people, n).await {
                Ok(_) => {
                    let elapsed = micros(sent.elapsed());
                    let _ = latencies.lock().await.record(elapsed);
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for command in commands {
        command.await?;
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (health, health_errors) = prober.await??;
    let mut reports_histogram = histogram()?;
    let (mut refused, mut report_errors) = (0, 0);
    for flooder in flooders {
        let (latencies, r, e) = flooder.await??;
        reports_histogram.add(latencies)?;
        refused += r;
        report_errors += e;
    }
    let commands = latencies.lock().await.clone();
    Ok(Phase {
        commands,
        command_errors: errors.load(Ordering::Relaxed),
        health,
        health_errors,
        reports: reports_histogram,
        refused,
        report_errors,
        elapsed,
    })
}

fn print(name: &str, phase: &Phase) {
    println!(
        "{name}: {} commands ({} errors) in {:.1} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         {} health checks ({} errors): p99 {:.2} ms, max {:.2} ms; \
         reports completed {} (p50 {:.0} ms, max {:.0} ms), refused {}, failed {}",
        phase.commands.len(),
        phase.command_errors,
        phase.elapsed.as_secs_f64(),
        ms(phase.commands.value_at_quantile(0.5)),
        ms(phase.commands.value_at_quantile(0.99)),
        ms(phase.commands.max()),
        phase.health.len(),
        phase.health_errors,
        ms(phase.health.value_at_quantile(0.99)),
        ms(phase.health.max()),
        phase.reports.len(),
        ms(phase.reports.value_at_quantile(0.5)),
        ms(phase.reports.max()),
        phase.refused,
        phase.report_errors,
    );
}

fn json(name: &str, phase: &Phase) -> String {
    format!(
        "\"{name}\":{{\"commands\":{},\"command_errors\":{},\"command_p50_ms\":{:.2},\"command_p99_ms\":{:.2},\
         \"command_max_ms\":{:.2},\"health_checks\":{},\"health_errors\":{},\"health_p99_ms\":{:.2},\
         \"health_max_ms\":{:.2},\"reports\":{},\"report_p50_ms\":{:.0},\"refused\":{},\"report_errors\":{}}}",
        phase.commands.len(),
        phase.command_errors,
        ms(phase.commands.value_at_quantile(0.5)),
        ms(phase.commands.value_at_quantile(0.99)),
        ms(phase.commands.max()),
        phase.health.len(),
        phase.health_errors,
        ms(phase.health.value_at_quantile(0.99)),
        ms(phase.health.max()),
        phase.reports.len(),
        ms(phase.reports.value_at_quantile(0.5)),
        phase.refused,
        phase.report_errors,
    )
}

/// Seeds the log, then measures both phases (on the client runtime).
async fn drive(url: String, secrets: Secrets, args: Args) -> anyhow::Result<()> {
    let clients = Clients::connect(
        &maillage_e2e::clients::Endpoints::all_at(&url),
        &secrets.tokens,
    )
    .await?;
    let territory = Territory::shared();
    let communes = territory
        .epci(EPCI)
        .ok_or_else(|| anyhow::anyhow!("EPCI {EPCI} not in the COG"))?
        .members
        .clone();

    let seeding = Instant::now();
    let mut people = Vec::with_capacity(PERSONS);
    for chunk in (0..PERSONS).collect::<Vec<_>>().chunks(SEED_CONCURRENCY) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|n| {
                let (mut clients, communes, n) = (clients.clone(), communes.clone(), *n);
                tokio::spawn(async move { register(&mut clients, n, &communes).await })
            })
            .collect();
        for task in tasks {
            people.push(task.await??);
        }
    }
    let people = Arc::new(people);
    let head = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let seeders: Vec<_> = (0..SEED_CONCURRENCY)
        .map(|_| {
            let (mut clients, people, head, next) =
                (clients.clone(), people.clone(), head.clone(), next.clone());
            let target = args.events;
            tokio::spawn(async move {
                while head.load(Ordering::Relaxed) < target {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let position = log_interaction(&mut clients, &people, n).await?;
                    head.fetch_max(position, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for seeder in seeders {
        seeder.await??;
    }
    let head = head.load(Ordering::Relaxed);
    let seeded_in = seeding.elapsed();
    let mut status = clients.clone();
    maillage_e2e::scenario::wait_for_projections(
        &mut status,
        &[("stakeholders".to_owned(), head)].into_iter().collect(),
        Duration::from_secs(600),
    )
    .await?;
    println!(
        "seeded {head} stakeholders events in {:.1} s ({:.0}/s); projections caught up after {:.1} s",
        seeded_in.as_secs_f64(),
        head as f64 / seeded_in.as_secs_f64(),
        seeding.elapsed().as_secs_f64()
    );

    let quiet = phase(&clients, &url, people.clone(), &args, 0).await?;
    print("quiet", &quiet);
    let flood = phase(&clients, &url, people, &args, args.reports).await?;
    print(&format!("{} as_of reports", args.reports), &flood);
    let ratio = |flood: u64, quiet: u64| flood as f64 / quiet.max(1) as f64;
    println!(
        "under the flood: command p99 x{:.2}, health max x{:.2}",
        ratio(
            flood.commands.value_at_quantile(0.99),
            quiet.commands.value_at_quantile(0.99)
        ),
        ratio(flood.health.max(), quiet.health.max()),
    );
    println!(
        "{{\"events\":{head},\"seconds\":{},\"rate\":{},\"report_clients\":{},{},{}}}",
        args.seconds,
        args.rate,
        args.reports,
        json("quiet", &quiet),
        json("flood", &flood)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("maillage-server")
        .enable_all()
        .build()?;
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let secrets_dir = tempfile::tempdir()?;
    let secrets = Secrets::create(secrets_dir.path())?;
    let platform = server.block_on(InProcess::start(&secrets))?;
    let url = platform.endpoints().stakeholders;
    let outcome = client.block_on(drive(url, secrets, args));
    server.block_on(platform.stop())?;
    outcome
}
