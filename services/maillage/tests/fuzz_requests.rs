//! Fuzzing the real server: every RPC that `maillage up` serves (the binary,
//! a child process, over TCP), each called with arbitrary request messages.
//!
//! The platform is first given a small demo territory (`demo::play`, scale
//! 0.02) so that ids exist. Then, for each method in the API's descriptor
//! set (96 RPCs of seven services), proptest draws request bodies sent raw
//! (`fuzz::raw`): arbitrary bytes (1 in 6), a structurally valid encoding of
//! the method's request type built from its descriptor (4 in 6,
//! `fuzz::messages`), or such an encoding with bytes flipped (1 in 6). The
//! caller is an admin, who passes every role check, so requests reach the
//! handlers.
//!
//! Every answer must be a gRPC status the error contract allows for a bad
//! request (OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
//! FAILED_PRECONDITION, ABORTED, PERMISSION_DENIED, RESOURCE_EXHAUSTED,
//! OUT_OF_RANGE, UNAVAILABLE from the server, DEADLINE_EXCEEDED), never
//! INTERNAL (kept for bugs and storage failures), UNKNOWN or CANCELLED (what
//! a panicking handler or a dropped connection gives), nor a transport
//! error. At the end the server still runs, stops cleanly on SIGTERM, and
//! its log holds no panic.
//!
//! 12 cases per method, times `MAILLAGE_FUZZ_SCALE` (default 1), from the
//! seed `MAILLAGE_FUZZ_SEED` (default fixed); the count tried, the seed and
//! the statuses are printed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod fuzz;
mod process;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use fuzz::messages::{Api, Pools};
use fuzz::raw::{call, Answer};
use maillage::cli::client::Connection;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::ReadAllRequest;
use process::{start_logged, stop, wait_for_file, KillOnDrop};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use tonic::Code;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Whether `answer` is one the error contract allows for a bad request.
fn allowed(answer: &Answer) -> bool {
    let Answer::Status(status) = answer else {
        return true;
    };
    match status.code() {
        Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::FailedPrecondition
        | Code::Aborted
        | Code::PermissionDenied
        | Code::ResourceExhausted
        | Code::OutOfRange
        | Code::DeadlineExceeded => true,
        Code::Unavailable => !status.message().starts_with("transport error"),
        _ => false,
    }
}

fn label(answer: &Answer) -> String {
    match answer {
        Answer::Ok => "OK".into(),
        Answer::Open => "stream open".into(),
        Answer::Status(status) => format!("{:?}", status.code()),
    }
}

/// Every id the platform's logs name: the stream ids and their id parts.
async fn ids(endpoint: &str, token: &str) -> anyhow::Result<Vec<String>> {
    let channel = tonic::transport::Channel::from_shared(endpoint.to_owned())?
        .connect()
        .await?;
    let mut logs = EventLogClient::new(channel);
    let mut ids = std::collections::BTreeSet::new();
    for context in maillage::CONTEXTS {
        let mut from = 1;
        loop {
            let mut request = tonic::Request::new(ReadAllRequest {
                from_position: from,
                limit: 1000,
                context: context.into(),
            });
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let page = logs.read_all(request).await?.into_inner();
            for event in &page.events {
                if let Some((_, id)) = event.stream_id.split_once('-') {
                    ids.insert(id.to_owned());
                }
                ids.insert(event.stream_id.clone());
            }
            match page.events.last() {
                Some(last) if last.position < page.head_position => from = last.position + 1,
                _ => break,
            }
        }
    }
    Ok(ids.into_iter().collect())
}

#[test]
fn every_request_type_fuzzed_gets_a_status_and_nothing_panics() {
    let cases = 12 * env("MAILLAGE_FUZZ_SCALE", 1) as u32;
    let seed = env("MAILLAGE_FUZZ_SEED", 2026);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("up.log");
    let (up, port) = start_logged(dir.path(), &log);
    let mut up = KillOnDrop::new(up);
    let endpoint = format!("http://127.0.0.1:{port}");
    let data_dir = dir.path().join("maillage-data");
    wait_for_file(&data_dir.join("admin.token"));
    let token = std::fs::read_to_string(data_dir.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let connection = Connection {
        endpoint: endpoint.clone(),
        token: None,
        data_dir,
        purpose: None,
    };
    let (channel, pools) = runtime.block_on(async {
        maillage::demo::play(&connection, 2026, 0.02).await.unwrap();
        let ids = ids(&endpoint, &token).await.unwrap();
        let channel = tonic::transport::Channel::from_shared(endpoint.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        (channel, Pools { ids })
    });

    let api = Api::load();
    let statuses: RefCell<BTreeMap<String, u64>> = RefCell::default();
    let tried = Cell::new(0u64);
    for (index, method) in api.methods.iter().enumerate() {
        let structured = api.message(&method.input, &pools);
        let flipped = (
            structured.clone(),
            prop::collection::vec((any::<usize>(), any::<u8>()), 1..3),
        )
            .prop_map(|(mut body, flips)| {
                let len = body.len();
                if len > 0 {
                    for (offset, mask) in flips {
                        body[offset % len] ^= mask | 1;
                    }
                }
                body
            });
        let bodies = prop_oneof![
            1 => prop::collection::vec(any::<u8>(), 0..300),
            4 => structured,
            1 => flipped,
        ];
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed.wrapping_add(index as u64)),
            ..Config::default()
        });
        let outcome = runner.run(&bodies, |body| {
            let answer = runtime.block_on(call(channel.clone(), method, body, &token));
            tried.set(tried.get() + 1);
            *statuses.borrow_mut().entry(label(&answer)).or_default() += 1;
            prop_assert!(allowed(&answer), "{}: {:?}", method.path, answer);
            Ok(())
        });
        if let Err(failure) = outcome {
            panic!("{}: {failure}", method.path);
        }
    }

    assert!(
        up.child().try_wait().unwrap().is_none(),
        "maillage up exited while fuzzed"
    );
    stop(up.take());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        !log.contains("panicked"),
        "the server's log holds a panic:\n{log}"
    );
    println!(
        "fuzz (gRPC requests): {} requests tried over {} RPCs (seed {seed}, {cases} cases \
         each), every answer a status: {:?}",
        tried.get(),
        api.methods.len(),
        statuses.borrow()
    );
}
