//! Page times of the web console on a big register (not a test: no
//! threshold; ignored, run it by hand, docs/benchmarks.md has the figures).
//!
//! The demo territory (scale 1), then `MAILLAGE_BENCH_STAKEHOLDERS` (default
//! 100,000) inhabitants registered through the real stakeholders service
//! (`RegisterPerson`, 32 in flight over one channel, sled on disk), spread
//! over the territory's communes with common French family names, and one
//! contact with a follow-up for every hundredth of them. Once the projections
//! and the register's index have read it all, each page people use on a big
//! register is requested `MAILLAGE_BENCH_PAGES` times (default 200, after 10
//! of warm-up), interleaved request by request with its baseline: the gRPC
//! call(s) the page makes, same request, same token, over one kept-alive
//! channel.
//!
//! `cargo nextest run --release -p maillage --test console_big_register
//! --run-ignored only --no-capture`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failed step is a failure

mod common;
mod web;

use std::time::{Duration, Instant};

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use web::{get, Site};

const GIVEN: [&str; 20] = [
    "Camille", "Louise", "Jeanne", "Alice", "Léa", "Chloé", "Emma", "Inès", "Manon", "Sarah",
    "Lucas", "Hugo", "Louis", "Jules", "Gabriel", "Arthur", "Paul", "Nathan", "Léo", "Adam",
];

const FAMILY: [&str; 40] = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefèvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
];

fn bearer(
    token: &str,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone + Send {
    let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    move |mut request: tonic::Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", value.clone());
        Ok(request)
    }
}

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// p50 and p99 of `times`.
fn quantiles(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.5), at(0.99))
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Registers `count` inhabitants over `communes`, `workers` in flight; one in
/// a hundred gets a contact with a follow-up. Returns the ids of those.
async fn register(
    channel: &Channel,
    token: &str,
    communes: &[String],
    count: usize,
) -> Vec<String> {
    const WORKERS: usize = 32;
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let channel = channel.clone();
        let communes = communes.to_vec();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut stakeholders = pb::stakeholders_client::StakeholdersClient::with_interceptor(
                channel,
                bearer(&token),
            );
            let mut contacted = Vec::new();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            for index in (worker..count).step_by(WORKERS) {
                let request = pb::RegisterPersonRequest {
                    request_id: format!("bench-{index:06}"),
                    profile: Some(pb::PersonProfile {
                        given_name: GIVEN[index % GIVEN.len()].to_owned(),
                        family_name: FAMILY[(index / GIVEN.len()) % FAMILY.len()].to_owned(),
                        kinds: vec![pb::PersonKind::Inhabitant as i32],
                        commune_code: communes[index % communes.len()].clone(),
                        ..Default::default()
                    }),
                    mandates: Vec::new(),
                };
                let id = stakeholders
                    .register_person(request)
                    .await
                    .unwrap()
                    .into_inner()
                    .id;
                if index % 100 == 0 {
                    stakeholders
                        .log_interaction(pb::LogInteractionRequest {
                            request_id: format!("bench-contact-{index:06}"),
                            participant_ids: vec![id.clone()],
                            channel: pb::InteractionChannel::Phone as i32,
                            direction: pb::InteractionDirection::Outbound as i32,
                            occurred_at: Some(prost_types::Timestamp {
                                seconds: now - 60 * index as i64,
                                nanos: 0,
                            }),
                            subject: "Appel de présentation du tiers-lieu".to_owned(),
                            topics: vec![pb::Theme::QuelsTla as i32],
                            follow_ups: vec![pb::FollowUpInput {
                                description: "Rappeler pour l'atelier".to_owned(),
                                due_at: Some(prost_types::Timestamp {
                                    seconds: 1_800_000_000 + index as i64,
                                    nanos: 0,
                                }),
                                owner: String::new(),
                            }],
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                    contacted.push(id);
                }
            }
            contacted
        }));
    }
    let mut contacted = Vec::new();
    for task in tasks {
        contacted.extend(task.await.unwrap());
    }
    contacted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark"]
async fn pages_on_a_big_register() {
    let count = number("MAILLAGE_BENCH_STAKEHOLDERS", 100_000);
    let rounds = number("MAILLAGE_BENCH_PAGES", 200);
    let site = Site::start().await;
    let (outcome, data, _) = site.platform.demo(2026, 1.0, "report.html").await;
    let (level, code) = outcome.territory.split_once(':').unwrap();
    let communes: Vec<String> = data
        .territory
        .communes
        .iter()
        .map(|commune| commune.code.clone())
        .collect();
    let token = site.token("fabienne", &[Role::Facilitator, Role::Analyst]);
    let channel = Channel::from_shared(site.platform.endpoint.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();

    let started = Instant::now();
    let contacted = register(&channel, &token, &communes, count).await;
    let loaded = started.elapsed();
    println!(
        "registered {count} inhabitants and {} contacts in {loaded:.1?} ({:.0} registrations/s)",
        contacted.len(),
        count as f64 / loaded.as_secs_f64()
    );

    let mut projections = pb::projections_client::ProjectionsClient::with_interceptor(
        channel.clone(),
        bearer(&token),
    );
    let mut stakeholders = pb::stakeholders_client::StakeholdersClient::with_interceptor(
        channel.clone(),
        bearer(&token),
    );
    let territory = pb::TerritoryEngagementRequest {
        territory: Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: code.to_owned(),
        }),
        as_of: None,
        page: Some(pb::PageRequest {
            page_size: 1_000,
            page_token: String::new(),
        }),
    };
    // The projections and the register's index read it all.
    let expected = data.territory.stakeholders_total + count as u64;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let report = projections
            .get_territory_engagement(territory.clone())
            .await
            .unwrap()
            .into_inner();
        let indexed = stakeholders
            .search_stakeholders(pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter::default()),
                page: Some(pb::PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total;
        if report.stakeholders_total >= expected && indexed >= expected {
            break;
        }
        assert!(Instant::now() < deadline, "the projections never caught up");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "read models caught up {:.1?} after the load",
        started.elapsed() - loaded
    );

    let cookie = site.sign_in(&token).await;
    let search = |round: usize| pb::SearchStakeholdersRequest {
        filter: Some(pb::StakeholderFilter {
            r#type: pb::StakeholderType::Person as i32,
            territories: vec![pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: communes[round % communes.len()].clone(),
            }],
            name_query: FAMILY[round % FAMILY.len()].to_owned(),
            ..Default::default()
        }),
        page: Some(pb::PageRequest {
            page_size: 50,
            page_token: String::new(),
        }),
        ..Default::default()
    };
    let everyone = pb::SearchStakeholdersRequest {
        filter: Some(pb::StakeholderFilter::default()),
        page: Some(pb::PageRequest {
            page_size: 50,
            page_token: String::new(),
        }),
        ..Default::default()
    };
    let follow_ups = pb::FollowUpListRequest {
        page: Some(pb::PageRequest {
            page_size: 100,
            page_token: String::new(),
        }),
        ..Default::default()
    };
    let names = [
        "register search (name, type, commune)",
        "register, first page, no filter",
        "a stakeholder's page",
        "territory page",
        "follow-ups, everyone's",
    ];
    let mut pages = vec![Vec::new(); names.len()];
    let mut calls = vec![Vec::new(); names.len()];
    for round in 0..rounds + 10 {
        let warm = round < 10;
        let person = &contacted[round % contacted.len()];
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("nom", FAMILY[round % FAMILY.len()])
            .append_pair("type", "personne")
            .append_pair("commune", &communes[round % communes.len()])
            .finish();
        let urls = [
            format!("{}/acteurs?{query}", site.url),
            format!("{}/acteurs", site.url),
            format!("{}/acteurs/{person}", site.url),
            format!("{}/territoire?niveau={level}&code={code}", site.url),
            format!("{}/contacts/relances?responsable=", site.url),
        ];
        for (kind, url) in urls.iter().enumerate() {
            let started = Instant::now();
            let reply = get(url, Some(&cookie)).await;
            let page = started.elapsed();
            assert_eq!(reply.status, 200, "{url}: {}", reply.body);
            let started = Instant::now();
            match kind {
                0 => {
                    let found = stakeholders
                        .search_stakeholders(search(round))
                        .await
                        .unwrap();
                    assert!(found.into_inner().total > 0);
                }
                1 => {
                    stakeholders
                        .search_stakeholders(everyone.clone())
                        .await
                        .unwrap();
                }
                2 => {
                    stakeholders
                        .get_stakeholder(pb::GetStakeholderRequest {
                            stakeholder_id: person.clone(),
                        })
                        .await
                        .unwrap();
                    projections
                        .get_stakeholder_timeline(pb::StakeholderTimelineRequest {
                            stakeholder_id: person.clone(),
                            as_of: None,
                            page: Some(pb::PageRequest {
                                page_size: 200,
                                page_token: String::new(),
                            }),
                        })
                        .await
                        .unwrap();
                }
                3 => {
                    projections
                        .get_territory_engagement(territory.clone())
                        .await
                        .unwrap();
                }
                _ => {
                    projections
                        .list_follow_ups(follow_ups.clone())
                        .await
                        .unwrap();
                }
            }
            let call = started.elapsed();
            if !warm {
                pages[kind].push(page);
                calls[kind].push(call);
            }
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{count} inhabitants (+ {} of the demo), {rounds} requests of each page and of its \
         gRPC call(s), interleaved; load average {}",
        data.territory.stakeholders_total,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| page | page p50 | page p99 | gRPC p50 | gRPC p99 | ratio p50 | ratio p99 |");
    for (kind, name) in names.iter().enumerate() {
        let (page50, page99) = quantiles(&mut pages[kind]);
        let (call50, call99) = quantiles(&mut calls[kind]);
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} | {:.2} |",
            ms(page50),
            ms(page99),
            ms(call50),
            ms(call99),
            page50.as_secs_f64() / call50.as_secs_f64(),
            page99.as_secs_f64() / call99.as_secs_f64(),
        );
    }
}
