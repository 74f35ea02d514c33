//! Benchmark: `SearchStakeholders` over a register of 100,000 stakeholders,
//! with two baselines from the same run: `GetStakeholder` (one stakeholder by
//! id) and what a tool must do without the search (read the whole log over
//! `EventLog.ReadAll` and filter it itself).
//!
//! 1. Starts the stakeholders service in-process on 127.0.0.1 (TCP, auth, a
//!    durable sled log in a temp dir) and registers, over gRPC from 32 client
//!    tasks, `--stakeholders` stakeholders (60% persons — a third of them élus
//!    with a commune mandate started in the last four years —, 40%
//!    organisations) in the communes of Occitanie, with generated French
//!    names, then half as many contacts (one or two participants, dated in the
//!    last three years, one theme) and consents for a tenth.
//! 2. Runs each search `--queries` times, one at a time, and prints p50/p99.
//! 3. Runs the baselines the same way.
//! 4. Stops the service, then times loading the index as the service opens it,
//!    and rebuilding it from the whole log.
//!
//! `cargo run --release -p maillage-stakeholders --example search_bench -- --stakeholders 100000 --queries 200`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use maillage_eventstore::{EventStore, SledEngine, SledOptions, StoreOptions};
use maillage_privacy::{KeyVault, MasterKey};
use maillage_proto::v1 as pb;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use maillage_stakeholders::search::calendar::months_before;
use maillage_stakeholders::search::{SearchIndex, SEARCH_TREE};
use maillage_territory::Territory;
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;
use uuid::Uuid;

/// Client tasks registering the register.
const WRITERS: usize = 32;
/// Occitanie: where the register lives.
const REGION: &str = "76";

const GIVEN: [&str; 40] = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Jade",
    "Louise",
    "Éloïse",
    "Zoé",
    "Anaïs",
    "Jeanne",
    "Émilie",
    "Sarah",
    "Lucie",
    "Clémence",
    "Hélène",
    "Agnès",
    "Françoise",
    "Noémie",
    "Maëlle",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Jules",
    "Arthur",
    "Théo",
    "Raphaël",
    "Noé",
    "Mathéo",
    "Jean-Pierre",
    "François",
    "Rémi",
    "Loïc",
    "Benoît",
    "Jérôme",
    "Clément",
    "Étienne",
    "Nicolas",
    "Paul",
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
    "Lefèvre",
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
    "Müller",
    "Le Bihan",
    "Le Gall",
    "Garnier",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garcia",
    "Chevalier",
    "Clément",
    "Gauthier",
];
const TRADES: [&str; 10] = [
    "Menuiserie",
    "Boulangerie",
    "Garage",
    "Atelier",
    "Ferme",
    "Librairie",
    "Épicerie",
    "Imprimerie",
    "Charpente",
    "Brasserie",
];

fn bearer(token: &str) -> Result<MetadataValue<Ascii>> {
    Ok(format!("Bearer {token}").parse()?)
}

fn request<T>(token: &MetadataValue<Ascii>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.clone());
    request
}

fn days_ago(days: u64) -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now() - Duration::from_secs(days * 86_400))
}

/// Search latency over a generated register.
#[derive(clap::Parser)]
struct Args {
    /// Stakeholders registered.
    #[arg(long, default_value_t = 100_000)]
    stakeholders: usize,
    /// Searches timed per kind of query.
    #[arg(long, default_value_t = 200)]
    queries: usize,
}

/// The registration of stakeholder number `n` (seeded: the same register every run).
fn registration(n: usize, communes: &[String]) -> Registration {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let commune = communes[rng.gen_range(0..communes.len())].clone();
    if n % 5 < 3 {
        // A third of the persons (numbers 0, 1, 2 modulo 15).
        let elu = n % 15 < 5;
        let office = [
            pb::MandateOffice::Maire,
            pb::MandateOffice::Adjoint,
            pb::MandateOffice::ConseillerMunicipal,
            pb::MandateOffice::ConseillerMunicipal,
        ][rng.gen_range(0..4)];
        let kind = if elu {
            pb::PersonKind::ElectedOfficial
        } else {
            [
                pb::PersonKind::BusinessLeader,
                pb::PersonKind::AssociationMember,
                pb::PersonKind::Inhabitant,
                pb::PersonKind::TiersLieuManager,
            ][rng.gen_range(0..4)]
        };
        Registration::Person(pb::RegisterPersonRequest {
            request_id: Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: GIVEN[rng.gen_range(0..GIVEN.len())].into(),
                family_name: FAMILY[rng.gen_range(0..FAMILY.len())].into(),
                kinds: vec![kind as i32],
                commune_code: commune.clone(),
                email: format!("contact{n}@example.fr"),
                ..Default::default()
            }),
            mandates: if elu {
                vec![pb::MandateInput {
                    office: office as i32,
                    authority: Some(pb::TerritoryRef {
                        level: pb::TerritoryLevel::Commune as i32,
                        code: commune,
                    }),
                    started_at: Some(days_ago(rng.gen_range(0..1_460))),
                    ended_at: None,
                }]
            } else {
                vec![]
            },
        })
    } else {
        use pb::organisation_profile::Details;
        let family = FAMILY[rng.gen_range(0..FAMILY.len())];
        let (name, details) = match rng.gen_range(0..8) {
            0..=4 => (
                format!("{} {family}", TRADES[rng.gen_range(0..TRADES.len())]),
                Details::Business(pb::BusinessDetails {
                    size: pb::BusinessSize::Tpe as i32,
                    sector: String::new(),
                }),
            ),
            5 | 6 => (
                format!("Association des amis de {family} {n}"),
                Details::Association(pb::AssociationDetails {}),
            ),
            _ => (
                format!("Tiers-lieu {family} {n}"),
                Details::TiersLieu(pb::TiersLieuDetails {
                    typologies: vec![pb::TiersLieuTypology::Coworking as i32],
                    status: pb::TiersLieuStatus::Open as i32,
                }),
            ),
        };
        Registration::Organisation(pb::RegisterOrganisationRequest {
            request_id: Uuid::now_v7().to_string(),
            profile: Some(pb::OrganisationProfile {
                name,
                commune_code: commune,
                siren: String::new(),
                details: Some(details),
            }),
        })
    }
}

enum Registration {
    Person(pb::RegisterPersonRequest),
    Organisation(pb::RegisterOrganisationRequest),
}

/// Runs `work(i)` for every `i` in `0..count` from [`WRITERS`] tasks; returns the results in order.
async fn in_parallel<T, F, Fut>(count: usize, work: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let work = Arc::new(work);
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            let mut i = writer;
            while i < count {
                done.push((i, work(i).await?));
                i += WRITERS;
            }
            anyhow::Ok(done)
        }));
    }
    let mut all: Vec<(usize, T)> = Vec::with_capacity(count);
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}

/// Runs `call` `times` times, one at a time; returns its latency histogram (µs).
async fn measure<F, Fut, T>(times: usize, mut call: F) -> Result<(Histogram<u64>, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut latencies = Histogram::<u64>::new(3)?;
    let mut last = None;
    for _ in 0..times {
        let sent = Instant::now();
        last = Some(call().await?);
        latencies.record(sent.elapsed().as_micros() as u64)?;
    }
    Ok((latencies, last.context("no call made")?))
}

fn line(label: &str, latencies: &Histogram<u64>, found: &str) {
    println!(
        "  {label:<62} p50 {:>8.2} ms  p99 {:>8.2} ms  {found}",
        latencies.value_at_quantile(0.50) as f64 / 1000.0,
        latencies.value_at_quantile(0.99) as f64 / 1000.0,
    );
}

/// Resident memory of the process, in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("master.key");
    let master = MasterKey::generate_file(&key_file)?;
    let tokens = dir.path().join("tokens");
    let facilitator = bearer(&TokenFile::add(
        &tokens,
        "bench-facilitator",
        &[Role::Facilitator],
    )?)?;
    let analyst = bearer(&TokenFile::add(&tokens, "bench-analyst", &[Role::Analyst])?)?;
    let tool = bearer(&TokenFile::add(&tokens, "bench-tool", &[Role::Tool])?)?;
    let mut config = ServiceConfig::for_dir(dir.path());
    config.master_key_file = Some(key_file);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let config = config.clone();
        tokio::spawn(async move {
            maillage_stakeholders::serve(&config, listener, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let channel = loop {
        match Channel::from_shared(format!("http://{address}"))?
            .connect()
            .await
        {
            Ok(channel) => break channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };

    // 1. The register.
    let communes: Arc<Vec<String>> = Arc::new(
        Territory::shared()
            .communes_of_region(REGION)
            .context("Occitanie")?
            .iter()
            .map(|commune| commune.code.clone())
            .collect(),
    );
    let started = Instant::now();
    let ids = {
        let (channel, token, communes) = (channel.clone(), facilitator.clone(), communes.clone());
        in_parallel(args.stakeholders, move |n| {
            let mut client = StakeholdersClient::new(channel.clone());
            let token = token.clone();
            let registration = registration(n, &communes);
            async move {
                let reply = match registration {
                    Registration::Person(person) => {
                        client.register_person(request(&token, person)).await?
                    }
                    Registration::Organisation(organisation) => {
                        client
                            .register_organisation(request(&token, organisation))
                            .await?
                    }
                };
                Ok(reply.into_inner().id)
            }
        })
        .await?
    };
    let registered_in = started.elapsed();
    let ids = Arc::new(ids);
    let contacts = args.stakeholders / 2;
    let started = Instant::now();
    {
        let (channel, token, ids) = (channel.clone(), facilitator.clone(), ids.clone());
        in_parallel(contacts, move |n| {
            let mut client = StakeholdersClient::new(channel.clone());
            let token = token.clone();
            let ids = ids.clone();
            async move {
                let mut rng = StdRng::seed_from_u64(1_000_000 + n as u64);
                let mut participants = vec![ids[rng.gen_range(0..ids.len())].clone()];
                if rng.gen_bool(0.3) {
                    let other = ids[rng.gen_range(0..ids.len())].clone();
                    if other != participants[0] {
                        participants.push(other);
                    }
                }
                client
                    .log_interaction(request(
                        &token,
                        pb::LogInteractionRequest {
                            request_id: Uuid::now_v7().to_string(),
                            participant_ids: participants,
                            channel: pb::InteractionChannel::Phone as i32,
                            direction: pb::InteractionDirection::Outbound as i32,
                            occurred_at: Some(days_ago(rng.gen_range(1..1_095))),
                            subject: "Le projet de tiers-lieu".into(),
                            topics: vec![rng.gen_range(1..=14)],
                            ..Default::default()
                        },
                    ))
                    .await?;
                Ok(())
            }
        })
        .await?;
    }
    let contacted_in = started.elapsed();
    {
        let (channel, token, ids) = (channel.clone(), facilitator.clone(), ids.clone());
        in_parallel(args.stakeholders / 10, move |n| {
            let mut client = StakeholdersClient::new(channel.clone());
            let token = token.clone();
            // Persons are numbers 0, 1, 2 modulo 5.
            let id = ids[(n * 5) % ids.len()].clone();
            async move {
                client
                    .record_consent(request(
                        &token,
                        pb::RecordConsentRequest {
                            request_id: Uuid::now_v7().to_string(),
                            stakeholder_id: id,
                            expected_version: None,
                            channel: pb::ConsentChannel::Email as i32,
                            legal_basis: pb::LegalBasis::Consent as i32,
                            purposes: vec![],
                        },
                    ))
                    .await?;
                Ok(())
            }
        })
        .await?;
    }
    println!(
        "Register: {} stakeholders in the {} communes of Occitanie ({:.0}/s over gRPC, {WRITERS} clients), {contacts} contacts ({:.0}/s), {} consents",
        args.stakeholders,
        communes.len(),
        args.stakeholders as f64 / registered_in.as_secs_f64(),
        contacts as f64 / contacted_in.as_secs_f64(),
        args.stakeholders / 10,
    );

    // 2. Searches (the first waits for the index to reach the log's head).
    let mut search = StakeholdersClient::new(channel.clone());
    let catch_up = Instant::now();
    loop {
        match search
            .search_stakeholders(request(&analyst, pb::SearchStakeholdersRequest::default()))
            .await
        {
            Ok(_) => break,
            Err(status) if status.code() == tonic::Code::Unavailable => continue,
            Err(status) => return Err(status.into()),
        }
    }
    println!(
        "Index caught up with the log {:.1} s after the last write",
        catch_up.elapsed().as_secs_f64()
    );
    let occitanie = pb::TerritoryRef {
        level: pb::TerritoryLevel::Region as i32,
        code: REGION.into(),
    };
    let aude = pb::TerritoryRef {
        level: pb::TerritoryLevel::Departement as i32,
        code: "11".into(),
    };
    let businesses_to_call = pb::StakeholderFilter {
        territories: vec![occitanie.clone()],
        organisation_types: vec![pb::OrganisationType::Business as i32],
        not_contacted_for_months: 6,
        ..Default::default()
    };
    let searches: Vec<(&str, &MetadataValue<Ascii>, pb::SearchStakeholdersRequest)> = vec![
        (
            "name \"mart\", by name (facilitator: 50 names opened, journalled)",
            &facilitator,
            pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter {
                    name_query: "mart".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        (
            "name \"le bihan eloise\" (facilitator)",
            &facilitator,
            pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter {
                    name_query: "le bihan eloise".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        (
            "everyone, by name (facilitator, 50 names opened)",
            &facilitator,
            pb::SearchStakeholdersRequest::default(),
        ),
        (
            "everyone, by name (analyst: pseudonymous)",
            &analyst,
            pb::SearchStakeholdersRequest::default(),
        ),
        (
            "élus of the Aude not contacted since their mandate (analyst)",
            &analyst,
            pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter {
                    territories: vec![aude.clone()],
                    not_contacted_since_mandate_start: true,
                    ..Default::default()
                }),
                sort: pb::StakeholderSort::LastContact as i32,
                ..Default::default()
            },
        ),
        (
            "businesses not contacted for 6 months, by commune (analyst)",
            &analyst,
            pb::SearchStakeholdersRequest {
                filter: Some(businesses_to_call.clone()),
                sort: pb::StakeholderSort::Commune as i32,
                ..Default::default()
            },
        ),
        (
            "maires with an email consent, contacted on telework (analyst)",
            &analyst,
            pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter {
                    current_mandates: vec![pb::MandateOffice::Maire as i32],
                    contact_topics: vec![pb::Theme::Telework as i32],
                    consent: Some(pb::ConsentFilter {
                        channel: pb::ConsentChannel::Email as i32,
                        legal_basis: 0,
                        purpose: 0,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    ];
    println!(
        "SearchStakeholders over gRPC, {} times each, one at a time (page of 50):",
        args.queries
    );
    let mut businesses_found = 0;
    for (label, token, message) in searches {
        let (latencies, reply) = measure(args.queries, || {
            let mut client = search.clone();
            let message = message.clone();
            let token = (*token).clone();
            async move {
                Ok(client
                    .search_stakeholders(request(&token, message))
                    .await?
                    .into_inner())
            }
        })
        .await?;
        if message.filter.as_ref() == Some(&businesses_to_call) {
            businesses_found = reply.total;
        }
        line(label, &latencies, &format!("{} found", reply.total));
    }
    // Deep pages: the cursor keeps each page's cost flat.
    let (latencies, pages) = measure(args.queries.div_ceil(20).max(1), || {
        let mut client = search.clone();
        let token = analyst.clone();
        async move {
            let mut page_token = String::new();
            let mut pages = 0;
            for _ in 0..20 {
                let reply = client
                    .search_stakeholders(request(
                        &token,
                        pb::SearchStakeholdersRequest {
                            page: Some(pb::PageRequest {
                                page_size: 100,
                                page_token: page_token.clone(),
                            }),
                            ..Default::default()
                        },
                    ))
                    .await?
                    .into_inner();
                pages += 1;
                page_token = reply.page.unwrap_or_default().next_page_token;
            }
            Ok(pages)
        }
    })
    .await?;
    line(
        "20 pages of 100 in a row, by name (analyst), per 20 pages",
        &latencies,
        &format!("{pages} pages"),
    );

    // 3. Baselines.
    println!("Baselines, same run:");
    let (latencies, _) = measure(args.queries, || {
        let mut client = search.clone();
        let token = facilitator.clone();
        let id = ids[rand::thread_rng().gen_range(0..ids.len())].clone();
        async move {
            Ok(client
                .get_stakeholder(request(
                    &token,
                    pb::GetStakeholderRequest { stakeholder_id: id },
                ))
                .await?
                .into_inner())
        }
    })
    .await?;
    line(
        "GetStakeholder by id (facilitator, journalled)",
        &latencies,
        "1 found",
    );
    let log = EventLogClient::new(channel.clone()).max_decoding_message_size(8 << 20);
    let (latencies, scanned) = measure(3, || {
        let token = tool.clone();
        let mut log = log.clone();
        async move { scan_for_businesses_to_call(&mut log, &token).await }
    })
    .await?;
    line(
        "the log read whole (EventLog.ReadAll) and filtered by the client",
        &latencies,
        &format!("{scanned} businesses not contacted for 6 months (search: {businesses_found})"),
    );
    let _ = stop.send(());
    server.await??;

    // 4. The index at open, and rebuilt from the log.
    let data = config.service_dir(maillage_stakeholders::CONTEXT);
    let engine = SledEngine::open(&data, &SledOptions::default())?;
    let db = engine.db().clone();
    let vault = Arc::new(KeyVault::new(
        db.open_tree(maillage_stakeholders::VAULT_TREE)?,
        master,
    )?);
    let before = rss_mib();
    let started = Instant::now();
    let index = SearchIndex::open(db.open_tree(SEARCH_TREE)?, vault.clone())?;
    println!(
        "Index loaded at open in {:.2} s ({} stakeholders; resident memory +{:.0} MiB)",
        started.elapsed().as_secs_f64(),
        index.read().entries.len(),
        rss_mib() - before
    );
    drop(index);
    let store = EventStore::with_engine(Arc::new(engine), StoreOptions::default())?;
    db.drop_tree(SEARCH_TREE)?;
    let rebuilt = SearchIndex::open(db.open_tree(SEARCH_TREE)?, vault)?;
    let started = Instant::now();
    let mut from = 1;
    loop {
        let records = store.read_all(from, 1_024)?;
        let Some(last) = records.last() else { break };
        from = last.position + 1;
        let envelopes: Vec<pb::EventEnvelope> = records
            .iter()
            .map(|record| maillage_envelope::to_envelope("stakeholders", record))
            .collect();
        rebuilt.apply_batch(&envelopes)?;
    }
    println!(
        "Index rebuilt from the whole log ({} events) in {:.1} s",
        from - 1,
        started.elapsed().as_secs_f64()
    );
    store.close().await?;
    Ok(())
}

/// What a tool without the search does: reads the whole log and counts the
/// businesses of Occitanie not contacted for 6 months.
async fn scan_for_businesses_to_call(
    log: &mut EventLogClient<Channel>,
    token: &MetadataValue<Ascii>,
) -> Result<usize> {
    let territory = Territory::shared();
    let region = "region:76".parse()?;
    let now = prost_types::Timestamp::from(SystemTime::now());
    let since = months_before(&now, 6).seconds;
    let mut businesses: HashSet<String> = HashSet::new();
    let mut last_contact: HashMap<String, i64> = HashMap::new();
    let mut from = 1;
    loop {
        let reply = log
            .read_all(request(
                token,
                pb::ReadAllRequest {
                    from_position: from,
                    limit: 10_000,
                    context: String::new(),
                },
            ))
            .await?
            .into_inner();
        let Some(last) = reply.events.last() else {
            break;
        };
        from = last.position + 1;
        for event in &reply.events {
            match event.event_type.as_str() {
                "maillage.v1.OrganisationRegistered" => {
                    let registered = pb::OrganisationRegistered::decode(event.payload.as_slice())?;
                    let profile = registered.profile.unwrap_or_default();
                    let business = matches!(
                        profile.details,
                        Some(pb::organisation_profile::Details::Business(_))
                    );
                    if business && territory.contains(&region, &profile.commune_code) {
                        businesses.insert(registered.stakeholder_id);
                    }
                }
                "maillage.v1.InteractionLogged" => {
                    let logged = pb::InteractionLogged::decode(event.payload.as_slice())?;
                    let at = logged.occurred_at.unwrap_or_default().seconds;
                    for participant in logged.participants {
                        let seen = last_contact.entry(participant.stakeholder_id).or_default();
                        *seen = (*seen).max(at);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(businesses
        .iter()
        .filter(|id| last_contact.get(*id).is_none_or(|at| *at < since))
        .count())
}
