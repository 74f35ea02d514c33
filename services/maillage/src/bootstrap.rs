//! First start of the all-in-one platform: the data directory, an admin token,
//! a master key, and the web console's respondent token.
//!
//! With no tokens file, `maillage up` creates one holding an `admin` token and
//! writes that token to `<data-dir>/admin.token` (mode 0600), where the CLI
//! finds it. With no master key configured, it generates `<data-dir>/master.key`
//! (mode 0600). The paths are printed for the operator; the secrets never are.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use maillage_privacy::MasterKey;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};

/// Where the first admin token is kept for the CLI.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.token")
}

/// Where the web console's `respondent` token is kept (see [`respondent_token`]).
pub fn respondent_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("respondent.token")
}

/// The principal of the public survey page's token.
pub const RESPONDENT: &str = "console-respondent";

/// The token the web console's public survey page answers surveys with (role
/// `respondent`: it may read an open survey and answer it, nothing else):
/// the one in `<data-dir>/respondent.token` while the tokens file still
/// holds it, else a new one, added to the tokens file and saved there (mode
/// 0600).
pub fn respondent_token(config: &ServiceConfig) -> anyhow::Result<String> {
    let path = respondent_token_path(&config.data_dir);
    let tokens = config.tokens_path();
    if let Ok(saved) = std::fs::read_to_string(&path) {
        let saved = saved.trim().to_owned();
        if TokenFile::load(&tokens)?.lookup(&saved).is_some() {
            return Ok(saved);
        }
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
    }
    let token = TokenFile::add(&tokens, RESPONDENT, &[Role::Respondent])?;
    write_secret(&path, &token)?;
    say(format_args!(
        "maillage: added the web console's respondent token (public survey page) to {}, saved in {} (mode 600)",
        tokens.display(),
        path.display()
    ));
    Ok(token)
}

/// Where the generated master key is kept when none is configured.
pub fn master_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("master.key")
}

/// Creates what a first start needs; says on stderr what it created.
pub fn prepare(config: &ServiceConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let tokens = config.tokens_path();
    if !tokens.exists() {
        let token = TokenFile::add(&tokens, "admin", &[Role::Admin])?;
        let path = admin_token_path(&config.data_dir);
        write_secret(&path, &token)?;
        say(format_args!(
            "maillage: created the tokens file {} with an admin token, saved in {} (mode 600)",
            tokens.display(),
            path.display()
        ));
    }
    if config.master_key_file.is_none()
        && std::env::var_os(maillage_service_kit::config::MASTER_KEY_ENV).is_none()
    {
        let path = master_key_path(&config.data_dir);
        if !path.exists() {
            MasterKey::generate_file(&path)?;
            say(format_args!(
                "maillage: generated the master key {} (mode 600): back it up apart from the data",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Writes a line on stderr if it can: unlike `eprintln!`, a stderr that
/// fails (a full disk) does not panic and stop the start-up.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The master key: configured, or the one generated in the data directory.
pub fn master_key(config: &ServiceConfig) -> anyhow::Result<MasterKey> {
    if config.master_key_file.is_none()
        && std::env::var_os(maillage_service_kit::config::MASTER_KEY_ENV).is_none()
    {
        let loaded = MasterKey::from_file(master_key_path(&config.data_dir))?;
        return Ok(loaded.key);
    }
    Ok(config.master_key()?)
}

fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    Ok(())
}
