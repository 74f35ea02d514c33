//! Calling any RPC with any bytes as its request message (the kit's
//! `testing::raw`), and what came back.

use std::time::Duration;

use maillage_service_kit::testing::raw;
use tonic::transport::Channel;

use super::messages::Method;

/// How long a stream (`Subscribe`) is given to send its first message or
/// its status before it is dropped as open and waiting: not a performance
/// threshold, a live subscription that matches nothing simply waits.
const STREAM_LOOK: Duration = Duration::from_millis(200);

/// What one call got.
#[derive(Debug)]
pub enum Answer {
    /// A reply (or, for a stream, a first message or a clean end).
    Ok,
    /// A status.
    Status(tonic::Status),
    /// A stream still open and silent.
    Open,
}

/// Calls `method` with `body` as its request message, as `token`.
pub async fn call(channel: Channel, method: &Method, body: Vec<u8>, token: &str) -> Answer {
    if !method.server_streaming {
        return match raw::unary(channel, &method.path, body, token).await {
            Ok(_) => Answer::Ok,
            Err(status) => Answer::Status(status),
        };
    }
    let mut stream = match raw::server_streaming(channel, &method.path, body, token).await {
        Ok(stream) => stream,
        Err(status) => return Answer::Status(status),
    };
    match tokio::time::timeout(STREAM_LOOK, stream.message()).await {
        Ok(Ok(_)) => Answer::Ok,
        Ok(Err(status)) => Answer::Status(status),
        Err(_) => Answer::Open,
    }
}
