//! Sub-entity ids (mandates, affiliations, follow-ups) stable across retries.
//! Aggregate ids come from [`maillage_es::CreationIds`], kept in the tree [`TREE`].

use uuid::Uuid;

/// The sled tree holding the request → aggregate id registry.
pub const TREE: &str = "stakeholders.request-ids";

/// A sub-entity id (mandate, affiliation, follow-up) derived from its
/// aggregate's stream, the request id and an index: stable across retries.
pub fn derived_id(stream_id: &str, request_id: &str, what: &str, index: usize) -> String {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6d61_696c_6c61_6765_8000_0000_0000_0002);
    Uuid::new_v5(
        &NAMESPACE,
        format!("{stream_id}\n{request_id}\n{what}\n{index}").as_bytes(),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_per_request_and_index() {
        let a = derived_id("stakeholder-1", "r1", "mandate", 0);
        assert_eq!(a, derived_id("stakeholder-1", "r1", "mandate", 0));
        assert_ne!(a, derived_id("stakeholder-1", "r1", "mandate", 1));
        assert_ne!(a, derived_id("stakeholder-1", "r2", "mandate", 0));
    }
}
