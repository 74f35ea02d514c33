//! Test helper for the interrupted-rotation test: rotates the master key of the
//! vaults (tree `privacy.keys`) of the sled databases given, printing
//! `rotated <vault index> <subjects done>` after each subject, until done or killed.
//!
//! Usage: `privacy-rotation-child <old key file> <new key file> <database dir>...`.

use std::io::Write;

use maillage_privacy::{KeyVault, MasterKey};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: privacy-rotation-child <old key file> <new key file> <database dir>...";
    let old = MasterKey::from_file(args.next().ok_or(usage)?)?.key;
    let new = MasterKey::from_file(args.next().ok_or(usage)?)?.key;
    let dbs = args.map(sled::open).collect::<Result<Vec<_>, _>>()?;
    let trees = dbs
        .iter()
        .map(|db| db.open_tree("privacy.keys"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    KeyVault::rotate(&trees, &old, &new, |vault, report| {
        let done = report.rewrapped + report.already_current + report.erased;
        if let Err(error) = writeln!(out, "rotated {vault} {done}").and_then(|()| out.flush()) {
            failed.get_or_insert(error);
        }
    })?;
    failed.map_or(Ok(()), |error| Err(error.into()))
}
