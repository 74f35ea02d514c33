//! The orders of a search (and of the segments' list): each result's sort
//! key (its sort value, then its id, so that the order is total) and the
//! key's bytes, which a page token carries sealed (see [`super::page`]).

use std::borrow::Cow;

use maillage_proto::v1 as pb;
use uuid::Uuid;

use super::state::Entry;
use crate::domain::ts_key;

/// Where a result stands in its search's order: borrowed from the index
/// while a search scans it, owned ([`SortKey`]) in a page token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key<'a> {
    /// By name: the names the caller may see first (`hidden` false), folded;
    /// then the others by id.
    Name {
        /// The caller may not see the name (then `name` is empty).
        hidden: bool,
        /// The sort name, folded (accents and case); empty when hidden.
        name: Cow<'a, str>,
        /// The stakeholder (or segment) id, which makes the order total.
        id: Uuid,
    },
    /// By commune code.
    Commune {
        /// The INSEE code of the stakeholder's commune.
        code: Cow<'a, str>,
        /// The stakeholder id, which makes the order total.
        id: Uuid,
    },
    /// By last contact, the never contacted first.
    Contact {
        /// The last contact's instant as (seconds, nanoseconds) since the epoch
        /// (UTC); `None`: never contacted.
        at: Option<(i64, i32)>,
        /// The stakeholder id, which makes the order total.
        id: Uuid,
    },
}

/// A key that outlives the index's lock.
pub type SortKey = Key<'static>;

impl<'a> Key<'a> {
    /// The key of `entry` (stakeholder `id`) in the order `sort`;
    /// `name_shown` says whether the caller may see its name.
    pub fn of(sort: pb::StakeholderSort, id: Uuid, entry: &'a Entry, name_shown: bool) -> Self {
        match sort {
            pb::StakeholderSort::Commune => Key::Commune {
                code: Cow::Borrowed(&entry.row.commune_code),
                id,
            },
            pb::StakeholderSort::LastContact => Key::Contact {
                at: entry.last_contact.as_ref().map(ts_key),
                id,
            },
            pb::StakeholderSort::Unspecified | pb::StakeholderSort::Name => {
                match entry.sort_name.as_ref().filter(|_| name_shown) {
                    Some(name) => Key::Name {
                        hidden: false,
                        name: Cow::Borrowed(name),
                        id,
                    },
                    None => Key::Name {
                        hidden: true,
                        name: Cow::Borrowed(""),
                        id,
                    },
                }
            }
        }
    }

    /// The same key, owning its text.
    pub fn into_owned(self) -> SortKey {
        match self {
            Key::Name { hidden, name, id } => Key::Name {
                hidden,
                name: Cow::Owned(name.into_owned()),
                id,
            },
            Key::Commune { code, id } => Key::Commune {
                code: Cow::Owned(code.into_owned()),
                id,
            },
            Key::Contact { at, id } => Key::Contact { at, id },
        }
    }

    /// The same key, borrowing from this one.
    pub fn borrowed(&self) -> Key<'_> {
        match self {
            Key::Name { hidden, name, id } => Key::Name {
                hidden: *hidden,
                name: Cow::Borrowed(name),
                id: *id,
            },
            Key::Commune { code, id } => Key::Commune {
                code: Cow::Borrowed(code),
                id: *id,
            },
            Key::Contact { at, id } => Key::Contact { at: *at, id: *id },
        }
    }

    /// The stakeholder (or segment) the key is of.
    pub fn id(&self) -> Uuid {
        match self {
            Key::Name { id, .. } | Key::Commune { id, .. } | Key::Contact { id, .. } => *id,
        }
    }

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let id = match self {
            Key::Name { hidden, name, id } => {
                bytes.push(1);
                bytes.push(u8::from(*hidden));
                // Names are cut at 200 characters when registered: < 64 KiB.
                let len = u16::try_from(name.len()).unwrap_or(u16::MAX);
                bytes.extend_from_slice(&len.to_be_bytes());
                bytes.extend_from_slice(&name.as_bytes()[..usize::from(len)]);
                id
            }
            Key::Commune { code, id } => {
                bytes.push(2);
                // INSEE codes are 5 characters.
                let len = u8::try_from(code.len()).unwrap_or(u8::MAX);
                bytes.push(len);
                bytes.extend_from_slice(&code.as_bytes()[..usize::from(len)]);
                id
            }
            Key::Contact { at, id } => {
                bytes.push(3);
                let (seconds, nanos) = at.unwrap_or_default();
                bytes.push(u8::from(at.is_some()));
                bytes.extend_from_slice(&seconds.to_be_bytes());
                bytes.extend_from_slice(&nanos.to_be_bytes());
                id
            }
        };
        bytes.extend_from_slice(id.as_bytes());
        bytes
    }

    /// A key from [`Key::encode`]'s bytes (`None`: not such bytes).
    pub fn decode(bytes: &[u8]) -> Option<SortKey> {
        let (&tag, rest) = bytes.split_first()?;
        let start = rest.len().checked_sub(16)?;
        let id = Uuid::from_slice(&rest[start..]).ok()?;
        let body = &rest[..start];
        match tag {
            1 => {
                let (&hidden, body) = body.split_first()?;
                let len = usize::from(u16::from_be_bytes(body.get(..2)?.try_into().ok()?));
                let name = std::str::from_utf8(body.get(2..)?).ok()?;
                (name.len() == len && hidden <= 1).then(|| Key::Name {
                    hidden: hidden == 1,
                    name: Cow::Owned(name.to_owned()),
                    id,
                })
            }
            2 => {
                let (&len, code) = body.split_first()?;
                let code = std::str::from_utf8(code).ok()?;
                (code.len() == usize::from(len)).then(|| Key::Commune {
                    code: Cow::Owned(code.to_owned()),
                    id,
                })
            }
            3 => {
                let (&set, body) = body.split_first()?;
                if body.len() != 12 || set > 1 {
                    return None;
                }
                let seconds = i64::from_be_bytes(body[..8].try_into().ok()?);
                let nanos = i32::from_be_bytes(body[8..].try_into().ok()?);
                Some(Key::Contact {
                    at: (set == 1).then_some((seconds, nanos)),
                    id,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_order_as_documented() {
        let id = Uuid::now_v7();
        let keys = [
            Key::Name {
                hidden: false,
                name: Cow::Borrowed("le bihan eloise"),
                id,
            },
            Key::Name {
                hidden: true,
                name: Cow::Borrowed(""),
                id,
            },
            Key::Commune {
                code: Cow::Borrowed("2A004"),
                id,
            },
            Key::Contact { at: None, id },
            Key::Contact {
                at: Some((-5, 7)),
                id,
            },
        ];
        for key in &keys {
            assert_eq!(Key::decode(&key.encode()).as_ref(), Some(key));
        }
        assert!(keys[0] < keys[1], "the names shown come first");
        assert!(keys[3] < keys[4], "never contacted first");
        assert_eq!(Key::decode(b"\x01\x00"), None);
        assert_eq!(Key::decode(&[9; 20]), None);
    }
}
