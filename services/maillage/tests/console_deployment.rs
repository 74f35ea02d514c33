//! The web console as it is deployed: its sessions survive a restart of the
//! console (stored sealed in the session directory, never the token or the
//! cookie's id in clear), end at their expiry and at sign-out, and end with
//! a revoked token; and it reaches services that serve gRPC over TLS,
//! trusting the CA it is given and refusing a server another CA vouches for.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use maillage_console::{Console, ConsoleOptions};
use maillage_eventstore::FixedClock;
use maillage_service_kit::testing::Spawned;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use web::{encode, get, hidden, post, Reply};

/// A console served in the test, stopped on demand.
struct Running {
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(options: ConsoleOptions) -> Running {
        let router = Console::router(options).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(Console::serve(listener, router, async {
            let _ = stopped.await;
        }));
        Running { url, stop, task }
    }

    /// Stops it and waits until it let go of its session store.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }

    /// The sign-in form posted with `token`.
    async fn try_sign_in(&self, token: &str) -> Reply {
        sign_in_at(&self.url, token).await
    }

    async fn sign_in(&self, token: &str) -> String {
        let reply = self.try_sign_in(token).await;
        assert_eq!(reply.status, 303, "sign-in: {}", reply.body);
        web::session_cookie(&reply).expect("a session cookie")
    }

    async fn status(&self, path: &str, cookie: &str) -> u16 {
        get(&format!("{}{path}", self.url), Some(cookie))
            .await
            .status
    }
}

async fn sign_in_at(url: &str, token: &str) -> Reply {
    let page = get(&format!("{url}/connexion"), None).await;
    let form = encode(&[
        ("csrf", &hidden(&page.body, "csrf")),
        ("suite", "/acteurs"),
        ("token", token),
    ]);
    post(&format!("{url}/connexion"), None, &form).await
}

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_console_restart_sealed_and_end_at_expiry_sign_out_and_revocation() {
    let platform = common::Platform::start().await;
    let start = SystemTime::now();
    let clock = Arc::new(FixedClock::new(start));
    let store = platform.dir.path().join("console-sessions");
    let mut options = ConsoleOptions::new(platform.endpoint.clone());
    options.session_dir = Some(store.clone());
    options.clock = clock.clone();
    options.session_idle = Duration::from_secs(600);
    options.session_max = Duration::from_secs(1800);
    let tokens = ServiceConfig::for_dir(platform.data_dir()).tokens_path();
    let alice = TokenFile::add(&tokens, "alice", &[Role::Facilitator]).unwrap();
    let bob = TokenFile::add(&tokens, "bob", &[Role::Facilitator]).unwrap();
    let carol = TokenFile::add(&tokens, "carol", &[Role::Facilitator]).unwrap();

    let console = Running::start(options.clone()).await;
    let alice_cookie = console.sign_in(&alice).await;
    let bob_cookie = console.sign_in(&bob).await;
    let carol_cookie = console.sign_in(&carol).await;
    let bob_page = get(&format!("{}/acteurs", console.url), Some(&bob_cookie)).await;
    assert_eq!(bob_page.status, 200);
    console.stop().await;

    // What is on disk: neither a token nor a cookie's session id, in a
    // directory only its owner may enter.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }
    let stored = files(&store);
    assert!(!stored.is_empty());
    for secret in [&alice, &bob, &carol] {
        assert!(stored.iter().all(|(_, bytes)| !holds(bytes, secret)));
    }
    for cookie in [&alice_cookie, &bob_cookie, &carol_cookie] {
        let id = cookie.split_once('=').unwrap().1;
        assert!(stored.iter().all(|(_, bytes)| !holds(bytes, id)));
    }

    // A new console on the same directory knows the sessions, and their
    // CSRF tokens: Bob signs out with the form of the page he had.
    let console = Running::start(options.clone()).await;
    assert_eq!(console.status("/acteurs", &alice_cookie).await, 200);
    let signed_out = post(
        &format!("{}/deconnexion", console.url),
        Some(&bob_cookie),
        &encode(&[("csrf", &hidden(&bob_page.body, "csrf"))]),
    )
    .await;
    assert_eq!(signed_out.status, 303, "{}", signed_out.body);
    assert_eq!(console.status("/acteurs", &bob_cookie).await, 303);
    // Carol's token is revoked: her session ends at its next call.
    TokenFile::revoke(&tokens, "carol").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while console.status("/acteurs", &carol_cookie).await == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked session lives on"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    console.stop().await;

    // Signed out and revoked stay ended after a restart; Alice's session
    // lives until her idle time runs out, then ends, restart or not.
    let console = Running::start(options.clone()).await;
    assert_eq!(console.status("/acteurs", &bob_cookie).await, 303);
    assert_eq!(console.status("/acteurs", &carol_cookie).await, 303);
    clock.set(start + Duration::from_secs(9 * 60));
    assert_eq!(console.status("/acteurs", &alice_cookie).await, 200);
    console.stop().await;
    clock.set(start + Duration::from_secs(18 * 60));
    let console = Running::start(options.clone()).await;
    assert_eq!(
        console.status("/acteurs", &alice_cookie).await,
        200,
        "used at 9 min, idle until 19 min"
    );
    clock.set(start + Duration::from_secs(29 * 60 + 30));
    console.stop().await;
    let console = Running::start(options.clone()).await;
    assert_eq!(
        console.status("/acteurs", &alice_cookie).await,
        303,
        "idle since 18 min"
    );
    console.stop().await;
    // Started past every expiry, a console purges what is left.
    clock.set(start + Duration::from_secs(3600));
    let console = Running::start(options).await;
    console.stop().await;
    let records = sled_records(&store);
    assert_eq!(records, 0, "expired sessions are purged");
}

/// How many sessions the store at `dir` holds.
fn sled_records(dir: &Path) -> usize {
    let db =
        maillage_eventstore::open_sled(dir, &maillage_eventstore::SledOptions::default()).unwrap();
    db.open_tree("sessions").unwrap().len()
}

/// A CA, and the certificates it signs.
struct Pki {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&key).unwrap();
        Pki {
            pem: ca.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for 127.0.0.1 and localhost: (certificate, key) as PEM.
    fn server(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "maillage");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Writes the server certificate and key of `pki` in `dir`, and its CA.
fn write_pki(dir: &Path, pki: &Pki) -> (PathBuf, PathBuf, PathBuf) {
    let (cert, key) = pki.server();
    let paths = (
        dir.join("server.pem"),
        dir.join("server.key"),
        dir.join("ca.pem"),
    );
    std::fs::write(&paths.0, cert).unwrap();
    std::fs::write(&paths.1, key).unwrap();
    std::fs::write(&paths.2, &pki.pem).unwrap();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_speaks_tls_to_the_services_and_refuses_a_certificate_its_ca_did_not_sign() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("Maillage test CA");
    let (cert, key, ca) = write_pki(dir.path(), &pki);
    let mut config = ServiceConfig::for_dir(dir.path().join("data"));
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    maillage::bootstrap::prepare(&config).unwrap();
    let token = TokenFile::add(config.tokens_path(), "alice", &[Role::Facilitator]).unwrap();
    let served = config.clone();
    let server = Spawned::spawn(move |listener, shutdown| async move {
        maillage::platform::serve(&served, listener, shutdown).await
    })
    .await
    .unwrap();
    let port = server.address().port();
    let with = |endpoint: String, ca: Option<Vec<u8>>| {
        let mut options = ConsoleOptions::new(endpoint);
        options.grpc_ca = ca;
        options
    };

    // Trusting the CA that signed the services' certificate: a real TLS
    // handshake, sign-in (Admin.WhoAmI) and a page (SearchStakeholders).
    for host in ["127.0.0.1", "localhost"] {
        let console = Running::start(with(
            format!("https://{host}:{port}"),
            Some(std::fs::read(&ca).unwrap()),
        ))
        .await;
        let cookie = console.sign_in(&token).await;
        let page = get(&format!("{}/acteurs", console.url), Some(&cookie)).await;
        assert_eq!(page.status, 200, "{host}: {}", page.body);
        assert!(page.body.contains("0 acteur(s)"), "{}", page.body);
        console.stop().await;
    }
    // The name checked may be given apart from the address reached.
    let mut named = with(
        format!("https://127.0.0.1:{port}"),
        Some(std::fs::read(&ca).unwrap()),
    );
    named.grpc_tls_name = Some("maillage.example.org".to_owned());
    let refused = [
        (
            "another CA",
            with(
                format!("https://127.0.0.1:{port}"),
                Some(Pki::new("Another CA").pem.into_bytes()),
            ),
        ),
        ("a name the certificate does not bear", named),
        (
            "plain HTTP/2",
            with(format!("http://127.0.0.1:{port}"), None),
        ),
    ];
    for (what, options) in refused {
        let console = Running::start(options).await;
        let reply = console.try_sign_in(&token).await;
        assert_eq!(reply.status, 503, "{what}: {}", reply.body);
        // A failed handshake is UNAVAILABLE; plain HTTP/2 to a TLS port is a
        // protocol error, which the page calls an internal error.
        assert!(
            reply.body.contains("indisponible") || what == "plain HTTP/2",
            "{what}: {}",
            reply.body
        );
        assert!(reply.header("set-cookie").is_none(), "{what}");
        console.stop().await;
    }
    // Settings that cannot work are refused at start.
    for (what, endpoint, ca) in [
        (
            "a CA for plain http",
            "http://127.0.0.1:1",
            Some(pki.pem.clone().into_bytes()),
        ),
        (
            "a CA file without a certificate",
            "https://127.0.0.1:1",
            Some(b"junk".to_vec()),
        ),
        ("https without a CA", "https://127.0.0.1:1", None),
        ("no scheme", "127.0.0.1:1", None),
    ] {
        assert!(
            Console::router(with(endpoint.to_owned(), ca)).is_err(),
            "{what}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maillage_up_with_tls_serves_its_console_and_keeps_its_sessions_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("Maillage test CA");
    let (cert, key, ca) = write_pki(dir.path(), &pki);
    let http = process::free_port();
    let site = format!("http://127.0.0.1:{http}");
    let up = || {
        let log = std::fs::File::create(dir.path().join("up.log")).unwrap();
        let child = std::process::Command::new(process::MAILLAGE)
            .args(["up", "--listen", "127.0.0.1:0", "--http"])
            .arg(format!("127.0.0.1:{http}"))
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .arg("--grpc-ca")
            .arg(&ca)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let child = process::KillOnDrop::new(child);
        process::wait_for_port(http);
        process::wait_for_file(&dir.path().join("maillage-data/admin.token"));
        child
    };
    let first = up();
    let admin = std::fs::read_to_string(dir.path().join("maillage-data/admin.token")).unwrap();
    let reply = sign_in_at(&site, admin.trim()).await;
    let log = || std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default();
    assert_eq!(reply.status, 303, "{}\n{}", reply.body, log());
    let cookie = web::session_cookie(&reply).unwrap();
    assert_eq!(
        get(&format!("{site}/acteurs"), Some(&cookie)).await.status,
        200
    );
    process::stop(first.take());
    assert!(dir.path().join("maillage-data/console-sessions").is_dir());

    let _second = up();
    let page = get(&format!("{site}/acteurs"), Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}\n{}", page.body, log());
    assert!(page.body.contains("admin"));
}
