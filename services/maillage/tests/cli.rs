//! The `maillage` binary as a user runs it: `up` in a real process on a free port with a
//! fresh data directory, then the admin commands against it, then a graceful stop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::process::Command;

use process::{free_port, maillage, start_logged, stop, text, MAILLAGE};

#[test]
fn up_creates_its_secrets_serves_the_admin_commands_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("up.log");
    let (up, port) = start_logged(dir.path(), &log);

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
        &[
            "token",
            "add",
            "bi-tool",
            "--roles",
            "analyst,tool",
            "--expires",
            "2099-12-31",
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let new_token = text(&added.stdout).trim().to_string();
    let listed = text(&maillage(dir.path(), port, &["token", "list"]).stdout);
    let line = listed
        .lines()
        .find(|line| line.contains("bi-tool"))
        .unwrap_or_else(|| panic!("{listed}"));
    // The token's first characters, its creation date and its expiry; never the token.
    assert!(
        line.contains(&format!(
            "{}…  bi-tool  analyst,tool  créé le ",
            &new_token[..10]
        )),
        "{line}"
    );
    assert!(line.ends_with("expire le 31/12/2099 à 00:00 UTC"), "{line}");
    assert!(!listed.contains(&new_token), "{listed}");
    let past = maillage(
        dir.path(),
        port,
        &[
            "token",
            "add",
            "late",
            "--roles",
            "tool",
            "--expires",
            "2001-01-01",
        ],
    );
    assert!(
        text(&past.stderr)
            .contains("champ expires_at) : L'expiration 2001-01-01T00:00:00Z (UTC) n'est pas"),
        "{}",
        text(&past.stderr)
    );

    // The new token may not administer tokens.
    let refused = maillage(dir.path(), port, &["token", "list", "--token", &new_token]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("refusé (PERMISSION_DENIED) : Votre rôle ne permet pas"),
        "{}",
        text(&refused.stderr)
    );

    let revoked = maillage(dir.path(), port, &["token", "revoke", "bi-tool"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let after = maillage(dir.path(), port, &["token", "list", "--token", &new_token]);
    assert!(
        text(&after.stderr).contains("vérifiez --token ou MAILLAGE_TOKEN"),
        "{}",
        text(&after.stderr)
    );

    let bad_role = maillage(dir.path(), port, &["token", "add", "x", "--roles", "root"]);
    assert!(
        text(&bad_role.stderr).contains("(INVALID_ARGUMENT, champ roles) : Rôle inconnu « root »"),
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

    // SIGTERM: drains and exits 0, and a normal stop logs no error (the
    // projections' feed closing with the logs is a stop, not a failure).
    stop(up);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("maillage is up"), "{log}");
    let errors: Vec<&str> = log.lines().filter(|line| line.contains("ERROR")).collect();
    assert!(errors.is_empty(), "a clean stop logged errors: {errors:#?}");
}
