//! Helpers for the tests that run the real `maillage` binary as separate processes:
//! `maillage up` in a directory on a port it bound itself, the admin commands
//! against it, a clean stop; and free ports, for what must know its port
//! before the binary starts (a restart on the same port, a closed port).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use maillage_service_kit::testing::logged_port;

pub const MAILLAGE: &str = env!("CARGO_BIN_EXE_maillage");

/// A port nothing listens on now (another process may take it before the caller binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// `maillage up` in `dir` on a port of its own, once it answers: returns it and its port.
pub fn start(dir: &Path) -> (Child, u16) {
    start_with(dir, None, &[])
}

/// [`start`], with the platform's log (stderr) written to `log`.
pub fn start_logged(dir: &Path, log: &Path) -> (Child, u16) {
    start_with(dir, Some(log), &[])
}

/// [`start`], with the log (stderr) to `log` if given and the environment
/// variables `env` set. It listens on `127.0.0.1:0`: the port is the one the
/// platform bound, read from its log's "maillage is up" line, so no other
/// test can take it first; and the platform counts as up once it accepts the
/// admin token it wrote in `dir`.
pub fn start_with(dir: &Path, log: Option<&Path>, env: &[(&str, &str)]) -> (Child, u16) {
    start_with_args(dir, log, env, &[])
}

/// [`start_with`], with more arguments for `maillage up` (`--nats URL`,
/// `--master-key-file PATH`).
pub fn start_with_args(
    dir: &Path,
    log: Option<&Path>,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Child, u16) {
    // Without a log to keep, the log goes to a file of its own, read for the port.
    let scratch = tempfile::NamedTempFile::new().expect("a log file");
    let log = log.unwrap_or(scratch.path());
    let mut child = Command::new(MAILLAGE)
        .args(["up", "--listen", "127.0.0.1:0"])
        // Ports are ephemeral here: no web console on its fixed default port.
        .env("MAILLAGE_HTTP", "off")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).expect("a log file")))
        .spawn()
        .expect("maillage up starts");
    let port = bound_port(log, &mut child);
    assert!(
        answers(dir, port, &mut child),
        "maillage up exited before it answered: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    (child, port)
}

/// The port in the "maillage is up" line of the log at `log` (human or JSON:
/// `address=127.0.0.1:<port>` or `"address":"127.0.0.1:<port>"`), once written.
fn bound_port(log: &Path, child: &mut Child) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let port = logged_port(&text, "maillage is up");
        if let Some(port) = port {
            return port;
        }
        if let Some(status) = child.try_wait().expect("the child's state") {
            panic!("maillage up exited ({status}) before it was up: {text}");
        }
        assert!(
            Instant::now() < deadline,
            "maillage up never said it was up: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until `child` serves `port` with the admin token of `dir`;
/// false if it exited first.
fn answers(dir: &Path, port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().expect("the child's state").is_some() {
            return false;
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && dir.join("maillage-data/admin.token").exists()
            && maillage(dir, port, &["token", "list"]).status.success()
        {
            return true;
        }
        assert!(
            Instant::now() < deadline,
            "maillage up did not open its port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `maillage up` in `dir` on the given `port` (a test that restarts the
/// platform on the port its clients know), with more arguments for it (e.g.
/// `--nats URL`) and its log (stderr) written to `log`, once the port accepts.
pub fn start_logged_on(dir: &Path, port: u16, log: &Path, args: &[&str]) -> Child {
    let log = std::fs::File::create(log).expect("a log file");
    let child = Command::new(MAILLAGE)
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        // Ports are ephemeral here: no web console on its fixed default port.
        .env("MAILLAGE_HTTP", "off")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("maillage up starts");
    wait_for_port(port);
    child
}

/// Waits (bounded) until something accepts connections on `port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "maillage up did not open its port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (bounded) until `path` exists: on a first start, `maillage up`
/// opens its port before it has written its admin token.
pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process that is killed and reaped if it is still held when
/// dropped (a test that fails midway leaves no server behind).
pub struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// The child, no longer killed on drop.
    pub fn take(mut self) -> Child {
        self.0.take().expect("the child is held until taken")
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is held until taken")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops `maillage up` with SIGTERM and checks it exits cleanly.
pub fn stop(mut up: Child) {
    let pid = up.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = up.wait().unwrap();
    assert!(status.success(), "maillage up exited with {status}");
}

/// Runs `maillage <args> --endpoint ...` in `dir` (so it finds the admin token there).
pub fn maillage(dir: &Path, port: u16, args: &[&str]) -> Output {
    Command::new(MAILLAGE)
        .args(args)
        .args(["--endpoint", &format!("http://127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("MAILLAGE_TOKEN")
        .output()
        .expect("maillage runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
