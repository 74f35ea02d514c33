//! Shared by the web console's tests: the console started in front of a real
//! platform (see `common`), a bare HTTP/1.1 client for the tests that need no
//! browser, and a headless Chromium driven over WebDriver ([`browser`]).

#![allow(dead_code)]

pub mod browser;

use std::time::Duration;

use maillage_console::{Console, ConsoleOptions};
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::Platform;

/// The platform and its console.
pub struct Site {
    pub platform: Platform,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
}

impl Site {
    /// A platform on a temp dir and its console, with the defaults.
    pub async fn start() -> Site {
        Self::start_with(|_| {}).await
    }

    /// [`Site::start`], the console's options changed by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut ConsoleOptions)) -> Site {
        let platform = Platform::start().await;
        let config = ServiceConfig::for_dir(platform.data_dir());
        let mut options = ConsoleOptions::new(platform.endpoint.clone());
        options.respondent_token = Some(maillage::bootstrap::respondent_token(&config).unwrap());
        tweak(&mut options);
        let router = Console::router(options).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(Console::serve(listener, router, std::future::pending()));
        Site { platform, url }
    }

    /// A new token for `principal` with `roles`.
    pub fn token(&self, principal: &str, roles: &[Role]) -> String {
        let config = ServiceConfig::for_dir(self.platform.data_dir());
        TokenFile::add(config.tokens_path(), principal, roles).unwrap()
    }

    /// Signs in over plain HTTP; returns the session cookie (`name=value`).
    pub async fn sign_in(&self, token: &str) -> String {
        let page = get(&format!("{}/connexion", self.url), None).await;
        let csrf = hidden(&page.body, "csrf");
        let form = encode(&[("csrf", &csrf), ("suite", "/"), ("token", token)]);
        let reply = post(&format!("{}/connexion", self.url), None, &form).await;
        assert_eq!(reply.status, 303, "sign-in: {}", reply.body);
        session_cookie(&reply).expect("a session cookie")
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// `name=value` of the session cookie a reply sets, if it sets one with a value.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    let set = reply.header("set-cookie")?;
    let pair = set.split(';').next()?.trim().to_owned();
    pair.split_once('=')
        .filter(|(_, value)| !value.is_empty())
        .map(|_| pair.clone())
}

/// The value of the hidden input `name` of an HTML page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A form body.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// `GET url` with the cookie.
pub async fn get(url: &str, cookie: Option<&str>) -> Reply {
    request("GET", url, cookie, None).await
}

/// `POST url` of a form body with the cookie.
pub async fn post(url: &str, cookie: Option<&str>, form: &str) -> Reply {
    request(
        "POST",
        url,
        cookie,
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub async fn request(
    method: &str,
    url: &str,
    cookie: Option<&str>,
    body: Option<(&str, &str)>,
) -> Reply {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let mut stream = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(host),
    )
    .await
    .expect("connects in time")
    .expect("connects");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(cookie) = cookie {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    let body = match body {
        Some((kind, body)) => {
            head.push_str(&format!("Content-Type: {kind}\r\n"));
            body
        }
        None => "",
    };
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let raw = tokio::time::timeout(Duration::from_secs(60), read_reply(&mut stream))
        .await
        .expect("answers in time");
    parse(&raw)
}

/// Reads one answer: up to its Content-Length, to its last chunk, or to the
/// end of the connection (a server may keep it open despite `Connection: close`).
async fn read_reply(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        if read == 0 {
            return raw;
        }
        raw.extend_from_slice(&buffer[..read]);
        let Some(split) = raw.windows(4).position(|window| window == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let body = raw.len() - split - 4;
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse::<usize>().ok());
        let complete = match length {
            Some(length) => body >= length,
            None => head.contains("transfer-encoding: chunked") && raw.ends_with(b"0\r\n\r\n"),
        };
        if complete {
            return raw;
        }
    }
}

fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(key, value)| key == "transfer-encoding" && value.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|window| window == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
}
