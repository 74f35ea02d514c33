//! First start of the all-in-one platform: the data directory, an admin token and a master key.
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
