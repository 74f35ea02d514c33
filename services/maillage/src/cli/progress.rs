//! Progress bars of the long commands (`import`, `rebuild`, `restore`, a
//! report as of an instant): drawn on standard error when it is a terminal,
//! hidden otherwise (a script or a log file gets only the final summary).

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::ProjectionStatusRequest;

use super::client::Authed;
use crate::report::labels::thousands;

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

/// How often a long operation's progress is read.
const POLL: Duration = Duration::from_millis(500);

/// Runs `work` and meanwhile, when `bar` is drawn, calls `poll` every half
/// second to move it; clears the bar at the end.
pub async fn follow<T, P>(
    work: impl Future<Output = T>,
    bar: &ProgressBar,
    mut poll: impl FnMut() -> P,
) -> T
where
    P: Future<Output = ()>,
{
    tokio::pin!(work);
    let done = loop {
        tokio::select! {
            done = &mut work => break done,
            () = tokio::time::sleep(POLL), if !bar.is_hidden() => poll().await,
        }
    };
    bar.finish_and_clear();
    done
}

/// Runs `work` (a report as of an instant), and meanwhile, on a terminal, a
/// spinner counting the events the platform's `as_of` replays have read
/// (`GetProjectionStatus.replays`, every replay running: the platform does
/// not tell whose).
pub async fn while_replaying<T>(channel: Authed, work: impl Future<Output = T>) -> T {
    let spinner = bar(
        None,
        "{spinner} relecture des journaux : {msg}  ({elapsed})",
    );
    let status = ProjectionsClient::new(channel);
    follow(work, &spinner, || {
        let (mut status, spinner) = (status.clone(), spinner.clone());
        async move {
            // Progress is a courtesy: a status that fails to come is skipped.
            if let Ok(reply) = status
                .get_projection_status(ProjectionStatusRequest {})
                .await
            {
                let read: u64 = reply
                    .into_inner()
                    .replays
                    .iter()
                    .map(|r| r.events_read)
                    .sum();
                spinner.set_message(format!("{} événements lus", thousands(read)));
                spinner.tick();
            }
        }
    })
    .await
}
