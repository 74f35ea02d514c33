//! Calling any RPC with any bytes as its request message: a tonic codec
//! that sends its bytes as they are and takes the reply's bytes as they
//! come, and what came back.

use std::time::Duration;

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

/// A codec that writes its bytes as the message and reads the reply raw.
#[derive(Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls `method` with `body` as its request message, as `token`.
pub async fn call(channel: Channel, method: &Method, body: Vec<u8>, token: &str) -> Answer {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Err(error) = grpc.ready().await {
        return Answer::Status(tonic::Status::unavailable(format!(
            "transport error: {error}"
        )));
    }
    let path: http::uri::PathAndQuery = method.path.parse().expect("a method path");
    let mut request = tonic::Request::new(body);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("an ASCII token"),
    );
    if !method.server_streaming {
        return match grpc.unary(request, path, RawCodec).await {
            Ok(_) => Answer::Ok,
            Err(status) => Answer::Status(status),
        };
    }
    let mut stream = match grpc.server_streaming(request, path, RawCodec).await {
        Ok(response) => response.into_inner(),
        Err(status) => return Answer::Status(status),
    };
    match tokio::time::timeout(STREAM_LOOK, stream.message()).await {
        Ok(Ok(_)) => Answer::Ok,
        Ok(Err(status)) => Answer::Status(status),
        Err(_) => Answer::Open,
    }
}
