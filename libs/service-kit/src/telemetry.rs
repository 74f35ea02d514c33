//! Logging and tracing set-up: human-readable or JSON lines on stderr, filtered
//! by `RUST_LOG` (default `info`).
//!
//! Logging never stands between a request and its reply: a log line that
//! cannot be written (stderr on a full disk, a closed pipe) is dropped and
//! counted ([`dropped_log_lines`]), never reported with `eprintln!` (which
//! panics when stderr itself fails) and never turned into an error.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Compact lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Log lines that could not be written since the process started.
static DROPPED_LINES: AtomicU64 = AtomicU64::new(0);

/// How many log lines could not be written to stderr (and were dropped)
/// since the process started.
pub fn dropped_log_lines() -> u64 {
    DROPPED_LINES.load(Ordering::Relaxed)
}

/// Installs the global tracing subscriber. Idempotent: when one is installed
/// already (a second call, or tests), it leaves it and returns `false`.
pub fn init_tracing(format: LogFormat) -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `log_internal_errors(false)`: the layer must not `eprintln!` about a
    // failed write (our writer reports none anyway, but a panic there would
    // take the request, or the process, with it).
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(LossyStderr)
        .log_internal_errors(false);
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Human => registry.with(layer).try_init().is_ok(),
        LogFormat::Json => registry
            .with(layer.json().with_current_span(true).with_span_list(false))
            .try_init()
            .is_ok(),
    }
}

/// Records `value` in the field `field` of the current span when it is a
/// UUID (as the parsed UUID); leaves the field empty otherwise. For handlers
/// that look ids up as strings: a raw request string, of any size and with
/// any newlines, must never reach a log line.
pub fn record_uuid(field: &str, value: &str) {
    if let Ok(id) = uuid::Uuid::parse_str(value.trim()) {
        tracing::Span::current().record(field, tracing::field::display(id));
    }
}

/// Makes writers to stderr that never fail: what stderr refuses is dropped
/// and counted in [`dropped_log_lines`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LossyStderr;

impl<'a> MakeWriter<'a> for LossyStderr {
    type Writer = LossyWriter<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        LossyWriter::new(io::stderr())
    }
}

/// A writer that reports success whatever its inner writer does, and counts
/// the lines it could not write. The fmt layer writes one event per
/// `write_all`, so a failed `write` is one dropped line.
#[derive(Debug)]
pub struct LossyWriter<W> {
    inner: W,
}

impl<W: Write> LossyWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<W: Write> Write for LossyWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.write_all(buf).is_err() {
            DROPPED_LINES.fetch_add(1, Ordering::Relaxed);
        }
        // Claim it all: the caller must neither retry nor see an error.
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.inner.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_idempotent() {
        let first = init_tracing(LogFormat::Json);
        // Whatever the first call found, a second one never panics and installs nothing.
        assert!(!init_tracing(LogFormat::Human));
        let _ = first;
    }

    /// A writer that fails like stderr on a full disk.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28)) // ENOSPC
        }

        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from_raw_os_error(28))
        }
    }

    #[test]
    fn a_failing_sink_is_swallowed_and_counted() {
        let before = dropped_log_lines();
        let mut writer = LossyWriter::new(Full);
        writer.write_all(b"a line\n").unwrap();
        writer.flush().unwrap();
        assert!(dropped_log_lines() > before);
    }
}
