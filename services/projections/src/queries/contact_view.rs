//! A contact's first fields read in place, without allocating: what the
//! territory report needs of every contact (whether logged, when, who took
//! part, its themes, its open follow-ups). A report over a région reads
//! hundreds of thousands of contacts; decoding each into vectors and maps
//! ([`crate::model::InteractionHead`]) made an allocation or four per
//! contact, most of the report's time in a heap that earlier replays left
//! fragmented (docs/benchmarks.md, "`as_of` from snapshots"). Here short
//! lists are held inline ([`Few`]) and the follow-ups are reduced to the due
//! dates of the open ones as they are read.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::model::FollowUpHead;

/// The first fields of an [`crate::model::InteractionRow`], in its field
/// order, read from its binary form ([`crate::model::BinaryRow::head`]).
#[derive(Debug, serde::Deserialize)]
pub struct ContactView<'a> {
    /// See [`crate::model::InteractionRow::logged`].
    pub logged: bool,
    /// See [`crate::model::InteractionRow::occurred_at`].
    pub occurred_at: Option<i64>,
    /// See [`crate::model::InteractionRow::participants`].
    #[serde(borrow)]
    pub participants: Few<(&'a str, i32), 4>,
    /// See [`crate::model::InteractionRow::topics`].
    pub topics: Few<i32, 8>,
    /// See [`crate::model::InteractionRow::themes`].
    pub themes: Few<i32, 8>,
    /// The due dates (none: no due date) of the follow-ups not completed
    /// (see [`crate::model::InteractionRow::follow_up_rows`]).
    pub open_follow_ups: OpenFollowUps,
}

/// A sequence of which the first `N` items are held inline and only the
/// others in a `Vec` (allocated only past `N`).
#[derive(Debug)]
pub struct Few<T, const N: usize> {
    len: usize,
    inline: [T; N],
    more: Vec<T>,
}

impl<T: Copy + Default, const N: usize> Default for Few<T, N> {
    fn default() -> Self {
        Self {
            len: 0,
            inline: [T::default(); N],
            more: Vec::new(),
        }
    }
}

impl<T: Copy + Default, const N: usize> Few<T, N> {
    /// Adds `item` at the end.
    pub fn push(&mut self, item: T) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = item,
            None => self.more.push(item),
        }
        self.len += 1;
    }

    /// The items, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.inline[..self.len.min(N)]
            .iter()
            .chain(self.more.iter())
    }

    /// How many items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no item.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'de, T, const N: usize> Deserialize<'de> for Few<T, N>
where
    T: Deserialize<'de> + Copy + Default,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const N: usize>(PhantomData<T>);

        impl<'de, T, const N: usize> Visitor<'de> for Items<T, N>
        where
            T: Deserialize<'de> + Copy + Default,
        {
            type Value = Few<T, N>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut few = Few::default();
                while let Some(item) = seq.next_element()? {
                    few.push(item);
                }
                Ok(few)
            }
        }

        deserializer.deserialize_seq(Items(PhantomData))
    }
}

/// The due dates of a contact's open follow-ups (read from its map of
/// follow-ups by id, whose completed ones are skipped).
#[derive(Debug, Default)]
pub struct OpenFollowUps(pub Few<Option<i64>, 4>);

impl<'de> Deserialize<'de> for OpenFollowUps {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rows;

        impl<'de> Visitor<'de> for Rows {
            type Value = OpenFollowUps;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map of follow-ups")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut open = OpenFollowUps::default();
                while let Some((_, row)) = map.next_entry::<&str, FollowUpHead<'de>>()? {
                    if !row.completed {
                        open.0.push(row.due_at);
                    }
                }
                Ok(open)
            }
        }

        deserializer.deserialize_map(Rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DiskTable, FollowUpRow, InteractionHead, InteractionRow};

    #[test]
    fn a_contact_reads_in_place_as_its_decoded_first_fields() {
        let mut table = DiskTable::<InteractionRow>::default();
        let follow_up = |owner: &str, due_at, completed| FollowUpRow {
            owner: owner.into(),
            due_at,
            completed,
        };
        table.put(
            "few".into(),
            InteractionRow {
                logged: true,
                occurred_at: Some(7),
                participants: vec![("s1".into(), 1), ("s2".into(), 2)],
                topics: vec![3],
                themes: vec![4, 5],
                follow_up_rows: [
                    ("a".to_owned(), follow_up("o", Some(9), false)),
                    ("b".to_owned(), follow_up("o", Some(1), true)),
                    ("c".to_owned(), follow_up("p", None, false)),
                ]
                .into(),
                logged_by: "agent".into(),
                ..InteractionRow::default()
            },
        );
        // More items than held inline.
        table.put(
            "many".into(),
            InteractionRow {
                participants: (0..9).map(|n| (format!("s{n}"), n)).collect(),
                topics: (0..20).collect(),
                ..InteractionRow::default()
            },
        );
        let rows: Vec<_> = table.rows("").collect();
        let views: Vec<(&str, ContactView<'_>)> = rows
            .iter()
            .map(|row| (row.key(), row.head().unwrap()))
            .collect();
        let heads: Vec<(&str, InteractionHead<'_>)> = rows
            .iter()
            .map(|row| (row.key(), row.head().unwrap()))
            .collect();
        assert_eq!(views.len(), 2);
        for ((key, view), (head_key, head)) in views.iter().zip(&heads) {
            assert_eq!(key, head_key);
            assert_eq!(view.logged, head.logged);
            assert_eq!(view.occurred_at, head.occurred_at);
            assert_eq!(
                view.participants.iter().copied().collect::<Vec<_>>(),
                head.participants
            );
            assert_eq!(view.participants.len(), head.participants.len());
            assert_eq!(view.topics.iter().copied().collect::<Vec<_>>(), head.topics);
            assert_eq!(view.themes.iter().copied().collect::<Vec<_>>(), head.themes);
            let open: Vec<Option<i64>> = head
                .follow_up_rows
                .values()
                .filter(|row| !row.completed)
                .map(|row| row.due_at)
                .collect();
            assert_eq!(
                view.open_follow_ups.0.iter().copied().collect::<Vec<_>>(),
                open
            );
        }
        assert_eq!(views[0].1.open_follow_ups.0.len(), 2);
        assert!(views[1].1.open_follow_ups.0.is_empty());
    }
}
