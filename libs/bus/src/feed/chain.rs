//! What the JetStream feed trusts: each message's own hash, then, per
//! context, its place in the hash chain of that context's log.
//!
//! [`check`] looks at one message alone: an envelope, published on the
//! subject a relay gives it, whose `hash` is the hash of its content
//! recomputed exactly as the store computes it. [`Chain`] then puts one
//! context back in position order and lets an event through only when its
//! `prev_hash` is the hash of the event delivered (or, after a restart, the
//! consumer's checkpoint) just before it.
//!
//! Events ahead of the next expected position are held as *candidates*:
//! several may claim one position (the genuine event and forgeries), and the
//! first that chains when its turn comes is delivered; the others are
//! refused. A candidate more than the window ahead is refused at once (a
//! relay never has more than its in-flight window published past a missing
//! event). When more candidates are held than the window, the farthest is
//! given back to JetStream for later (an eviction), so a burst of forged
//! future positions never stops the feed: the genuine events still chain
//! when they come. Only an expected position missing for longer than the
//! gap timeout while candidates wait is reported as a gap.
//!
//! Generic over the message type `M`, so that the rules are tested without
//! a broker.

use std::collections::BTreeMap;
use std::time::Duration;

use maillage_envelope::from_envelope;
use maillage_eventstore::GENESIS_HASH;
use maillage_proto::v1::EventEnvelope;
use tokio::time::Instant;

use super::Refusal;
use crate::subjects;

/// Checks one message alone: `envelope`, received on `subject`.
pub(crate) fn check(envelope: &EventEnvelope, subject: &str) -> Result<(), Refusal> {
    if envelope.position == 0 {
        return Err(Refusal::NotAnEnvelope("position 0".into()));
    }
    let record =
        from_envelope(envelope).map_err(|error| Refusal::NotAnEnvelope(error.to_string()))?;
    let expected = subjects::subject(
        &envelope.context,
        record.stream_id.category(),
        &envelope.event_type,
    )
    .map_err(|error| Refusal::NotAnEnvelope(error.to_string()))?;
    if subject != expected {
        return Err(Refusal::WrongSubject {
            subject: subject.to_owned(),
            expected,
        });
    }
    if !record.hash_is_valid() {
        return Err(Refusal::BadHash);
    }
    Ok(())
}

/// A checked envelope and the message that carried it.
#[derive(Debug)]
pub(crate) struct Candidate<M> {
    pub(crate) envelope: EventEnvelope,
    pub(crate) message: M,
}

impl<M> Candidate<M> {
    fn position(&self) -> u64 {
        self.envelope.position
    }
}

/// A refused candidate and why.
pub(crate) type Refused<M> = (Candidate<M>, Refusal);

/// Where [`Chain::offer`] put a candidate.
#[derive(Debug)]
pub(crate) enum Sorted<M> {
    /// The next event of the context, chained: deliver it.
    Deliver(Candidate<M>),
    /// At or before a position already delivered: a copy, never delivered again.
    Behind(Candidate<M>),
    /// Refused: never delivered.
    Refused(Candidate<M>, Refusal),
    /// Held until the positions before it arrive; too many held pushed the
    /// farthest one out (`evicted`), to be given back to JetStream for later.
    Held { evicted: Option<Candidate<M>> },
}

/// One context of the feed: its next position, the hash that position must
/// chain to, and the candidates held ahead of it.
#[derive(Debug)]
pub(crate) struct Chain<M> {
    context: String,
    expected: u64,
    /// The hash of position `expected - 1`; `None` when a consumer's
    /// checkpoint came without it (the next event is then taken on its own hash).
    anchor: Option<[u8; 32]>,
    held: BTreeMap<u64, Vec<Candidate<M>>>,
    held_count: usize,
    /// Most candidates held, and how far ahead of `expected` they may be.
    window: usize,
    /// Since when `expected` has been missing while candidates wait.
    waiting_since: Option<Instant>,
}

impl<M> Chain<M> {
    /// A context whose consumer has applied up to `checkpoint`, the event
    /// there having hash `anchor` (`None`: unknown).
    pub(crate) fn new(
        context: &str,
        checkpoint: u64,
        anchor: Option<[u8; 32]>,
        window: usize,
    ) -> Self {
        let anchor = if checkpoint == 0 {
            Some(GENESIS_HASH)
        } else {
            anchor
        };
        Self {
            context: context.to_owned(),
            expected: checkpoint + 1,
            anchor,
            held: BTreeMap::new(),
            held_count: 0,
            window: window.max(1),
            waiting_since: None,
        }
    }

    /// Sorts a checked candidate of this context.
    pub(crate) fn offer(&mut self, candidate: Candidate<M>, now: Instant) -> Sorted<M> {
        let position = candidate.position();
        if position < self.expected {
            let conflicting = position + 1 == self.expected
                && self
                    .anchor
                    .is_some_and(|anchor| anchor.as_slice() != candidate.envelope.hash.as_slice());
            return if conflicting {
                Sorted::Refused(candidate, Refusal::Conflicting)
            } else {
                Sorted::Behind(candidate)
            };
        }
        if position == self.expected {
            return match self.follow(&candidate, now) {
                Ok(()) => Sorted::Deliver(candidate),
                Err(refusal) => Sorted::Refused(candidate, refusal),
            };
        }
        if position - self.expected > self.window as u64 {
            return Sorted::Refused(
                candidate,
                Refusal::TooFarAhead {
                    expected: self.expected,
                    window: self.window as u64,
                },
            );
        }
        let copies = self.held.entry(position).or_default();
        match copies
            .iter_mut()
            .find(|held| held.envelope.hash == candidate.envelope.hash)
        {
            // A redelivery of a held candidate replaces the older copy.
            Some(held) => *held = candidate,
            None => {
                copies.push(candidate);
                self.held_count += 1;
            }
        }
        self.waiting_since.get_or_insert(now);
        let evicted = (self.held_count > self.window)
            .then(|| self.evict_farthest())
            .flatten();
        Sorted::Held { evicted }
    }

    /// The held candidates at the next expected position: the first that
    /// chains is delivered, the others refused (a forgery, or a copy that
    /// lost to a forgery delivered before it).
    pub(crate) fn take_next(&mut self, now: Instant) -> (Option<Candidate<M>>, Vec<Refused<M>>) {
        let Some(candidates) = self.held.remove(&self.expected) else {
            return (None, Vec::new());
        };
        self.held_count -= candidates.len();
        let mut delivered = None;
        let mut refused = Vec::new();
        for candidate in candidates {
            if delivered.is_some() {
                // Two events claim one position and both chain: the first won.
                refused.push((candidate, Refusal::Conflicting));
                continue;
            }
            match self.follow(&candidate, now) {
                Ok(()) => delivered = Some(candidate),
                Err(refusal) => refused.push((candidate, refusal)),
            }
        }
        if self.held.is_empty() {
            self.waiting_since = None;
        }
        (delivered, refused)
    }

    /// When the expected position has been missing for `timeout` with
    /// candidates held: (the missing position, how many are held).
    pub(crate) fn overdue(&self, now: Instant, timeout: Duration) -> Option<(u64, usize)> {
        let since = self.waiting_since?;
        (now.duration_since(since) >= timeout).then_some((self.expected, self.held_count))
    }

    /// When [`Chain::overdue`] will say so, if candidates are held.
    pub(crate) fn deadline(&self, timeout: Duration) -> Option<Instant> {
        self.waiting_since.map(|since| since + timeout)
    }

    /// Checks that `candidate`, at the expected position, chains to the
    /// anchor; if so it becomes the anchor and the next position is expected.
    fn follow(&mut self, candidate: &Candidate<M>, now: Instant) -> Result<(), Refusal> {
        let envelope = &candidate.envelope;
        match self.anchor {
            Some(anchor) if anchor.as_slice() != envelope.prev_hash.as_slice() => {
                return Err(Refusal::NotChained {
                    previous: self.expected - 1,
                });
            }
            Some(_) => {}
            None => tracing::warn!(
                context = %self.context,
                position = envelope.position,
                "the consumer's checkpoint came without its hash: this event is taken on its own \
                 hash, and the chain is checked from it on"
            ),
        }
        self.anchor = envelope.hash.as_slice().try_into().ok();
        self.expected += 1;
        // The wait for the next position starts now, if anything is held for later.
        self.waiting_since = (!self.held.is_empty()).then_some(now);
        Ok(())
    }

    /// Takes out the held candidate farthest ahead.
    fn evict_farthest(&mut self) -> Option<Candidate<M>> {
        let mut farthest = self.held.last_entry()?;
        let candidate = farthest.get_mut().pop();
        if farthest.get().is_empty() {
            farthest.remove();
        }
        if candidate.is_some() {
            self.held_count -= 1;
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An envelope of `position` with hash `[hash; 32]` chaining to `[prev; 32]`.
    fn candidate(position: u64, prev: u8, hash: u8) -> Candidate<u8> {
        Candidate {
            envelope: EventEnvelope {
                context: "stakeholders".into(),
                position,
                prev_hash: vec![prev; 32],
                hash: vec![hash; 32],
                ..EventEnvelope::default()
            },
            message: hash,
        }
    }

    fn delivered(sorted: Sorted<u8>) -> u64 {
        match sorted {
            Sorted::Deliver(candidate) => candidate.envelope.position,
            other => panic!("not delivered: {other:?}"),
        }
    }

    #[test]
    fn the_next_event_must_chain_to_the_one_before() {
        let now = Instant::now();
        let mut chain = Chain::new("stakeholders", 0, None, 10);
        assert_eq!(delivered(chain.offer(candidate(1, 0, 1), now)), 1);
        assert!(matches!(
            chain.offer(candidate(2, 9, 2), now),
            Sorted::Refused(_, Refusal::NotChained { previous: 1 })
        ));
        assert_eq!(delivered(chain.offer(candidate(2, 1, 2), now)), 2);
        assert!(matches!(
            chain.offer(candidate(2, 1, 2), now),
            Sorted::Behind(_)
        ));
        assert!(matches!(
            chain.offer(candidate(2, 1, 7), now),
            Sorted::Refused(_, Refusal::Conflicting)
        ));
    }

    #[test]
    fn after_a_restart_the_stored_hash_is_the_anchor() {
        let now = Instant::now();
        let mut chain = Chain::new("stakeholders", 5, Some([5; 32]), 10);
        assert!(matches!(
            chain.offer(candidate(6, 4, 6), now),
            Sorted::Refused(_, Refusal::NotChained { previous: 5 })
        ));
        assert_eq!(delivered(chain.offer(candidate(6, 5, 6), now)), 6);
        // Without a stored hash, the first event is taken on its own hash only.
        let mut unanchored = Chain::new("stakeholders", 5, None, 10);
        assert_eq!(delivered(unanchored.offer(candidate(6, 4, 6), now)), 6);
        assert!(matches!(
            unanchored.offer(candidate(7, 5, 7), now),
            Sorted::Refused(_, Refusal::NotChained { previous: 6 })
        ));
    }

    #[test]
    fn held_candidates_are_sorted_out_when_their_turn_comes() {
        let now = Instant::now();
        let mut chain = Chain::new("stakeholders", 0, None, 10);
        // A forgery at 2 and 3 first, then the genuine 3 and 2, then 1.
        for (position, prev, hash) in [(2, 7, 70), (3, 70, 71), (3, 2, 3), (2, 1, 2)] {
            assert!(matches!(
                chain.offer(candidate(position, prev, hash), now),
                Sorted::Held { evicted: None }
            ));
        }
        assert_eq!(delivered(chain.offer(candidate(1, 0, 1), now)), 1);
        let (next, refused) = chain.take_next(now);
        assert_eq!(next.map(|c| c.message), Some(2));
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0.message, 70);
        let (next, refused) = chain.take_next(now);
        assert_eq!(next.map(|c| c.message), Some(3));
        assert!(matches!(
            refused[..],
            [(_, Refusal::NotChained { previous: 2 })]
        ));
        assert!(chain.take_next(now).0.is_none());
        assert_eq!(chain.deadline(Duration::from_secs(1)), None);
    }

    #[test]
    fn a_full_window_refuses_far_positions_and_gives_back_the_farthest() {
        let now = Instant::now();
        let mut chain = Chain::new("stakeholders", 0, None, 3);
        assert!(matches!(
            chain.offer(candidate(5, 0, 5), now),
            Sorted::Refused(
                _,
                Refusal::TooFarAhead {
                    expected: 1,
                    window: 3
                }
            )
        ));
        for position in [2, 3, 4] {
            assert!(matches!(
                chain.offer(candidate(position, 0, position as u8), now),
                Sorted::Held { evicted: None }
            ));
        }
        match chain.offer(candidate(2, 0, 22), now) {
            Sorted::Held {
                evicted: Some(evicted),
            } => assert_eq!(evicted.envelope.position, 4),
            other => panic!("{other:?}"),
        }
        // The missing position is reported once the gap timeout has passed.
        let timeout = Duration::from_secs(60);
        assert_eq!(chain.overdue(now, timeout), None);
        assert_eq!(chain.overdue(now + timeout, timeout), Some((1, 3)));
        assert_eq!(chain.deadline(timeout), Some(now + timeout));
    }
}
