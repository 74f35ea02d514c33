//! Server-issued aggregate ids that survive retries.
//!
//! A creation (a registration, a planned action, a logged interaction) gets a
//! new UUID v7, but a retry of the same request must land on the same stream,
//! so that the command loop finds the original events and answers with the
//! original outcome. The first attempt records `category, principal, request
//! id → id` in a sled tree of the service's database (compare-and-swap:
//! concurrent retries agree on one id); later attempts find it there. The
//! entry is written before the events are appended, and the event store's
//! flush covers the whole database, so an acknowledged creation always has
//! its entry on disk.

use uuid::Uuid;

/// The ids of created aggregates, remembered per (category, principal, request id).
#[derive(Clone)]
pub struct CreationIds {
    tree: sled::Tree,
}

impl CreationIds {
    /// The registry kept in `tree` (opened in the service's database).
    pub fn new(tree: sled::Tree) -> Self {
        Self { tree }
    }

    /// The id of the `category` aggregate created by `principal`'s request
    /// `request_id`: a new UUID v7 the first time, the same one afterwards.
    pub fn id_for(
        &self,
        category: &str,
        principal: &str,
        request_id: &str,
    ) -> Result<Uuid, sled::Error> {
        let key = format!("{category}\n{principal}\n{request_id}");
        let fresh = Uuid::now_v7();
        match self.tree.compare_and_swap(
            key.as_bytes(),
            None::<&[u8]>,
            Some(fresh.as_bytes().as_slice()),
        )? {
            Ok(()) => Ok(fresh),
            Err(existing) => Ok(existing
                .current
                .and_then(|bytes| Uuid::from_slice(&bytes).ok())
                // A key is only ever written with 16 bytes, and never removed.
                .unwrap_or(fresh)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_gets_the_same_id_and_another_request_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let ids = CreationIds::new(db.open_tree("ids").unwrap());
        let first = ids.id_for("stakeholder", "alice", "r1").unwrap();
        assert_eq!(first.get_version_num(), 7);
        assert_eq!(ids.id_for("stakeholder", "alice", "r1").unwrap(), first);
        assert_ne!(ids.id_for("stakeholder", "alice", "r2").unwrap(), first);
        assert_ne!(ids.id_for("stakeholder", "bob", "r1").unwrap(), first);
        assert_ne!(ids.id_for("interaction", "alice", "r1").unwrap(), first);
        drop(ids);
        let reopened = CreationIds::new(db.open_tree("ids").unwrap());
        assert_eq!(
            reopened.id_for("stakeholder", "alice", "r1").unwrap(),
            first
        );
    }
}
