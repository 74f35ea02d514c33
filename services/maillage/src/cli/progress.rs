//! Progress bars of the long commands (`import`, `rebuild`, `restore`): drawn on
//! standard error when it is a terminal, hidden otherwise (a script or a log
//! file gets only the final summary).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps (None: not known yet) drawn with `template` (indicatif's
/// syntax, e.g. `"{bar:40} {pos}/{len} lignes"`), on standard error when it is a
/// terminal.
pub fn bar(len: Option<u64>, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
