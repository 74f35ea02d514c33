//! Locks that keep a reference check and the erasure of what it names from
//! crossing (DESIGN.md §6: once a person's erasure has started, nothing new
//! may name them, and every key about them is destroyed).
//!
//! A command that names stakeholders holds a *shared* guard on each of them
//! from its reference check until its append is durable; the erasure of a
//! person takes the *exclusive* guard on that person once its started fact is
//! visible to the checks, before it looks for what to erase. So a command that
//! checked before the erasure started has appended before the erasure looks
//! (and its keys are found and destroyed), and a command that checks after is
//! refused. The locks are in memory: each log has exactly one writing process.
//!
//! Ids are spread over a fixed number of shards (two ids may share one, which
//! only makes a rare erasure wait for an unrelated command). Shared guards are
//! taken in shard order, and an exclusive guard covers one shard, so guards
//! never deadlock.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use uuid::Uuid;

/// Shards of the lock table.
const SHARDS: usize = 256;

/// The lock table; see the module docs.
pub struct ReferenceGuards {
    shards: Vec<std::sync::Arc<RwLock<()>>>,
}

/// Shared guards on the stakeholders a command names (drop them after the append).
pub struct SharedGuards(#[allow(dead_code)] Vec<OwnedRwLockReadGuard<()>>);

/// The exclusive guard of an erasure on one person.
pub struct ExclusiveGuard(#[allow(dead_code)] OwnedRwLockWriteGuard<()>);

impl Default for ReferenceGuards {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| std::sync::Arc::new(RwLock::new(())))
                .collect(),
        }
    }
}

impl ReferenceGuards {
    fn shard(id: &Uuid) -> usize {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        (hasher.finish() as usize) % SHARDS
    }

    /// Shared guards on every id of `ids`.
    pub async fn shared(&self, ids: &[Uuid]) -> SharedGuards {
        let shards: BTreeSet<usize> = ids.iter().map(Self::shard).collect();
        let mut guards = Vec::with_capacity(shards.len());
        for shard in shards {
            guards.push(self.shards[shard].clone().read_owned().await);
        }
        SharedGuards(guards)
    }

    /// The exclusive guard on `id`: waits for every command holding a shared one.
    pub async fn exclusive(&self, id: &Uuid) -> ExclusiveGuard {
        ExclusiveGuard(self.shards[Self::shard(id)].clone().write_owned().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_exclusive_guard_waits_for_the_commands_that_hold_a_shared_one() {
        let guards = std::sync::Arc::new(ReferenceGuards::default());
        let person = Uuid::now_v7();
        let shared = guards.shared(&[person, Uuid::now_v7()]).await;
        let waiting = {
            let guards = guards.clone();
            tokio::spawn(async move {
                let _exclusive = guards.exclusive(&person).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "the erasure went ahead of a command in flight"
        );
        drop(shared);
        waiting.await.unwrap();
    }
}
