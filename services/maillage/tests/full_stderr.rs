//! `maillage` with its stderr on a full disk (`/dev/full`): the first
//! `maillage up` still creates its secrets, serves and stops cleanly, and a
//! failing command exits 1, not 101 (a panic of `eprintln!`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{free_port, maillage, stop, text, MAILLAGE};

fn full() -> File {
    File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full (Linux)")
}

/// Regression (issue 15, defect 9): the first start said what it created with
/// `eprintln!`, which panicked on a failing stderr and exited 101.
#[test]
fn up_on_a_full_stderr_serves_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut up = Command::new(MAILLAGE)
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        // Ports are ephemeral here: no web console on its fixed default port.
        .env("MAILLAGE_HTTP", "off")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(full())
        .spawn()
        .expect("maillage up starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = up.try_wait().unwrap() {
            panic!("maillage up exited before serving: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "maillage up did not open its port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(dir.path().join("maillage-data/admin.token").exists());

    let verified = maillage(dir.path(), port, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    assert!(text(&verified.stdout).contains("intact"));
    let refused = maillage(
        dir.path(),
        port,
        &["token", "list", "--token", "mlg_not-a-real-token"],
    );
    assert!(
        text(&refused.stderr).contains("vérifiez --token ou MAILLAGE_TOKEN"),
        "{}",
        text(&refused.stderr)
    );
    stop(up);
}

/// Regression (issue 15, defect 9): a command that fails reported its error
/// with `eprintln!`, which panicked on a failing stderr and exited 101.
#[test]
fn a_failing_command_on_a_full_stderr_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let status = Command::new(MAILLAGE)
        .args([
            "verify",
            "--endpoint",
            &format!("http://127.0.0.1:{closed}"),
        ])
        .current_dir(dir.path())
        .env_remove("MAILLAGE_TOKEN")
        .stdout(Stdio::null())
        .stderr(full())
        .status()
        .expect("maillage runs");
    assert_eq!(status.code(), Some(1), "{status}");
}
