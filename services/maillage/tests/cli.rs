//! The `maillage` binary as a user runs it: `up` in a real process on a free port with a
//! fresh data directory, then the admin commands against it, then a graceful stop.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const MAILLAGE: &str = env!("CARGO_BIN_EXE_maillage");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// `maillage up` in `dir`, once its port accepts connections.
fn start(dir: &Path, port: u16) -> Child {
    let child = Command::new(MAILLAGE)
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("maillage up starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "maillage up did not open its port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn maillage(dir: &Path, port: u16, args: &[&str]) -> Output {
    Command::new(MAILLAGE)
        .args(args)
        .args(["--endpoint", &format!("http://127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("MAILLAGE_TOKEN")
        .output()
        .expect("maillage runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn up_creates_its_secrets_serves_the_admin_commands_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut up = start(dir.path(), port);

    let data = dir.path().join("maillage-data");
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    assert!(token.starts_with("mlg_"));
    let tokens_file = std::fs::read_to_string(data.join("tokens")).unwrap();
    assert!(
        !tokens_file.contains(token.trim()),
        "only the token's hash is stored"
    );
    use std::os::unix::fs::PermissionsExt;
    for secret in ["admin.token", "master.key", "tokens"] {
        let mode = std::fs::metadata(data.join(secret))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{secret} is readable by others");
    }

    let verified = maillage(dir.path(), port, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let report = text(&verified.stdout);
    assert!(
        report.contains("engagement") && report.contains("governance") && report.contains("intact"),
        "{report}"
    );

    let added = maillage(
        dir.path(),
        port,
        &["token", "add", "bi-tool", "--roles", "analyst,tool"],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let new_token = text(&added.stdout).trim().to_string();
    let listed = text(&maillage(dir.path(), port, &["token", "list"]).stdout);
    assert!(listed.contains("bi-tool  analyst,tool"), "{listed}");

    // The new token may not administer tokens.
    let refused = maillage(dir.path(), port, &["token", "list", "--token", &new_token]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("may not"),
        "{}",
        text(&refused.stderr)
    );

    let revoked = maillage(dir.path(), port, &["token", "revoke", "bi-tool"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let after = maillage(dir.path(), port, &["token", "list", "--token", &new_token]);
    assert!(
        text(&after.stderr).contains("token was refused"),
        "{}",
        text(&after.stderr)
    );

    let bad_role = maillage(dir.path(), port, &["token", "add", "x", "--roles", "root"]);
    assert!(
        text(&bad_role.stderr).contains("roles: unknown role"),
        "{}",
        text(&bad_role.stderr)
    );

    let elsewhere = Command::new(MAILLAGE)
        .args([
            "verify",
            "--endpoint",
            &format!("http://127.0.0.1:{}", free_port()),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        text(&elsewhere.stderr).contains("cannot reach Maillage"),
        "{}",
        text(&elsewhere.stderr)
    );

    // SIGTERM: drains and exits 0.
    let pid = up.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = up.wait().unwrap();
    assert!(status.success(), "maillage up exited with {status}");
}
