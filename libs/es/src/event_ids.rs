//! Event ids derived from the request id, so a retried request maps to the same ids.

use uuid::Uuid;

/// The namespace of Maillage's derived event ids (UUID v5).
const NAMESPACE: Uuid = Uuid::from_u128(0x6d61_696c_6c61_6765_8000_0000_0000_0001);

/// The id of the `index`-th event that request `request_id` appends to `stream_id`.
pub fn derive_event_id(stream_id: &str, request_id: &str, index: usize) -> Uuid {
    let name = format!("{stream_id}\n{request_id}\n{index}");
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_gives_the_same_ids_and_others_differ() {
        let a = derive_event_id("person-1", "req-1", 0);
        assert_eq!(a, derive_event_id("person-1", "req-1", 0));
        assert_ne!(a, derive_event_id("person-1", "req-1", 1));
        assert_ne!(a, derive_event_id("person-1", "req-2", 0));
        assert_ne!(a, derive_event_id("person-2", "req-1", 0));
    }
}
