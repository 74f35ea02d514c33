//! The demo's HTML report rendered by a real browser (headless Chromium): the page
//! loads offline, its script runs, the expected figures are in the rendered DOM and a
//! screenshot can be taken. Chromium is required: this test fails (never skips) when
//! it is missing; `scripts/test` installs the Debian package `chromium`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{text, Platform};
use maillage::report::labels::percent;

/// The browser: `MAILLAGE_CHROMIUM`, else `/usr/bin/chromium`.
fn chromium() -> PathBuf {
    let path = std::env::var_os("MAILLAGE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "Chromium is missing at {}: install it (`apt-get install -y chromium`, as scripts/test does) \
         or point MAILLAGE_CHROMIUM at it — this test does not skip",
        path.display()
    );
    path
}

fn headless(profile: &Path) -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_demo_report_with_its_figures() {
    let platform = Platform::start().await;
    let (_, data, path) = platform.demo(2026, 0.2, "maillage-report.html").await;
    let url = format!("file://{}", path.display());
    let profile = platform.dir.path().join("chromium-profile");

    let dumped = headless(&profile)
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .expect("chromium runs");
    assert!(
        dumped.status.success(),
        "chromium failed: {}",
        text(&dumped.stderr)
    );
    let dom = text(&dumped.stdout);
    assert!(
        dom.contains("<title>Maillage — engagement du territoire : CC du Castelrenaudais</title>"),
        "{dom}"
    );
    let territory = &data.territory;
    assert!(dom.contains(&percent(territory.coverage)));
    assert_eq!(
        dom.matches("<tr class=\"niveau-").count(),
        16,
        "one row per commune"
    );
    for code in &territory.white_zone_communes {
        let name = &territory
            .communes
            .iter()
            .find(|c| &c.code == code)
            .unwrap()
            .name;
        assert!(dom.contains(name.as_str()), "white zone {name}");
    }
    assert!(dom.contains(&format!(
        "<strong>{}</strong> réponses",
        territory.survey_responses
    )));
    assert!(dom.contains("Consortium des tiers-lieux du Castelrenaudais"));
    assert!(dom.contains("<svg"), "inline charts");

    let shot = platform.dir.path().join("report.png");
    let captured = headless(&profile)
        .args(["--window-size=1280,2400"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        captured.status.success(),
        "chromium failed: {}",
        text(&captured.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    assert!(
        png.len() > 20_000,
        "a screenshot with content ({} bytes)",
        png.len()
    );
    platform.stop().await;
}
