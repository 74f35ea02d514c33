//! Calling an RPC with any bytes as its request message, for the tests of
//! malformed and hostile input: a tonic codec that sends its bytes as they
//! are and takes the reply's bytes as they come.

use tonic::transport::Channel;
use tonic::{Status, Streaming};

/// A codec that writes its bytes as the message and reads the reply raw.
#[derive(Debug, Clone, Copy, Default)]
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
    type Error = Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// A ready client for `path` (`/maillage.v1.EventLog/ReadAll`) and the request
/// carrying `body` as `token`; UNAVAILABLE if the channel is not ready.
async fn prepare(
    channel: Channel,
    path: &str,
    body: Vec<u8>,
    token: &str,
) -> Result<
    (
        tonic::client::Grpc<Channel>,
        http::uri::PathAndQuery,
        tonic::Request<Vec<u8>>,
    ),
    Status,
> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(format!("transport error: {error}")))?;
    let path = http::uri::PathAndQuery::try_from(path)
        .map_err(|error| Status::invalid_argument(format!("method path: {error}")))?;
    Ok((grpc, path, super::authed(token, body)))
}

/// Calls the unary RPC `path` with `body` as its message, as `token`: the
/// reply's bytes, or its status.
pub async fn unary(
    channel: Channel,
    path: &str,
    body: Vec<u8>,
    token: &str,
) -> Result<Vec<u8>, Status> {
    let (mut grpc, path, request) = prepare(channel, path, body, token).await?;
    grpc.unary(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// Calls the server-streaming RPC `path` with `body` as its message, as
/// `token`: the stream of the replies' bytes, or its status.
pub async fn server_streaming(
    channel: Channel,
    path: &str,
    body: Vec<u8>,
    token: &str,
) -> Result<Streaming<Vec<u8>>, Status> {
    let (mut grpc, path, request) = prepare(channel, path, body, token).await?;
    grpc.server_streaming(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}
