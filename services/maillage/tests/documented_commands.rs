//! The `maillage` commands the README and `docs/` show are commands the binary
//! takes: every subcommand, flag and flag value of each documented command
//! line is checked against the real binary's argument parser, so the docs
//! cannot drift from the CLI again (operations.md once said the binary had only
//! `up`, `verify` and `token`).
//!
//! Each command is run with `--help` appended: clap reads the arguments in
//! order, refusing an unknown subcommand, an unknown flag or a bad value
//! (exit code 2), and prints the help once it reaches `--help` (exit code 0),
//! before anything runs. Placeholders such as `<person-id>` are given a value
//! of their kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

const MAILLAGE: &str = env!("CARGO_BIN_EXE_maillage");

/// A documented command line: where it is, and its arguments after `maillage`.
struct Documented {
    place: String,
    arguments: Vec<String>,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README and every page of `docs/`.
fn documents() -> Vec<PathBuf> {
    let mut pages = vec![repository().join("README.md")];
    let docs = std::fs::read_dir(repository().join("docs")).expect("docs/");
    pages.extend(
        docs.map(|entry| entry.expect("a docs entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md")),
    );
    pages.sort();
    pages
}

/// The lines of fenced code blocks, continuation lines (`\`) joined, each with
/// its line number.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut in_code = false;
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let (number, joined) = match pending.take() {
            Some((number, start)) => (number, format!("{start} {}", line.trim())),
            None => (index + 1, line.trim().to_owned()),
        };
        match joined.strip_suffix('\\') {
            Some(start) => pending = Some((number, start.trim_end().to_owned())),
            None => lines.push((number, joined)),
        }
    }
    lines
}

/// A placeholder's stand-in: an id for `<…-id>`, a word otherwise.
fn stand_in(placeholder: &str) -> String {
    if placeholder.ends_with("id>") {
        "0190a5e2-7c3b-7d4e-8f00-1234567890ab".to_owned()
    } else {
        "x".to_owned()
    }
}

/// The line without its shell comment (a `#` starting a word outside quotes).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..at],
            _ => {}
        }
        previous = c;
    }
    line
}

/// The `maillage` commands of one line (`;` and `&&` separate commands; a
/// redirection or a pipe ends one), or the line if it cannot be split as a
/// shell would.
fn commands_of(line: &str) -> Result<Vec<Vec<String>>, String> {
    let line = line.strip_prefix("$ ").unwrap_or(line);
    let line = without_comment(line).replace("cargo run --release -p maillage --", "maillage");
    let mut commands = Vec::new();
    for part in line.split([';', '&']) {
        let Some(words) = shlex::split(part.trim()) else {
            if part.trim().starts_with("maillage ") {
                return Err(line.clone());
            }
            continue;
        };
        if words.first().map(String::as_str) != Some("maillage") {
            continue;
        }
        let arguments: Vec<String> = words[1..]
            .iter()
            .take_while(|word| !matches!(word.as_str(), ">" | "|" | "<"))
            .map(|word| {
                if word.starts_with('<') && word.ends_with('>') {
                    stand_in(word)
                } else {
                    word.clone()
                }
            })
            .collect();
        commands.push(arguments);
    }
    Ok(commands)
}

fn documented_commands() -> Vec<Documented> {
    let mut found = Vec::new();
    for page in documents() {
        let text = std::fs::read_to_string(&page).expect("a page");
        let name = page.file_name().unwrap_or_default().to_string_lossy();
        for (number, line) in code_lines(&text) {
            let commands = commands_of(&line)
                .unwrap_or_else(|line| panic!("{name}:{number}: cannot split `{line}`"));
            for arguments in commands {
                found.push(Documented {
                    place: format!("{name}:{number}"),
                    arguments,
                });
            }
        }
    }
    found
}

#[test]
fn every_documented_command_is_one_the_binary_takes() {
    let documented = documented_commands();
    assert!(
        documented.len() >= 20,
        "only {} commands found in the docs: is the extraction broken?",
        documented.len()
    );
    let mut refused = Vec::new();
    for command in &documented {
        let output = Command::new(MAILLAGE)
            .args(&command.arguments)
            .arg("--help")
            .env("NO_COLOR", "1")
            .output()
            .expect("maillage runs");
        if !output.status.success() {
            refused.push(format!(
                "{}: maillage {}\n{}",
                command.place,
                command.arguments.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(
        refused.is_empty(),
        "documented commands the binary refuses:\n\n{}",
        refused.join("\n")
    );
}

#[test]
fn a_drifted_command_is_caught() {
    // The check itself can fail: a flag the binary does not have is refused.
    let output = Command::new(MAILLAGE)
        .args(["report", "--no-such-flag", "--help"])
        .output()
        .expect("maillage runs");
    assert!(!output.status.success());
    let commands =
        commands_of("maillage erase <person-id> --reason \"x y\"   # l'effacement > ici")
            .expect("a shell line");
    assert_eq!(
        commands,
        vec![vec![
            "erase".to_owned(),
            "0190a5e2-7c3b-7d4e-8f00-1234567890ab".to_owned(),
            "--reason".to_owned(),
            "x y".to_owned()
        ]]
    );
}
