//! The events due in the queue's current bucket that were scheduled after the bucket was
//! sorted — a server's reply 50 µs on — and the [`Sequenced`] event the queue's heaps hold.
//!
//! The bucket is cut again, into 256 sub-buckets of 4 µs. An event due after the *front*
//! (the sub-buckets being run) is appended to its sub-bucket, with no comparison; when
//! the front runs dry, the next sub-bucket is sorted (a few events) and becomes the
//! front. Only an event due within the front — less than a sub-bucket away — has to find
//! its place: the front is kept in order in a deque, where one joins at the back or a
//! few places before it, O(1) either way; one that would have to pass more than
//! [`MAX_PASSED`] others goes to a heap instead, so no insertion costs more than that.
//!
//! Why the sub-buckets: replies are not scheduled in the order they fall due once the
//! instances' CPU queues differ (one reply waits 0.4 ms behind others, the next none).
//! At 10^7 clients, short polling, a bucket's 2,400 late events were each inserted
//! seven places deep on average, and 30 % of them went to the heap: 12 % of the run.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::Nanos;

/// Most events an insertion into the ordered deque moves.
const MAX_PASSED: usize = 16;

/// Longest front that grows past its sub-bucket to take an event due after all of it,
/// when nothing is later: short, so that a front grown this way stays one where an
/// insertion moves few events.
const SHORT_FRONT: usize = 4;

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

/// log2 of a later sub-bucket's width in ns: 4 µs, 256 of them to a queue bucket.
pub(super) const SUB_SHIFT: u32 = 12;
/// Later sub-buckets: enough to cover one queue bucket (`queue.rs` checks it).
pub(super) const SUBS: usize = 256;
const WORDS: usize = SUBS / 64;

/// Events in (time, sequence) order, for a queue that pushes them with rising sequence
/// numbers, all due within one of its buckets.
pub(super) struct Soon<E> {
    /// The front: every event due before `front_until`, in order, earliest at the front.
    ordered: VecDeque<Sequenced<E>>,
    /// The front's events that came too far out of order for `ordered`.
    scattered: BinaryHeap<Sequenced<E>>,
    /// Events due at or after `front_until`, by sub-bucket, each in insertion order.
    /// Empty whenever the front is.
    later: Vec<Vec<Sequenced<E>>>,
    /// Which sub-buckets of `later` hold events.
    occupied: [u64; WORDS],
    later_len: usize,
    /// Where the front's time ends: the end of the last sub-bucket it took in.
    front_until: Nanos,
}

impl<E> Soon<E> {
    pub fn new() -> Self {
        Soon {
            ordered: VecDeque::new(),
            scattered: BinaryHeap::new(),
            later: (0..SUBS).map(|_| Vec::new()).collect(),
            occupied: [0; WORDS],
            later_len: 0,
            front_until: 0,
        }
    }

    /// Whether an event goes at the back of the ordered front: due no earlier than
    /// anything in it, and nothing is scattered.
    #[inline(always)]
    fn goes_last(&self, entry: &Sequenced<E>) -> bool {
        self.scattered.is_empty() && self.ordered.back().is_none_or(|b| b.time <= entry.time)
    }

    #[inline(always)]
    fn front_is_empty(&self) -> bool {
        self.ordered.is_empty() && self.scattered.is_empty()
    }

    /// Adds an event whose sequence number is higher than any before it. One due after
    /// the front is appended to its sub-bucket (no comparison: the common case, a
    /// server's reply some 50 µs on); one due within the front is put in its place there.
    #[inline(always)]
    pub fn push(&mut self, entry: Sequenced<E>) {
        if self.front_is_empty() {
            // Nothing is later either: the front starts at this event's sub-bucket (the
            // common case below 10^6 clients, where a bucket holds a few such events).
            self.front_until = sub_end(entry.time);
            self.ordered.push_back(entry);
        } else if entry.time >= self.front_until {
            if self.later_len == 0 && self.ordered.len() <= SHORT_FRONT && self.goes_last(&entry) {
                // A short front with nothing later grows to take it (again the common
                // case below 10^6 clients: no sub-bucket to sort and move it from).
                self.front_until = sub_end(entry.time);
                self.ordered.push_back(entry);
                return;
            }
            let sub = (entry.time >> SUB_SHIFT) as usize % SUBS;
            self.later[sub].push(entry);
            self.occupied[sub / 64] |= 1 << (sub % 64);
            self.later_len += 1;
        } else {
            self.push_front(entry);
        }
    }

    /// Puts an event into a front that holds some: after every event due no later
    /// (those were scheduled before it).
    #[inline(never)]
    fn push_front(&mut self, entry: Sequenced<E>) {
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

    /// The front ran dry: it takes in the earliest later sub-bucket, sorted by time
    /// (stable, so ties keep their insertion order, which is their sequence order).
    #[inline(never)]
    fn refill(&mut self) {
        let word = self
            .occupied
            .iter()
            .position(|&w| w != 0)
            .expect("later holds events");
        let bit = self.occupied[word].trailing_zeros() as usize;
        self.occupied[word] &= !(1 << bit);
        let sub = word * 64 + bit;
        let events = &mut self.later[sub];
        self.later_len -= events.len();
        if events.len() == 1 {
            // The common case below 10^6 clients: nothing to sort.
            let only = events.pop().expect("one event");
            self.front_until = sub_end(only.time);
            self.ordered.push_back(only);
            return;
        }
        if events.len() <= 32 {
            for i in 1..events.len() {
                let mut j = i;
                while j > 0 && events[j - 1].time > events[i].time {
                    j -= 1;
                }
                events[j..=i].rotate_right(1);
            }
        } else {
            events.sort_by_key(|e| e.time);
        }
        self.front_until = sub_end(events[0].time);
        for event in events.drain(..) {
            self.ordered.push_back(event);
        }
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

    #[inline(always)]
    pub fn pop(&mut self) -> Option<Sequenced<E>> {
        let next = if self.next_is_scattered() {
            self.scattered.pop()
        } else {
            self.ordered.pop_front()
        };
        if self.later_len > 0 && self.front_is_empty() {
            self.refill();
        }
        next
    }

    /// Empty: the front is empty only when the later sub-buckets are too.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.front_is_empty()
    }

    pub fn len(&self) -> usize {
        self.ordered.len() + self.scattered.len() + self.later_len
    }
}

/// The end of the sub-bucket `time` falls in.
#[inline]
fn sub_end(time: Nanos) -> Nanos {
    (time | ((1 << SUB_SHIFT) - 1)).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_sequence_order_in_order_or_scattered() {
        // As the queue uses it: every event due within the current bucket (2^20 ns),
        // none before now; nearly ordered (small jitter), scattered (wide), ties, some
        // due within the front's sub-bucket; pops mixed in.
        const BUCKET: u64 = (SUBS as u64) << SUB_SHIFT;
        let mut x: u64 = 5;
        for spread in [0u64, 3, 40, 5_000, 100_000, BUCKET] {
            let mut soon = Soon::new();
            let mut reference = Vec::new();
            let mut now = 0;
            for seq in 0..20_000u64 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let delay = match x % 4 {
                    0 => (x >> 40) % 3_000,
                    _ => 50 + (x >> 33) % (spread + 1),
                };
                let bucket_end = (now / BUCKET + 1) * BUCKET;
                let time = (now + delay).min(bucket_end - 1);
                soon.push(Sequenced {
                    time,
                    seq,
                    event: (),
                });
                reference.push((time, seq));
                if x % 3 != 0 {
                    reference.sort();
                    let expected = reference.remove(0);
                    let got = soon.pop().unwrap();
                    assert_eq!(got.key(), expected, "spread {spread}");
                    now = got.time;
                    if soon.is_empty() && x % 5 == 0 {
                        // The queue moves on to another bucket.
                        now = bucket_end + (x >> 50);
                    }
                }
                assert_eq!(soon.len(), reference.len());
            }
            reference.sort();
            for expected in reference {
                assert_eq!(soon.peek().unwrap().key(), expected);
                assert_eq!(soon.pop().unwrap().key(), expected, "spread {spread}");
            }
            assert!(soon.is_empty());
        }
    }
}
