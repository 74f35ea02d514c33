//! Where the service binaries are: `$MAILLAGE_E2E_BIN_DIR`, else the profile
//! directory of the running executable (`target/<profile>/`, the parent of the
//! `deps/` or `examples/` directory a test or an example runs from), where
//! `cargo build --workspace --bins` puts them.

use std::path::PathBuf;

use anyhow::{bail, Context};

/// The environment variable that overrides the binaries' directory.
pub const BIN_DIR_ENV: &str = "MAILLAGE_E2E_BIN_DIR";

/// The directory holding the workspace's binaries.
pub fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("cannot locate the running executable")?;
    // target/<profile>/deps/<test> or target/<profile>/examples/<example>.
    exe.parent()
        .and_then(|dir| dir.parent())
        .map(PathBuf::from)
        .context("the running executable has no grandparent directory")
}

/// The path of the workspace binary `name`, which must have been built.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let path = bin_dir()?.join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build the service binaries first \
             (cargo build --workspace --bins --locked, with the same profile and target \
             directory as the tests), or set {BIN_DIR_ENV}",
            path.display()
        );
    }
    Ok(path)
}
