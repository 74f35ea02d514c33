//! NATS credentials and TLS for the bus, against a real nats-server that
//! requires them: connecting without credentials (or with a wrong password,
//! or without the CA) fails with a clear error; with them the relay publishes
//! and the JetStream feed consumes. The TLS test makes its CA, server and
//! client certificates with rcgen and has the server verify the client. The
//! last test runs `deploy/nats/authorization.conf` as it is: each process
//! does its part (a restore reading the stream as `reader` included), and
//! no more.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use async_nats::jetstream;
use common::*;
use maillage_bus::NatsConfig;
use maillage_bus::{
    connect, ensure_stream, restore, Checkpoints, ConnectError, JetStreamFeed, JetStreamFeedConfig,
    Relay, RestoreConfig,
};
use maillage_eventstore::{Importer, SledEngine, SledOptions};
use maillage_nats_test::NatsServer;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_util::sync::CancellationToken;

const USER: &str = "maillage-relay";
const PASSWORD: &str = "correct horse battery staple";

/// The authorization block of a server with one user.
fn authorization() -> String {
    format!("authorization {{ users = [ {{ user: \"{USER}\", password: \"{PASSWORD}\" }} ] }}\n")
}

/// The servers of `url`, as the test user with `password`.
fn as_user(url: &str, password: &str) -> NatsConfig {
    as_named(url, USER, password)
}

/// The servers of `url`, as `user` with `password`.
fn as_named(url: &str, user: &str, password: &str) -> NatsConfig {
    let mut nats = NatsConfig::from(url);
    nats.user = Some(user.to_owned());
    nats.password = Some(password.to_owned());
    nats
}

/// Relays `log` to the servers of `nats`, then consumes it back over the
/// JetStream feed (durable `durable`) with the same settings.
async fn relay_and_consume(log: &Log, nats: &NatsConfig, durable: &str) -> anyhow::Result<()> {
    let mut config = relay_config(&log.context, "unused");
    config.nats = nats.clone();
    let relay = Relay::spawn(log.store.clone(), &log.db, config, CancellationToken::new())?;
    wait_checkpoint(&relay, log.store.head().position).await?;
    let mut feed_config = JetStreamFeedConfig::new(nats.clone(), durable);
    feed_config.backoff_max = Duration::from_millis(500);
    let mut feed = JetStreamFeed::new(feed_config, &Checkpoints::new())?;
    let mut fold = Fold::default();
    fold.consume_until(&mut feed, &heads(&[log])).await?;
    anyhow::ensure!(fold.checkpoints == heads(&[log]));
    relay.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_requiring_a_password_refuses_strangers_and_serves_the_bus() -> anyhow::Result<()>
{
    let nats = NatsServer::start_with_config(&authorization(), &[]).await?;
    let url = nats.url();

    for (who, config) in [
        ("no credentials", NatsConfig::from(url.as_str())),
        ("a wrong password", as_user(&url, "guess")),
    ] {
        let error = connect(&config, "stranger")
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("{who}: connected"))?;
        let message = error.to_string();
        assert!(
            matches!(error, ConnectError::Refused { .. }),
            "{who}: {message}"
        );
        assert!(message.contains("refused the connection"), "{message}");
        assert!(message.contains("authorization violation"), "{message}");
        assert!(!message.contains(PASSWORD), "{message}");
    }

    // A relay without credentials publishes nothing and says why.
    let log = Log::open("stakeholders")?;
    log.append(5).await?;
    let stranger = spawn_relay(&log, &url)?;
    let mut status = stranger.status();
    tokio::time::timeout(PATIENCE, status.wait_for(|s| s.interruptions > 0)).await??;
    let error = status.borrow().last_error.clone().unwrap_or_default();
    assert!(error.contains("refused the connection"), "{error}");
    assert_eq!(stranger.checkpoint(), 0);
    stranger.shutdown().await?;

    // With the user and its password, the relay publishes and the feed consumes.
    relay_and_consume(&log, &as_user(&url, PASSWORD), "authenticated").await?;
    Ok(())
}

/// A CA, and a certificate it signed for `names` (a server's or a client's).
struct Pki {
    ca: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> anyhow::Result<Self> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Maillage test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&key)?;
        Ok(Self {
            ca,
            issuer: Issuer::new(params, key),
        })
    }

    /// Writes `<name>.pem` and `<name>.key` in `dir`, signed by the CA.
    fn issue(
        &self,
        dir: &Path,
        name: &str,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> anyhow::Result<()> {
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer)?;
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem())?;
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem())?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_ca_and_a_client_certificate() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::new()?;
    std::fs::write(dir.path().join("ca.pem"), pki.ca.pem())?;
    pki.issue(
        dir.path(),
        "server",
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    pki.issue(
        dir.path(),
        "client",
        &["maillage-relay"],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let file = |name: &str| dir.path().join(name);
    let server_config = format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{}\"\n  verify: true\n  timeout: 2\n}}\n{}",
        file("server.pem").display(),
        file("server.key").display(),
        file("ca.pem").display(),
        authorization(),
    );
    let nats = NatsServer::start_with_config(&server_config, &[]).await?;
    let url = nats.url();

    // Without the CA, the server's certificate is not trusted.
    let mut no_ca = as_user(&url, PASSWORD);
    no_ca.tls_client_cert = Some(file("client.pem"));
    no_ca.tls_client_key = Some(file("client.key"));
    let error = connect(&no_ca, "no-ca").await.err();
    assert!(
        matches!(error, Some(ConnectError::Tls { .. })),
        "without the CA: {error:?}"
    );

    // With the CA but no client certificate, the server refuses the client.
    let mut no_client = as_user(&url, PASSWORD);
    no_client.ca = Some(file("ca.pem"));
    let error = connect(&no_client, "no-client").await.err();
    assert!(
        matches!(error, Some(ConnectError::Tls { .. })),
        "without a client certificate: {error:?}"
    );

    // With both (and the password), the relay publishes and the feed consumes.
    let mut full = no_client;
    full.tls_client_cert = Some(file("client.pem"));
    full.tls_client_key = Some(file("client.key"));
    connect(&full, "check").await?;
    let log = Log::open("governance")?;
    log.append(7).await?;
    relay_and_consume(&log, &full, "over-tls").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_authorization_lets_each_process_do_its_part_and_no_more() -> anyhow::Result<()>
{
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/authorization.conf");
    let users = [
        "admin",
        "stakeholders",
        "engagement",
        "governance",
        "projections",
        "maillage",
        "reader",
    ];
    let passwords: Vec<(String, String)> = users
        .iter()
        .map(|user| {
            (
                format!("NATS_{}_PASSWORD", user.to_uppercase()),
                // Not a bare UUID: nats-server parses a variable's value, and
                // one that reads as a number or a date (`12345678-…`, `5e12…`)
                // stops it at start.
                format!("pw-{}", uuid::Uuid::new_v4()),
            )
        })
        .collect();
    let env: Vec<(&str, &str)> = passwords
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    // Its text as it is (an `include` is relative to the including file).
    let nats = NatsServer::start_with_config(&std::fs::read_to_string(&file)?, &env).await?;
    let url = nats.url();
    let user = |name: &str| {
        let index = users.iter().position(|user| *user == name).unwrap();
        as_named(&url, name, &passwords[index].1)
    };

    // A service cannot create the stream (with one replica, by mistake): admin does.
    let stakeholders = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(connect(&user("stakeholders"), "stakeholders").await?);
    assert!(ensure_stream(&stakeholders, 1).await.is_err());
    let admin = jetstream::new(connect(&user("admin"), "admin").await?);
    ensure_stream(&admin, 1).await?;

    // Each command service relays its own log and reads the feed.
    let log = Log::open("stakeholders")?;
    log.append(4).await?;
    relay_and_consume(&log, &user("stakeholders"), "stakeholders-own").await?;
    let mut feed_config = JetStreamFeedConfig::new(user("projections"), "projections");
    feed_config.backoff_max = Duration::from_millis(500);
    let mut feed = JetStreamFeed::new(feed_config, &Checkpoints::new())?;
    Fold::default()
        .consume_until(&mut feed, &heads(&[&log]))
        .await?;

    // A restore (`maillage restore`) reads a context back as the reader.
    let dir = tempfile::tempdir()?;
    let engine = SledEngine::open(dir.path(), &SledOptions::default())?;
    let mut importer = Importer::new(std::sync::Arc::new(engine))?;
    let config = RestoreConfig::new(user("reader"), "stakeholders");
    let report = restore(&config, &mut importer, |_| {}).await?;
    assert_eq!(report.head, log.store.head());

    // Nobody else publishes that context's events: not engagement's relay,
    // not the projections, not a reader.
    for name in ["engagement", "projections", "reader"] {
        let client = connect(&user(name), name).await?;
        let context = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(1))
            .build(client);
        let published = async {
            context
                .publish(
                    "maillage.events.stakeholders.stakeholder.PersonRegistered",
                    "forged".into(),
                )
                .await?
                .await?;
            anyhow::Ok(())
        };
        assert!(
            published.await.is_err(),
            "{name} published a stakeholders event"
        );
    }
    Ok(())
}
