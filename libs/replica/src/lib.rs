//! Replicas of what a context must check in another context's log
//! (DESIGN.md §2, "Where the contexts meet").
//!
//! Contexts import no other context's code and never call each other on the
//! command path. A context that names another context's things keeps a small,
//! durable, read-only [`Replica`] of just what it checks, folded from the other
//! log's events through the event feed (direct inside `maillage up`, JetStream
//! when the services run apart), with its own checkpoint in the same sled batch
//! as its rows:
//!
//! - [`Register`]: the stakeholders register (id, person or organisation,
//!   organisation type, commune, archived, erased), kept by engagement and
//!   governance, and checked with [`Replica::<Register>::expect`];
//! - [`RoundtableOutcomes`]: the outcomes recorded for roundtables, kept by
//!   governance for commitments born of a roundtable;
//! - [`ProgrammeAxes`]: the axes of the collectivité's programme (name,
//!   retired), kept by stakeholders and governance for the `axis_ids` of
//!   contacts and commitments, and checked with
//!   [`Replica::<ProgrammeAxes>::expect_axes`].
//!
//! Read-your-writes across services: every command reply carries its log
//! position; a dependent command may carry the header
//! `maillage-after: stakeholders=<position>` (or `engagement=<position>`
//! after an axis was defined: [`after`]) and the service waits,
//! at most [`after::MAX_WAIT`], for its replica to reach it, else answers
//! `UNAVAILABLE` (retryable).
//!
//! [`follow`] keeps a replica (or a [`Reactor`]) fed: a supervised task that
//! builds a feed from its checkpoint, applies batches, acks them, and starts
//! again with a back-off when the feed fails.
//!
//! A [`Reactor`] is the other way a context meets another: a process that must
//! happen everywhere (erasing a person) reacts to the owner's facts from the
//! feed, idempotently, with its own checkpoint. [`ReferenceGuards`] keep a
//! reference check and an erasure from crossing.

pub mod after;
pub mod checkpoint;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod follow;
pub mod guards;
pub mod outcomes;
pub mod programme;
pub mod reactor;
pub mod register;
pub mod replica;

pub use after::{Positions, AFTER_HEADER};
pub use follow::{follow, FeedFactory, Follower, Follows};
pub use guards::{ExclusiveGuard, ReferenceGuards, SharedGuards};
pub use outcomes::{Outcome, RoundtableOutcomes};
pub use programme::{AxisEntry, ProgrammeAxes};
pub use reactor::{React, ReactError, Reactor};
pub use register::{Expected, OrganisationType, Register, RegisterEntry, StakeholderKind};
pub use replica::{FoldError, Model, Overlay, Replica, ReplicaError};
