//! What the search index stores in its sled tree, and under which keys. The
//! tree is a read side of the stakeholders log: dropping it makes the service
//! fold the log again from position 1.
//!
//! | key | value |
//! |---|---|
//! | `s` ‖ stakeholder id (16 bytes) | [`EntryRow`]: kind, commune, mandates, affiliations, consents (with their purposes), archived, erased, organisation name and links — nothing personal |
//! | `n` ‖ stakeholder id | [`NamesRow`]: a person's names sealed as the log holds them (person key), the stakeholder's blind tokens (name prefixes, and the dedupe tokens of an import: email, identity, SIREN) and its imports' fingerprint tokens |
//! | `i` ‖ interaction id | [`ContactRow`]: participants, date, themes of a contact as corrected |
//! | `t` ‖ token (16 bytes) ‖ stakeholder id | nothing: the blind index's postings |
//! | `g` ‖ segment id | `maillage.v1.Segment`: a segment's current definition |
//! | `\xffcheckpoint` | the last log position applied, and its event's hash |
//! | `\xffkey` | the blind key's check value ([`super::blind::BlindKey::check_value`]) |
//! | `\xffformat` | the rows' format ([`FORMAT`]): another one makes the index fold the log again |

use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::blind::{Token, TOKEN_LEN};

/// Prefix of a stakeholder's row.
pub const ENTRY: u8 = b's';
/// Prefix of a stakeholder's names and tokens.
pub const NAMES: u8 = b'n';
/// Prefix of a contact.
pub const CONTACT: u8 = b'i';
/// Prefix of a posting of the blind index.
pub const POSTING: u8 = b't';
/// Prefix of a segment.
pub const SEGMENT: u8 = b'g';
/// The checkpoint's key (no row of the index starts with 0xFF).
pub const CHECKPOINT_KEY: &[u8] = b"\xffcheckpoint";
/// The key of the blind key's check value.
pub const KEY_CHECK_KEY: &[u8] = b"\xffkey";
/// The key of the rows' format.
pub const FORMAT_KEY: &[u8] = b"\xffformat";
/// The rows' format: 2 added affiliations, consent purposes and organisation
/// links to [`EntryRow`] (an index of format 1 lacks them, so it is rebuilt).
pub const FORMAT: &[u8] = b"2";

/// The key of the row `prefix` of `id`.
pub fn key(prefix: u8, id: &Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(prefix);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The key of the posting of `token` for `id`.
pub fn posting(token: &Token, id: &Uuid) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + TOKEN_LEN + 16);
    key.push(POSTING);
    key.extend_from_slice(token);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The prefix of every posting of `token`.
pub fn postings_of(token: &Token) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + TOKEN_LEN);
    key.push(POSTING);
    key.extend_from_slice(token);
    key
}

/// The id at the end of a row's or a posting's key.
pub fn id_of(key: &[u8]) -> Option<Uuid> {
    let start = key.len().checked_sub(16)?;
    Uuid::from_slice(&key[start..]).ok()
}

/// A stakeholder as the index keeps it: nothing personal.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryRow {
    /// `StakeholderType`.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// A person's `PersonKind`s.
    #[prost(int32, repeated, tag = "2")]
    pub person_kinds: Vec<i32>,
    /// An organisation's `OrganisationType`.
    #[prost(int32, tag = "3")]
    pub organisation_type: i32,
    /// INSEE code of its commune.
    #[prost(string, tag = "4")]
    pub commune_code: String,
    /// Archived.
    #[prost(bool, tag = "5")]
    pub archived: bool,
    /// A person whose erasure started (or is done): never found again.
    #[prost(bool, tag = "6")]
    pub erased: bool,
    /// A person who held a mandate or an affiliation (a public role).
    #[prost(bool, tag = "7")]
    pub public_role: bool,
    /// Every mandate, as held.
    #[prost(message, repeated, tag = "8")]
    pub mandates: Vec<pb::Mandate>,
    /// The current consent of each channel.
    #[prost(message, repeated, tag = "9")]
    pub consents: Vec<pb::Consent>,
    /// An organisation's name (not personal data).
    #[prost(string, tag = "10")]
    pub organisation_name: String,
    /// A person's affiliations, as held (organisation ids and dates; the
    /// role, a short label, too).
    #[prost(message, repeated, tag = "11")]
    pub affiliations: Vec<pb::Affiliation>,
    /// An organisation's links, both those it recorded and those recorded
    /// towards it.
    #[prost(message, repeated, tag = "12")]
    pub organisation_links: Vec<pb::OrganisationLink>,
}

/// A stakeholder's names and blind tokens.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NamesRow {
    /// A person's given name, sealed under their key (as in the log).
    #[prost(bytes = "vec", tag = "1")]
    pub sealed_given_name: Vec<u8>,
    /// A person's family name, sealed under their key (as in the log).
    #[prost(bytes = "vec", tag = "2")]
    pub sealed_family_name: Vec<u8>,
    /// The tokens posted for the stakeholder (to remove them when the name
    /// changes or the person is erased).
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub tokens: Vec<Vec<u8>>,
    /// The fingerprint tokens of the import rows that created or completed
    /// it (posted like the tokens; kept when the profile changes, dropped
    /// with everything else when the person is erased).
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub fingerprints: Vec<Vec<u8>>,
}

/// A contact as the index keeps it: who, when, on which themes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContactRow {
    /// The participants' ids (16 bytes each).
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub participants: Vec<Vec<u8>>,
    /// When it took place.
    #[prost(message, optional, tag = "2")]
    pub occurred_at: Option<prost_types::Timestamp>,
    /// Its themes: bit n set for `Theme` value n.
    #[prost(uint64, tag = "3")]
    pub topics: u64,
}
