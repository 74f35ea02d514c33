//! Crash points, for the tests that kill a process at a chosen instant.
//!
//! A process started with `MAILLAGE_CRASH_AT=<name>` sends itself `SIGKILL`
//! when it reaches the [`crash_point`] of that name, exactly as an operator's
//! `kill -9` would at that instant: no destructor runs, nothing more is
//! flushed. The erasure saga's steps are the points the tests use (see
//! `services/maillage/tests/erasure_crash.rs`). Unset — always, outside those
//! tests — a crash point costs one comparison.

use std::sync::OnceLock;

/// The environment variable naming the crash point to die at.
pub const CRASH_AT: &str = "MAILLAGE_CRASH_AT";

/// Kills this process with `SIGKILL` if it was started with
/// `MAILLAGE_CRASH_AT=<name>`; otherwise does nothing.
pub fn crash_point(name: &str) {
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    let target = TARGET.get_or_init(|| std::env::var(CRASH_AT).ok());
    if target.as_deref() == Some(name) {
        // SAFETY: kill(2) with this process's own id and a valid signal has no
        // memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        // SIGKILL cannot be caught: the line above does not return.
        unreachable!("SIGKILL was sent at crash point {name}");
    }
}
