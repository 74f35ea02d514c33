//! Test helper for the crash test: appends from several tasks until killed and prints,
//! for each acknowledged append, `ack <position> <event id>` on its own line.
//!
//! Usage: `eventstore-crash-writer <data dir> <tasks>`.

use std::io::Write;
use std::path::PathBuf;

use maillage_eventstore::{EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions};
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: eventstore-crash-writer <dir> <tasks>")?,
    );
    let tasks: usize = args.next().ok_or("missing <tasks>")?.parse()?;
    let store = EventStore::open(&dir, StoreOptions::default())?;
    let handles: Vec<_> = (0..tasks)
        .map(|task| tokio::spawn(append_forever(store.clone(), task)))
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok(())
}

/// Appends batches of 1 to 3 events to the task's own stream, printing each acknowledgement.
async fn append_forever(store: EventStore, task: usize) -> Result<(), Error> {
    let stream = format!("crash-{task}");
    loop {
        let events: Vec<EventData> = (0..1 + task % 3)
            .map(|i| EventData {
                event_id: Uuid::now_v7(),
                event_type: "crash.Written".into(),
                payload: format!("task {task} event {i}").into_bytes(),
                metadata: EventMetadata {
                    actor: "crash-writer".into(),
                    ..EventMetadata::default()
                },
            })
            .collect();
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let result = store.append(&stream, ExpectedVersion::Any, events).await?;
        let mut out = std::io::stdout().lock();
        for (offset, id) in ids.iter().enumerate() {
            writeln!(out, "ack {} {id}", result.first_position + offset as u64)?;
        }
        out.flush()?;
    }
}
