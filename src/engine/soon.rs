//! The events due in the queue's current bucket that were scheduled after the bucket was
//! sorted — a server's reply 50 µs on — and the [`Sequenced`] event the queue's heaps hold.
//!
//! Such events are mostly scheduled in the order they fall due (a reply leaves a fixed
//! service time after its request arrived), so they are kept in order in a deque: one
//! joins at the back, or a few places before it, and leaves from the front, O(1) either
//! way. One that would have to pass more than [`MAX_PASSED`] others (exponential service
//! times scatter replies) goes to a heap instead, so no insertion costs more than that.
//! At 10^7 clients a binary heap alone spent 12 % of a short-polling run sifting.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::Nanos;

/// Most events an insertion into the ordered deque moves.
const MAX_PASSED: usize = 16;

/// An event with its due time and a sequence number, for the structures that are not
/// stable by themselves: among equal times, the lower number (scheduled first) runs
/// first.
pub(super) struct Sequenced<E> {
    pub time: Nanos,
    pub seq: u64,
    pub event: E,
}

impl<E> Sequenced<E> {
    #[inline]
    fn key(&self) -> (Nanos, u64) {
        (self.time, self.seq)
    }
}

impl<E> PartialEq for Sequenced<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Sequenced<E> {}
impl<E> PartialOrd for Sequenced<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Sequenced<E> {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Events in (time, sequence) order, for a queue that pushes them with rising sequence
/// numbers.
pub(super) struct Soon<E> {
    /// In order, earliest at the front.
    ordered: VecDeque<Sequenced<E>>,
    /// The events that came too far out of order for `ordered`.
    scattered: BinaryHeap<Sequenced<E>>,
}

impl<E> Soon<E> {
    pub fn new() -> Self {
        Soon {
            ordered: VecDeque::new(),
            scattered: BinaryHeap::new(),
        }
    }

    /// Whether an event due at `time` goes at the back of the ordered deque: it is due
    /// no earlier than every event there (the common case, a reply due after every other
    /// one), so [`Soon::push_back`] may take it.
    #[inline(always)]
    pub fn goes_last(&self, time: Nanos) -> bool {
        self.ordered.back().is_none_or(|last| last.time <= time)
    }

    /// Adds an event for which [`Soon::goes_last`] said yes, with a sequence number higher
    /// than any before it.
    #[inline(always)]
    pub fn push_back(&mut self, entry: Sequenced<E>) {
        debug_assert!(self.goes_last(entry.time));
        self.ordered.push_back(entry);
    }

    /// Adds an event whose sequence number is higher than any before it. (The common
    /// case, an event due after every other one, the queue hands to
    /// [`Soon::push_back`] without coming here.)
    #[inline]
    pub fn push(&mut self, entry: Sequenced<E>) {
        // After every event due no later (those were scheduled before it).
        let len = self.ordered.len();
        let mut at = len;
        while at > 0 && self.ordered[at - 1].time > entry.time {
            if len - at == MAX_PASSED {
                self.scattered.push(entry);
                return;
            }
            at -= 1;
        }
        self.ordered.insert(at, entry);
    }

    /// Whether the next event is the heap's: the earlier of the two fronts.
    #[inline]
    fn next_is_scattered(&self) -> bool {
        match (self.ordered.front(), self.scattered.peek()) {
            (Some(a), Some(b)) => b.key() < a.key(),
            (a, _) => a.is_none(),
        }
    }

    /// The next event.
    #[inline]
    pub fn peek(&self) -> Option<&Sequenced<E>> {
        if self.next_is_scattered() {
            self.scattered.peek()
        } else {
            self.ordered.front()
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Sequenced<E>> {
        if self.next_is_scattered() {
            self.scattered.pop()
        } else {
            self.ordered.pop_front()
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty() && self.scattered.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ordered.len() + self.scattered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_sequence_order_in_order_or_scattered() {
        // Nearly ordered (small jitter), scattered (wide), ties; pops mixed in.
        let mut x: u64 = 5;
        for spread in [0u64, 3, 40, 100_000] {
            let mut soon = Soon::new();
            let mut reference = Vec::new();
            let mut now = 0;
            for seq in 0..5_000u64 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let time = now + 50 + (x >> 33) % (spread + 1);
                soon.push(Sequenced {
                    time,
                    seq,
                    event: (),
                });
                reference.push((time, seq));
                if x % 3 == 0 {
                    reference.sort();
                    let expected = reference.remove(0);
                    let got = soon.pop().unwrap();
                    assert_eq!(got.key(), expected, "spread {spread}");
                    now = got.time;
                }
            }
            reference.sort();
            assert_eq!(soon.len(), reference.len());
            for expected in reference {
                assert_eq!(soon.peek().unwrap().key(), expected);
                assert_eq!(soon.pop().unwrap().key(), expected, "spread {spread}");
            }
            assert!(soon.is_empty());
        }
    }
}
