//! The real `maillage-governance` binary, run as its own process, under faults
//! and hostile input: its stderr on a full disk (`/dev/full`) must change no
//! reply and not kill it; ids of 100 KB full of newlines must reach no log line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{with_token, Harness, Role};
use maillage_proto::v1 as pv1;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_service_kit::testing::{connect, logged_port};
use tonic::Code;

const GOVERNANCE: &str = env!("CARGO_BIN_EXE_maillage-governance");

/// A port nothing listens on (it could be taken again before the child binds it:
/// then `start` reports that the child exited).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The binary serving `dir` on `port`, its stderr sent to `stderr`.
struct Process {
    child: Child,
    port: u16,
}

impl Process {
    /// The binary on `listen`, its stderr to `stderr`.
    fn spawn(dir: &Path, listen: &str, stderr: File, env: &[(&str, &str)]) -> Child {
        Command::new(GOVERNANCE)
            .args(["--listen", listen])
            .arg("--data-dir")
            .arg(dir)
            .env_remove("MAILLAGE_NATS_URL")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("maillage-governance starts")
    }

    /// Starts it on a free port (its stderr may say nothing: `/dev/full`) and
    /// waits (bounded) until the port accepts connections.
    fn start(dir: &Path, stderr: File, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut child = Self::spawn(dir, &format!("127.0.0.1:{port}"), stderr, env);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().expect("child status") {
                panic!("maillage-governance exited before serving: {status}");
            }
            assert!(Instant::now() < deadline, "the port never opened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    /// Starts it on `127.0.0.1:0`, its stderr to `log`, and waits (bounded)
    /// until the log says which port it bound ("serving gRPC").
    fn start_logged(dir: &Path, log: &Path, env: &[(&str, &str)]) -> Self {
        let stderr = File::create(log).expect("log file");
        let mut child = Self::spawn(dir, "127.0.0.1:0", stderr, env);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let port = logged_port(&text, "serving gRPC");
            if let Some(port) = port {
                return Self { child, port };
            }
            if let Some(status) = child.try_wait().expect("child status") {
                panic!("maillage-governance exited before serving: {status}");
            }
            assert!(Instant::now() < deadline, "the server never said its port");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Still running?
    fn running(&mut self) -> bool {
        self.child.try_wait().expect("child status").is_none()
    }

    /// SIGTERM, then its exit status.
    fn stop(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -TERM {pid} failed");
        self.child.wait().expect("child exit status")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A test that failed half-way must not leave the server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn get_consortium(token: &str, id: &str) -> tonic::Request<pv1::GetConsortiumRequest> {
    with_token(
        token,
        pv1::GetConsortiumRequest {
            consortium_id: id.into(),
        },
    )
}

/// Regression (issue 15, defect 9): with stderr on a full filesystem the
/// server exited 101 at start-up, and every error reply became CANCELLED,
/// because the log writer's failure path panicked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_stderr_neither_cancels_replies_nor_kills_the_server() {
    let harness = Harness::new();
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full (Linux)");
    let mut process = Process::start(harness.data.path(), full, &[("RUST_LOG", "debug")]);
    let channel = connect(process.address()).await.unwrap();
    let mut governance = GovernanceClient::new(channel.clone());
    let mut log = EventLogClient::new(channel);

    let refused = governance
        .get_consortium(get_consortium(
            "mlg_not-a-real-token",
            &uuid::Uuid::now_v7().to_string(),
        ))
        .await
        .expect_err("a bad token is refused");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");

    let invalid = governance
        .get_consortium(get_consortium(
            harness.tokens.of(Role::Secretary),
            "not-a-uuid",
        ))
        .await
        .expect_err("a bad id is refused");
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid:?}");
    assert!(
        invalid.message().starts_with("consortium_id"),
        "{invalid:?}"
    );

    let missing = governance
        .get_consortium(get_consortium(
            harness.tokens.of(Role::Secretary),
            &uuid::Uuid::now_v7().to_string(),
        ))
        .await
        .expect_err("no such consortium");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    let read = log
        .read_all(with_token(
            harness.tokens.of(Role::Tool),
            pv1::ReadAllRequest::default(),
        ))
        .await
        .expect("a good call still succeeds");
    assert_eq!(read.into_inner().head_position, 0);

    assert!(process.running(), "the server died while serving");
    let status = process.stop();
    assert!(status.success(), "the server exited with {status}");
}

/// Regression (issue 15, defect 11): handler spans recorded the raw id strings
/// of requests before validating them, so 100 KB of newlines in an id became
/// forged and blank log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_never_reach_the_log() {
    let harness = Harness::new();
    let log_path = harness.data.path().join("stderr.log");
    // Trace level: every event inside a handler's span (sled's own traces
    // among them) prints that span's fields.
    let process = Process::start_logged(
        harness.data.path(),
        &log_path,
        &[("RUST_LOG", "trace"), ("NO_COLOR", "1")],
    );
    let channel = connect(process.address()).await.unwrap();
    let mut governance = GovernanceClient::new(channel.clone());
    let mut log = EventLogClient::new(channel);

    let forged_line = "2026-01-01T00:00:00.000000Z  INFO forged: an injected log line";
    let forged = format!("x\n{forged_line}\n").repeat(100 * 1024 / (forged_line.len() + 3) + 1);
    assert!(forged.len() >= 100 * 1024);
    let invalid = governance
        .get_consortium(get_consortium(harness.tokens.of(Role::Secretary), &forged))
        .await
        .expect_err("not a UUID");
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid:?}");

    // Whitespace around a UUID is refused (the one id rule of every service),
    // and the refusal does not echo it.
    let id = uuid::Uuid::now_v7();
    let blank = "\n".repeat(50 * 1024);
    let padded = format!("{blank}{id}{blank}");
    let refused = governance
        .get_consortium(get_consortium(harness.tokens.of(Role::Secretary), &padded))
        .await
        .expect_err("not a bare UUID");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let missing = governance
        .get_consortium(get_consortium(
            harness.tokens.of(Role::Secretary),
            &id.to_string(),
        ))
        .await
        .expect_err("no such consortium");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    let context = log
        .read_all(with_token(
            harness.tokens.of(Role::Tool),
            pv1::ReadAllRequest {
                context: forged.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("no such log");

    let status = process.stop();
    assert!(status.success(), "the server exited with {status}");
    let text = std::fs::read_to_string(&log_path).expect("the log");
    assert!(
        text.contains("GetConsortium") && text.contains("rpc finished"),
        "the log was not captured"
    );
    assert!(
        !text.contains("an injected log line"),
        "a forged line reached the log"
    );
    let blank_lines = text.lines().filter(|line| line.trim().is_empty()).count();
    assert_eq!(blank_lines, 0, "newlines from a request reached the log");
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 16 * 1024, "a log line of {longest} bytes");
    // The span still names the consortium: by its parsed id.
    assert!(
        text.contains(&format!("consortium_id={id}")),
        "the parsed id is not on the span"
    );

    // The unknown log's 100 KB name is not echoed back either (it made a reply
    // header too large for the client).
    assert_eq!(context.code(), Code::InvalidArgument, "{context:?}");
    assert!(context.message().len() < 1024, "the name is echoed back");
}
