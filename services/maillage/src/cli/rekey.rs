//! `maillage rekey`: rotates the master key offline, rewrapping every data key of
//! every service database that holds a key vault (stakeholders, engagement).
//!
//! Run it with the platform stopped. The rotation is one across all the vaults
//! and resumable: if it is interrupted, no service starts (with either key)
//! until `maillage rekey` is run again with the same two keys, which completes
//! it. Once the new key works, destroy the old one: that is also what makes
//! the copies of erased keys that sled may still keep in its files
//! unrecoverable (docs/operations.md §6).

use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maillage_eventstore::{open_sled, SledOptions};
use maillage_privacy::{KeyVault, MasterKey};

/// The services whose database holds a key vault, with the vault's tree.
const VAULTS: [(&str, &str); 2] = [
    (
        maillage_stakeholders::CONTEXT,
        maillage_stakeholders::VAULT_TREE,
    ),
    (
        maillage_engagement::CONTEXT,
        maillage_engagement::VAULT_TREE,
    ),
];

/// What to rekey.
#[derive(Debug, clap::Args)]
pub struct RekeyArgs {
    /// The platform's data directory (each service's database is a folder in it).
    #[arg(long, env = "MAILLAGE_DATA_DIR", default_value = "maillage-data")]
    pub data_dir: PathBuf,
    /// The master key in use now.
    #[arg(long)]
    pub old_key_file: PathBuf,
    /// The new master key (32 bytes, hex or base64; `maillage` never creates it here).
    #[arg(long)]
    pub new_key_file: PathBuf,
}

/// Rewraps every vault under `data_dir` from the old key to the new one.
pub fn run(args: RekeyArgs) -> anyhow::Result<()> {
    let old = MasterKey::from_file(&args.old_key_file)?.key;
    let new = MasterKey::from_file(&args.new_key_file)?.key;
    let mut services = Vec::new();
    let mut trees = Vec::new();
    for (service, tree) in VAULTS {
        let dir = args.data_dir.join(service);
        if !dir.exists() {
            continue;
        }
        let db = open_sled(&dir, &SledOptions::default())
            .with_context(|| format!("{}: is the platform stopped?", dir.display()))?;
        trees.push(db.open_tree(tree)?);
        services.push(service);
    }
    anyhow::ensure!(
        !services.is_empty(),
        "no service database with a key vault under {}",
        args.data_dir.display()
    );
    let progress = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} keys ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let reports = KeyVault::rotate(&trees, &old, &new, |index, report| {
        progress.set_message(services[index]);
        progress.set_position(report.rewrapped + report.already_current + report.erased);
    })
    .context("rotating the master key of the key vaults")?;
    progress.finish_and_clear();
    for (service, report) in services.iter().zip(&reports) {
        println!(
            "{service:<13} {} keys rewrapped, {} already under the new key, {} erased",
            report.rewrapped, report.already_current, report.erased
        );
    }
    Ok(())
}
