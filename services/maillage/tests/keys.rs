//! Master-key rotation and projection rebuild, as an operator runs them: a demo's data,
//! `maillage rekey` offline, the platform restarted under the new key only, then
//! `maillage rebuild` online.

mod process;

use std::process::{Command, Stdio};

use process::{free_port, maillage, stop, text, MAILLAGE};

#[test]
fn rekey_then_the_new_key_alone_opens_the_vaults_and_rebuild_replays_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Command::new(MAILLAGE)
        .args(["demo", "--scale", "0.05", "--out", "report.html"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let data = dir.path().join("maillage-data");

    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, format!("{}\n", "ab".repeat(32))).unwrap();
    let rekeyed = Command::new(MAILLAGE)
        .arg("rekey")
        .arg("--data-dir")
        .arg(&data)
        .arg("--old-key-file")
        .arg(data.join("master.key"))
        .arg("--new-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert!(rekeyed.status.success(), "{}", text(&rekeyed.stderr));
    // One line per vault: "<service> <n> keys rewrapped, ...": both hold the demo's keys.
    let report = text(&rekeyed.stdout);
    let rewrapped = |service: &str| -> u64 {
        let line = report
            .lines()
            .find(|line| line.split_whitespace().next() == Some(service))
            .unwrap_or_else(|| panic!("no line for {service}: {report}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(rewrapped("stakeholders") > 0, "{report}");
    assert!(rewrapped("engagement") > 0, "{report}");

    // The old key no longer opens the vaults: the platform refuses to start with it.
    let port = free_port();
    let with_old_key = Command::new(MAILLAGE)
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!with_old_key.status.success());
    assert!(
        text(&with_old_key.stderr).contains("master key"),
        "{}",
        text(&with_old_key.stderr)
    );

    // Under the new key it starts, and the projections rebuild from the logs.
    let up = Command::new(MAILLAGE)
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--master-key-file")
        .arg(&new_key)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    process::wait_for_port(port);
    let rebuilt = maillage(dir.path(), port, &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let replayed: u64 = text(&rebuilt.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(replayed > 100, "{}", text(&rebuilt.stdout));
    let verified = maillage(dir.path(), port, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    stop(up);
}
