//! Benchmark: `maillage import stakeholders` of a Répertoire national des
//! élus maires file of `--rows` rows (35,000 by default, about France's
//! number of communes), end to end, against the event store's own append
//! rate measured in the same run.
//!
//! 1. Writes an RNE maires file (the data.gouv.fr header, `;`, UTF-8): one
//!    maire per commune of the COG 2026 (then again from the first commune
//!    with other names past the number of communes), generated names and
//!    birth dates.
//! 2. Starts the stakeholders service in-process on 127.0.0.1 (TCP, bearer
//!    auth, a durable sled log in a temp dir) and imports the file as the CLI
//!    does (`maillage::import::parse`, then `cli::import::send` in batches of
//!    500): every row is created (a person, two mandates, the import fact:
//!    one append of 4 events). Times the parse and the import.
//! 3. Imports the same file again (every row skipped by its fingerprint) and
//!    times it.
//! 4. The store alone, in a fresh temp dir: one writer appending, one append
//!    at a time, `--rows` appends of 4 events of the same sizes (the import's
//!    shape: rows are written one after the other), then 16 writers.
//!
//! `cargo run --release -p maillage --example import_bench -- --rows 35000`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Result;
use maillage::cli::client::Connection;
use maillage::import::{self, Format};
use maillage_eventstore::{EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions};
use maillage_privacy::MasterKey;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use maillage_territory::Territory;
use uuid::Uuid;

const HEADER: &str = "Code du département;Libellé du département;Code de la collectivité à statut particulier;Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;Date de début du mandat;Date de début de la fonction";

const GIVEN: [&str; 16] = [
    "Camille",
    "Léa",
    "Éloïse",
    "Hélène",
    "Agnès",
    "Françoise",
    "Noémie",
    "Maëlle",
    "Lucas",
    "Hugo",
    "Louis",
    "Jean-Pierre",
    "François",
    "Rémi",
    "Benoît",
    "Jérôme",
];
const FAMILY: [&str; 16] = [
    "Martin", "Bernard", "Le Bihan", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia",
];

/// The import of an RNE maires file against the store's own append rate.
#[derive(clap::Parser)]
struct Args {
    /// Rows of the generated file.
    #[arg(long, default_value_t = 35_000)]
    rows: usize,
}

/// The RNE maires file of `rows` rows.
fn maires_file(rows: usize) -> String {
    let communes = Territory::shared().communes();
    let mut text = String::with_capacity(rows * 160);
    text.push_str(HEADER);
    text.push('\n');
    for row in 0..rows {
        let commune = &communes[row % communes.len()];
        let round = row / communes.len();
        let given = GIVEN[row % GIVEN.len()];
        let family = format!(
            "{} {}",
            FAMILY[(row / GIVEN.len()) % FAMILY.len()],
            round + row / 256
        );
        let year = 1940 + row % 50;
        let month = 1 + row % 12;
        let day = 1 + row % 28;
        let _ = writeln!(
            text,
            "{};Département;;;{};{};{};{};F;{year}-{month:02}-{day:02};33;Cadre;2026-03-22;2026-03-28",
            commune.departement,
            commune.code,
            commune.name,
            family.to_uppercase(),
            given
        );
    }
    text
}

/// `appends` appends of 4 events each (the import's shape) by `writers` tasks.
async fn store_rate(appends: usize, writers: usize) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = EventStore::open(dir.path(), StoreOptions::default())?;
    let sizes = [180, 60, 60, 90];
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for writer in 0..writers {
        let store = store.clone();
        let count = appends / writers + usize::from(writer < appends % writers);
        tasks.push(tokio::spawn(async move {
            for _ in 0..count {
                let stream = format!("stakeholder-{}", Uuid::now_v7());
                let request_id = Uuid::now_v7().to_string();
                let events = sizes
                    .iter()
                    .map(|size| EventData {
                        event_id: Uuid::now_v7(),
                        event_type: "maillage.v1.MandateStarted".into(),
                        payload: vec![writer as u8; *size],
                        metadata: EventMetadata {
                            actor: "bench-facilitator".into(),
                            request_id: request_id.clone(),
                            correlation_id: request_id.clone(),
                            causation_id: request_id.clone(),
                        },
                    })
                    .collect();
                store
                    .append(&stream, ExpectedVersion::NoStream, events)
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = appends as f64 / started.elapsed().as_secs_f64();
    store.close().await?;
    Ok(rate)
}

#[tokio::main]
async fn main() -> Result<()> {
    let rows = <Args as clap::Parser>::parse().rows;
    let dir = tempfile::tempdir()?;
    let file = maires_file(rows);
    std::fs::write(dir.path().join("maires.csv"), &file)?;
    println!(
        "RNE maires file: {rows} rows, {:.1} MiB",
        file.len() as f64 / (1 << 20) as f64
    );

    MasterKey::generate_file(dir.path().join("master.key"))?;
    let token = TokenFile::add(
        dir.path().join("tokens"),
        "bench-facilitator",
        &[Role::Facilitator],
    )?;
    let mut config = ServiceConfig::for_dir(dir.path());
    config.master_key_file = Some(dir.path().join("master.key"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        maillage_stakeholders::serve(&config, listener, async {
            let _ = stopped.await;
        })
        .await
    });
    let connection = Connection {
        endpoint: format!("http://{address}"),
        token: Some(token),
        data_dir: dir.path().to_path_buf(),
        purpose: None,
    };
    let (channel, seen) = loop {
        match connection.connect_session().await {
            Ok(connected) => break connected,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };

    let started = Instant::now();
    let parsed = import::parse(file.as_bytes(), Format::Auto, None)?;
    let parse_time = started.elapsed();
    anyhow::ensure!(parsed.rows.len() == rows, "{} errors", parsed.errors.len());
    println!(
        "parse: {:.2} s ({:.0} rows/s)",
        parse_time.as_secs_f64(),
        rows as f64 / parse_time.as_secs_f64()
    );

    for run in [
        "first import (every row created)",
        "second import (every row skipped)",
    ] {
        let started = Instant::now();
        let results =
            maillage::cli::import::send(channel.clone(), &seen, &parsed, false, 500, |_| {})
                .await?;
        let elapsed = started.elapsed();
        let summary = maillage::cli::import::summary(&results);
        println!(
            "{run}: {:.1} s, {:.0} rows/s — created {}, updated {}, skipped {}, failed {}",
            elapsed.as_secs_f64(),
            rows as f64 / elapsed.as_secs_f64(),
            summary.created,
            summary.updated,
            summary.skipped,
            summary.failed
        );
    }
    let _ = stop.send(());
    server.await??;

    for writers in [1, 16] {
        let rate = store_rate(rows, writers).await?;
        println!("EventStore::append of 4 events, {writers} writer(s): {rate:.0} appends/s");
    }
    Ok(())
}
