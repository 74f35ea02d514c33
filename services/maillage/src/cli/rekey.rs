//! `maillage rekey`: rotates the master key offline, rewrapping every data key of
//! every service database that holds a key vault (stakeholders, engagement).
//!
//! Run it with the platform stopped. Once the new key works, destroy the old one:
//! that is also what makes the copies of erased keys that sled may still keep in
//! its files unrecoverable (docs/operations.md §6).

use std::path::PathBuf;

use anyhow::Context;
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
    let mut found = 0;
    for (service, tree) in VAULTS {
        let dir = args.data_dir.join(service);
        if !dir.exists() {
            continue;
        }
        found += 1;
        let db = open_sled(&dir, &SledOptions::default())
            .with_context(|| format!("{}: is the platform stopped?", dir.display()))?;
        let report = KeyVault::rewrap(&db.open_tree(tree)?, &old, &new)
            .with_context(|| format!("rewrapping the key vault of {service}"))?;
        db.flush()?;
        println!(
            "{service:<13} {} keys rewrapped, {} already under the new key, {} erased",
            report.rewrapped, report.already_current, report.erased
        );
    }
    anyhow::ensure!(
        found > 0,
        "no service database with a key vault under {}",
        args.data_dir.display()
    );
    Ok(())
}
