//! End-to-end tests of the kit: a real server on 127.0.0.1:0 over a sled store in a
//! temp dir, called through tonic clients: the EventLog service, auth and roles,
//! health, reflection, token reload, and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use anyhow::{Context as _, Result};
use common::{authed, Harness, WAIT};
use maillage_eventstore::{EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions};
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::{
    ReadAllRequest, ReadDirection, ReadStreamRequest, SubscribeRequest, VerifyRequest,
};
use maillage_service_kit::testing::{Spawned, TestData};
use maillage_service_kit::{EventLogService, Role, Server, TokenFile, TokenStore};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_subscribes_and_verifies_over_grpc() -> Result<()> {
    let mut harness = Harness::start().await?;
    harness
        .append("stakeholder-a", 3, "maillage.v1.PersonRegistered")
        .await?;
    harness
        .append("action-b", 2, "maillage.v1.ActionPlanned")
        .await?;
    let mut client = harness.client().await?;
    let token = harness.tool.clone();

    // Read a stream forward, backward, and with a limit.
    let forward = client
        .read_stream(authed(
            ReadStreamRequest {
                stream_id: "stakeholder-a".into(),
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(forward.stream_version, 3);
    let versions: Vec<u64> = forward.events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    let first = &forward.events[0];
    assert_eq!(first.context, "stakeholders");
    assert_eq!(first.stream_id, "stakeholder-a");
    assert_eq!(first.event_type, "maillage.v1.PersonRegistered");
    assert_eq!(
        first.metadata.as_ref().map(|m| m.actor.as_str()),
        Some("alice")
    );
    assert_eq!(first.prev_hash, vec![0; 32]);
    assert!(first.recorded_at.is_some());

    let backward = client
        .read_stream(authed(
            ReadStreamRequest {
                stream_id: "stakeholder-a".into(),
                direction: ReadDirection::Backward.into(),
                limit: 2,
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    let versions: Vec<u64> = backward.events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [3, 2]);

    let missing = client
        .read_stream(authed(
            ReadStreamRequest {
                stream_id: "stakeholder-none".into(),
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(missing.stream_version, 0);
    assert!(missing.events.is_empty());

    // Read all, from the start and from a position.
    let all = client
        .read_all(authed(ReadAllRequest::default(), &token))
        .await?
        .into_inner();
    assert_eq!(all.head_position, 5);
    let positions: Vec<u64> = all.events.iter().map(|e| e.position).collect();
    assert_eq!(positions, [1, 2, 3, 4, 5]);
    let tail = client
        .read_all(authed(
            ReadAllRequest {
                from_position: 4,
                limit: 1,
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(tail.events.len(), 1);
    assert_eq!(tail.events[0].stream_id, "action-b");

    // Subscribe to one category: catch up, then live.
    let mut feed = client
        .subscribe(authed(
            SubscribeRequest {
                categories: vec!["stakeholder".into()],
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    for expected in 1..=3 {
        let event = tokio::time::timeout(WAIT, feed.message())
            .await??
            .context("feed ended")?;
        assert_eq!(event.position, expected);
    }
    harness
        .append("action-b", 1, "maillage.v1.ActionPlanned")
        .await?;
    harness
        .append("stakeholder-a", 1, "maillage.v1.PersonRenamed")
        .await?;
    let live = tokio::time::timeout(WAIT, feed.message())
        .await??
        .context("feed ended")?;
    assert_eq!(live.position, 7, "the action event is filtered out");
    assert_eq!(live.event_type, "maillage.v1.PersonRenamed");

    // Subscribe by event type from a position.
    let mut typed = client
        .subscribe(authed(
            SubscribeRequest {
                from_position: 2,
                event_types: vec!["maillage.v1.ActionPlanned".into()],
                ..Default::default()
            },
            &token,
        ))
        .await?
        .into_inner();
    let positions = [
        tokio::time::timeout(WAIT, typed.message())
            .await??
            .context("ended")?
            .position,
        tokio::time::timeout(WAIT, typed.message())
            .await??
            .context("ended")?
            .position,
        tokio::time::timeout(WAIT, typed.message())
            .await??
            .context("ended")?
            .position,
    ];
    assert_eq!(positions, [4, 5, 6]);

    // Verify the chain.
    let verified = client
        .verify(authed(VerifyRequest::default(), &harness.auditor))
        .await?
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.position, 7);
    assert_eq!(verified.head_hash, harness.store.head().hash.to_vec());

    drop(feed);
    drop(typed);
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_roles_are_enforced() -> Result<()> {
    let mut harness = Harness::start().await?;
    let mut client = harness.client().await?;

    let none = client
        .read_all(Request::new(ReadAllRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");

    let unknown = client
        .read_all(authed(ReadAllRequest::default(), "mlg_not-a-real-token"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::Unauthenticated, "{unknown:?}");

    let mut malformed = Request::new(ReadAllRequest::default());
    malformed
        .metadata_mut()
        .insert("authorization", harness.tool.parse()?);
    let malformed = client.read_all(malformed).await.unwrap_err();
    assert_eq!(malformed.code(), Code::Unauthenticated, "no Bearer prefix");

    let denied = client
        .read_all(authed(ReadAllRequest::default(), &harness.facilitator))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("tool"), "{denied:?}");
    assert!(denied.message().contains("auditor"), "{denied:?}");

    for token in [&harness.tool, &harness.auditor, &harness.admin] {
        client
            .read_all(authed(ReadAllRequest::default(), token))
            .await?;
        client
            .verify(authed(VerifyRequest::default(), token))
            .await?;
    }
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_invalid_argument_naming_the_field() -> Result<()> {
    let mut harness = Harness::start().await?;
    let mut client = harness.client().await?;
    for bad in ["", "nodash", "1abc-x", "cat-with space"] {
        let status = client
            .read_stream(authed(
                ReadStreamRequest {
                    stream_id: bad.into(),
                    ..Default::default()
                },
                &harness.tool,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
        assert!(status.message().starts_with("stream_id: "), "{status:?}");
        let details = status.get_details_bad_request().context("BadRequest")?;
        assert_eq!(details.field_violations[0].field, "stream_id");
    }

    let direction = client
        .read_stream(authed(
            ReadStreamRequest {
                stream_id: "stakeholder-a".into(),
                direction: 7,
                ..Default::default()
            },
            &harness.tool,
        ))
        .await
        .unwrap_err();
    assert_eq!(direction.code(), Code::InvalidArgument);
    assert!(
        direction.message().starts_with("direction: "),
        "{direction:?}"
    );

    let both = client
        .subscribe(authed(
            SubscribeRequest {
                categories: vec!["stakeholder".into()],
                event_types: vec!["maillage.v1.PersonRegistered".into()],
                ..Default::default()
            },
            &harness.tool,
        ))
        .await
        .unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument, "{both:?}");
    assert!(both.message().starts_with("event_types: "), "{both:?}");

    let category = client
        .subscribe(authed(
            SubscribeRequest {
                categories: vec!["not a category".into()],
                ..Default::default()
            },
            &harness.tool,
        ))
        .await
        .unwrap_err();
    assert_eq!(category.code(), Code::InvalidArgument);
    assert!(
        category.message().starts_with("categories: "),
        "{category:?}"
    );
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer_without_a_token() -> Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let mut harness = Harness::start().await?;
    let channel = harness.channel().await?;

    let mut health = HealthClient::new(channel.clone());
    for service in ["", "maillage.v1.EventLog"] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "maillage.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel);
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("maillage.v1.EventLog".into()),
    ]
    .map(|message| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(message),
    });
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter(requests))
        .await?
        .into_inner();
    let listed = replies.message().await?.context("no reply")?;
    let Some(MessageResponse::ListServicesResponse(list)) = listed.message_response else {
        anyhow::bail!("unexpected reply {listed:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"maillage.v1.EventLog".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|name| name.contains("Stakeholders")),
        "only mounted services are listed: {names:?}"
    );
    let file = replies.message().await?.context("no reply")?;
    let Some(MessageResponse::FileDescriptorResponse(files)) = file.message_response else {
        anyhow::bail!("unexpected reply {file:?}");
    };
    assert!(!files.file_descriptor_proto.is_empty());
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_changes_apply_to_the_running_server() -> Result<()> {
    let mut harness = Harness::start().await?;
    let mut client = harness.client().await?;
    let late = TokenFile::add(&harness.tokens_path, "late-tool", &[Role::Tool])?;
    client
        .read_all(authed(ReadAllRequest::default(), &late))
        .await?;

    let listed = TokenFile::load(&harness.tokens_path)?.list();
    assert_eq!(
        listed.len(),
        Role::ALL.len() + 1,
        "one principal per role and the late one"
    );
    assert!(listed.iter().any(|entry| entry.principal == "late-tool"));

    TokenFile::revoke(&harness.tokens_path, "late-tool")?;
    let revoked = client
        .read_all(authed(ReadAllRequest::default(), &late))
        .await
        .unwrap_err();
    assert_eq!(revoked.code(), Code::Unauthenticated);
    // The other tokens still work.
    client
        .read_all(authed(ReadAllRequest::default(), &harness.tool))
        .await?;
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_streams_drains_and_closes_the_store() -> Result<()> {
    let mut harness = Harness::start().await?;
    harness
        .append("stakeholder-a", 1, "maillage.v1.PersonRegistered")
        .await?;
    let mut client = harness.client().await?;
    let mut feed = client
        .subscribe(authed(SubscribeRequest::default(), &harness.tool))
        .await?
        .into_inner();
    let first = tokio::time::timeout(WAIT, feed.message())
        .await??
        .context("feed ended")?;
    assert_eq!(first.position, 1);

    // The subscription is live (waiting) when the shutdown starts: it must not
    // hold the server up.
    harness.stop().await?;
    match tokio::time::timeout(WAIT, feed.message()).await? {
        Ok(None) => {}
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(Some(event)) => anyhow::bail!("unexpected event {event:?}"),
    }
    assert!(harness.store.is_closed());
    let refused = harness
        .append("stakeholder-a", 1, "maillage.v1.PersonRegistered")
        .await;
    assert!(
        refused.is_err(),
        "the store accepted an append after shutdown"
    );

    // The port no longer accepts RPCs.
    let after = Channel::from_shared(format!("http://{}", harness.address))?
        .connect()
        .await;
    assert!(after.is_err(), "still accepting connections");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_reads_are_cut_to_fit_a_default_client() -> Result<()> {
    let mut harness = Harness::start().await?;
    for _ in 0..8 {
        let event = EventData {
            event_id: uuid::Uuid::now_v7(),
            event_type: "maillage.v1.Big".into(),
            payload: vec![7; 600 * 1024],
            metadata: EventMetadata::default(),
        };
        harness
            .store
            .append("blob-1", ExpectedVersion::Any, vec![event])
            .await?;
    }
    let mut client = harness.client().await?;
    // A default client refuses replies over 4 MiB: 8 × 600 KiB must come in pages.
    let mut next = 1;
    let mut pages = 0;
    while next <= 8 {
        let page = client
            .read_all(authed(
                ReadAllRequest {
                    from_position: next,
                    limit: 0,
                    ..Default::default()
                },
                &harness.tool,
            ))
            .await?
            .into_inner();
        assert!(!page.events.is_empty());
        assert!(page.events.len() < 8, "one reply carried everything");
        next = page.events.last().map_or(next, |event| event.position + 1);
        pages += 1;
    }
    assert!(pages >= 2);
    let stream = client
        .read_stream(authed(
            ReadStreamRequest {
                stream_id: "blob-1".into(),
                ..Default::default()
            },
            &harness.tool,
        ))
        .await?
        .into_inner();
    assert_eq!(stream.stream_version, 8);
    assert!(stream.events.len() < 8);
    harness.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_serves_several_logs_named_by_context() -> Result<()> {
    let data = TestData::new()?;
    let tool = data.token(Role::Tool).to_string();
    let people = EventStore::open(&data.path().join("stakeholders"), StoreOptions::default())?;
    let votes = EventStore::open(&data.path().join("governance"), StoreOptions::default())?;
    for (store, count) in [(&people, 2), (&votes, 3)] {
        let events = (0..count)
            .map(|_| EventData {
                event_id: uuid::Uuid::now_v7(),
                event_type: "t.E".into(),
                payload: vec![1],
                metadata: EventMetadata::default(),
            })
            .collect();
        store.append("x-1", ExpectedVersion::Any, events).await?;
    }
    let logs =
        EventLogService::new("stakeholders", people.clone()).add("governance", votes.clone());
    let server =
        Server::builder(TokenStore::open(data.tokens().path())?).add_service(logs.into_server());
    let server = Spawned::spawn(move |listener, shutdown| {
        server.serve_with_shutdown(listener, vec![people, votes], shutdown)
    })
    .await?;
    let mut client = EventLogClient::new(server.channel().await?);

    let governance = client
        .read_all(authed(
            ReadAllRequest {
                context: "governance".into(),
                ..Default::default()
            },
            &tool,
        ))
        .await?
        .into_inner();
    assert_eq!(governance.head_position, 3);
    assert!(governance.events.iter().all(|e| e.context == "governance"));
    let verify = client
        .verify(authed(
            VerifyRequest {
                context: "stakeholders".into(),
            },
            &tool,
        ))
        .await?
        .into_inner();
    assert!(verify.intact);
    assert_eq!(verify.position, 2);

    for context in ["", "projections"] {
        let status = client
            .read_all(authed(
                ReadAllRequest {
                    context: context.into(),
                    ..Default::default()
                },
                &tool,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{context:?}");
        assert!(
            status.message().starts_with("context:"),
            "{}",
            status.message()
        );
    }
    server.stop().await
}

/// Calls `EventLog.ReadAll` with `body` as its message, as raw bytes.
async fn raw_read_all(
    channel: Channel,
    body: Vec<u8>,
    token: &str,
) -> Result<Vec<u8>, tonic::Status> {
    maillage_service_kit::testing::raw::unary(channel, "/maillage.v1.EventLog/ReadAll", body, token)
        .await
}

/// Regression (issue 15, defect 10): a message that is not protobuf was
/// answered INTERNAL, which the error contract keeps for bugs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_protobuf_is_an_invalid_argument() -> Result<()> {
    let mut harness = Harness::start().await?;
    let channel = harness.channel().await?;
    let malformed: [&[u8]; 3] = [
        // Field 1 with wire type 7, which does not exist.
        &[0x0f],
        // Field 1 (varint) whose varint never ends.
        &[0x08, 0xff, 0xff],
        // Field 3 (`context`, a string) that is not UTF-8.
        &[0x1a, 0x02, 0xff, 0xfe],
    ];
    for body in malformed {
        let status = raw_read_all(channel.clone(), body.to_vec(), &harness.tool)
            .await
            .expect_err("garbage is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{body:?}: {status:?}");
        assert!(
            status.message().contains("Protobuf"),
            "{body:?}: {status:?}"
        );
    }
    // The same connection still serves a well-formed call.
    let valid = raw_read_all(channel, Vec::new(), &harness.tool).await?;
    let valid = <maillage_proto::v1::ReadAllResponse as prost::Message>::decode(&valid[..])?;
    assert_eq!(valid.head_position, 0);
    harness.stop().await
}

/// Regression (issue 15, defect 10): a message over the size limit was
/// answered OUT_OF_RANGE without naming the limit; gRPC's convention is
/// RESOURCE_EXHAUSTED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_resource_exhausted_naming_the_limit() -> Result<()> {
    let mut harness = Harness::start().await?;
    let channel = harness.channel().await?;
    let status = raw_read_all(channel.clone(), vec![0; 5_000_000], &harness.tool)
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.message(),
        "request message is 5000000 bytes, over the 4194304-byte limit"
    );
    let mut client = EventLogClient::new(channel);
    client
        .read_all(authed(ReadAllRequest::default(), &harness.tool))
        .await?;
    harness.stop().await
}
