//! `maillage restore`: writes a command service's lost log back from the
//! JetStream stream its relay fed (disaster recovery), the service stopped.
//!
//! It reads every event of the context from the stream, checks each hash and
//! link as the JetStream feed does, writes them into the service's database
//! (`<data-dir>/<context>`) exactly as the lost log held them, verifies the
//! whole log, and sets the relay's checkpoint to the restored head (the
//! stream holds everything up to it). It refuses a result that does not
//! reach the last event the stream holds for the context; the log then stays
//! marked as an unfinished restore, which the service refuses to open.
//!
//! Into an empty log only, unless `--extend`: then the log must hold the
//! start of the context (a backup restored first, or an interrupted
//! restore), and the stream's events continue it from its head, which they
//! must chain to. It restores the log, nothing else of the database: the key
//! vault (stakeholders, engagement) comes from a backup, with the master key
//! (docs/operations.md §4, "Disaster recovery from the feed").

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use maillage_bus::NatsConfig;
use maillage_bus::{restore, write_checkpoint, RestoreConfig, STREAM_NAME};
use maillage_eventstore::{Importer, SledEngine, SledOptions};
use maillage_service_kit::{init_tracing, LogFormat};

use crate::CONTEXTS;

/// What to restore, from where.
#[derive(Debug, clap::Args)]
#[command(mut_arg("servers", |servers| servers
    .long("from")
    .visible_alias("nats")
    .value_name("NATS_URLS")
    .required(true)
    .help("NATS server(s) holding the stream, comma-separated (nats://host:4222)")))]
pub struct RestoreArgs {
    /// The command service whose log is restored: stakeholders, engagement or governance.
    #[arg(long)]
    pub context: String,
    /// The data directory the service runs with: its database is `<data-dir>/<context>`.
    #[arg(long, env = "MAILLAGE_DATA_DIR", default_value = "maillage-data")]
    pub data_dir: PathBuf,
    /// The JetStream stream to read (a copy of MAILLAGE_EVENTS restored
    /// under another name will do).
    #[arg(long, default_value = STREAM_NAME)]
    pub stream: String,
    /// Continue a log that already holds the start of the context (a backup
    /// restored first, or an interrupted restore) instead of refusing it.
    #[arg(long)]
    pub extend: bool,
    /// The NATS servers, credentials and TLS (a user allowed to read the stream).
    #[command(flatten)]
    pub nats: NatsConfig,
}

/// Restores the log of `args.context` from the stream.
pub async fn run(args: RestoreArgs) -> anyhow::Result<()> {
    // Each refused message is a WARN line on stderr (`RUST_LOG` filters).
    init_tracing(LogFormat::Human);
    let context = args.context.as_str();
    if !CONTEXTS.contains(&context) {
        bail!(
            "--context must be one of {}, not {context:?}",
            CONTEXTS.join(", ")
        );
    }
    let dir = args.data_dir.join(context);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let engine = SledEngine::open(&dir, &SledOptions::default())
        .with_context(|| format!("{}: is the {context} service stopped?", dir.display()))?;
    let db = engine.db().clone();
    let mut importer = Importer::new(Arc::new(engine))
        .with_context(|| format!("the {context} log in {}", dir.display()))?;
    let from = importer.head();
    if from.position > 0 && !args.extend {
        bail!(
            "the {context} log in {} is not empty: it holds positions 1 to {}{}. `maillage \
             restore` writes into an empty log; --extend continues this one from the stream (a \
             backup restored first, or an interrupted restore)",
            dir.display(),
            from.position,
            if importer.continues_a_restore() {
                ", from a restore that did not complete"
            } else {
                ""
            }
        );
    }
    let config = RestoreConfig {
        nats: args.nats,
        stream: args.stream,
        context: context.to_owned(),
    };
    let bar = super::progress::bar(
        None,
        "restauration {bar:40} {pos}/{len} messages  {per_sec}  reste {eta}",
    );
    let report = restore(&config, &mut importer, |progress| {
        bar.set_length(progress.messages_total.max(progress.messages_read));
        bar.set_position(progress.messages_read);
    })
    .await;
    bar.finish_and_clear();
    let report =
        report.with_context(|| format!("restoring the {context} log from {}", config.stream))?;
    let head = importer
        .finish()
        .with_context(|| format!("the restored {context} log does not verify"))?;
    write_checkpoint(&db, context, head.position)?;
    db.flush()?;
    let hash: String = head.hash.iter().map(|byte| format!("{byte:02x}")).collect();
    println!("{context:<13} restored  head {:>9}  {hash}", head.position);
    println!(
        "{:<13} {} events written after position {}, from {} messages of {}: {} copies \
         skipped, {} refused{}",
        "",
        report.written,
        report.from.position,
        report.messages,
        config.stream,
        report.copies,
        report.refusals.count(),
        report
            .refusals
            .last()
            .map(|last| format!(" (last: {last})"))
            .unwrap_or_default()
    );
    Ok(())
}
