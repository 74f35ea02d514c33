//! The `maillage-console` binary on its own, in front of services that are
//! not there: it starts (the gRPC channel connects lazily), serves the
//! sign-in page, and says in French that the services cannot be reached;
//! without a respondent token the public survey page says it is unavailable.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONSOLE: &str = env!("CARGO_BIN_EXE_maillage-console");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request; the whole answer as text.
fn request(port: u16, head: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{head}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_binary_serves_its_pages_and_says_when_the_services_are_unreachable() {
    let http = free_port();
    let grpc = free_port();
    let mut console = Command::new(CONSOLE)
        .args(["--http", &format!("127.0.0.1:{http}")])
        .args(["--grpc", &format!("http://127.0.0.1:{grpc}")])
        .env_remove("MAILLAGE_RESPONDENT_TOKEN_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", http)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the console did not open its port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let page = request(http, "GET /connexion HTTP/1.1", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = &page[start..start + page[start..].find('"').unwrap()];
    let signed = request(
        http,
        "POST /connexion HTTP/1.1",
        &format!("csrf={csrf}&token=mlg_anything"),
    );
    assert!(signed.starts_with("HTTP/1.1 503"), "{signed}");
    assert!(signed.contains("momentanément indisponible"), "{signed}");
    let survey = request(
        http,
        "GET /enquete/0190d3a0-0000-7000-8000-000000000000 HTTP/1.1",
        "",
    );
    assert!(survey.starts_with("HTTP/1.1 503"), "{survey}");
    assert!(survey.contains("ne sont pas disponibles"), "{survey}");
    console.kill().unwrap();
    console.wait().unwrap();
}
