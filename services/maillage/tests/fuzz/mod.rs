//! Fuzzing the server's RPCs: request messages built from the API's
//! descriptors ([`messages`]) and sent raw ([`raw`]).

pub mod messages;
pub mod raw;
