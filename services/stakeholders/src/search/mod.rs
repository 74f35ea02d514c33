//! The register's search index: a read side of the stakeholders log, kept by
//! the stakeholders service itself in its own database (tree
//! [`SEARCH_TREE`]), fed from its own log like a replica (a checkpoint written
//! in the same batch as the rows), and loaded in memory when the service
//! opens. `SearchStakeholders`, `ListSegments` and the re-engagement filters
//! read it; docs/architecture.md ("The search index") says why it lives here.
//!
//! - [`blind`]: the blind index's keyed tokens of names;
//! - [`rows`]: what the tree stores;
//! - [`state`]: the index in memory;
//! - [`fold`]: how the log's events change it;
//! - [`filter`]: a search's filter, checked, and how a row matches it;
//! - [`calendar`]: "N months ago";
//! - [`order`]: the sort keys;
//! - [`page`]: sealed page tokens;
//! - [`index`]: the index itself: open, apply, erase, search.

pub mod blind;
pub mod calendar;
pub mod filter;
pub mod fold;
pub mod index;
pub mod order;
pub mod page;
pub mod rows;
pub mod state;

pub use index::{Found, SearchIndex};

/// The sled tree of the search index in the service's database.
pub const SEARCH_TREE: &str = "search.index";

/// Why the index could not load or apply events.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// sled failed.
    #[error("search index storage: {0}")]
    Storage(#[from] sled::Error),
    /// A stored row does not decode.
    #[error("search index: a stored row does not decode: {0}")]
    Row(#[from] prost::DecodeError),
    /// A stored key is malformed.
    #[error("search index: malformed {0}")]
    Corrupt(&'static str),
    /// The key vault failed (not an erased key: that reads as no names).
    #[error("search index: key vault: {0}")]
    Vault(#[from] maillage_privacy::PrivacyError),
    /// An event of the log does not decode: the index stops there.
    #[error("search index: the event at position {position} does not decode: {reason}")]
    Undecodable {
        /// Its position.
        position: u64,
        /// Why.
        reason: String,
    },
    /// An event of another context was delivered.
    #[error("search index: given an event of {0}")]
    WrongContext(String),
    /// The feed skipped a position.
    #[error("search index: at position {checkpoint}, given position {position}")]
    Gap {
        /// The index's checkpoint.
        checkpoint: u64,
        /// The position delivered.
        position: u64,
    },
}
