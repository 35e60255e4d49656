//! The pending-event queue.
//!
//! Events are popped in order of (time, insertion sequence): simultaneous events run in
//! the order they were scheduled, so a run never depends on queue internals.
//!
//! The queue is a *calendar queue with a sorted current day* (after Brown 1988): time is
//! cut into buckets of 2^20 ns (≈ 1 ms). Events due later than the current bucket are
//! appended to their bucket in a ring of 2^16 buckets (≈ 69 s ahead) — an O(1) push with
//! no comparison; events further out wait in an overflow heap. When the current bucket
//! runs dry, the next non-empty one is sorted once and then popped from the end of a
//! vector: no comparisons per pop, and no branch the CPU cannot predict. An event due in
//! the current bucket (a server's reply 50 µs from now) goes to a small ordered
//! structure beside it (`soon.rs`), and a pop takes the earlier of the two. (Inserting
//! it into the sorted vector instead shifted, at 10^7 clients, thousands of 32-byte
//! events per insert: 38 % of a run's time went to `memmove`.)
//!
//! Ordering is exact (no time is rounded): buckets only decide *when* an event is
//! sorted, never *where*. Insertion order needs no stored sequence number in the ring:
//! a bucket receives its events in the order they were scheduled, and a stable sort by
//! time keeps that order among equal times. The overflow heap and the current bucket's
//! late arrivals carry a sequence number. The overflow's events for a bucket were all
//! scheduled before any that went to the ring for that bucket (the horizon only moves
//! forward), so they go first;
//! the current bucket's late arrivals were all scheduled after the bucket was sorted, so
//! among equal times the sorted ones go first.
//!
//! Bucket storage comes in fixed-size chunks from a free list: no per-bucket allocation
//! and no buffer growth, and memory bounded by the events pending plus one partly filled
//! chunk per non-empty bucket.
//!
//! A simulation is monotone — nothing is scheduled before the current time — which is
//! what makes the ring valid. Measured on this machine (see `benches/engine.rs`), it
//! beats both a binary heap (cache misses at 10^6 pending events) and a radix heap
//! (repeated redistribution of 128-bit keys) by a wide margin.
//!
//! Cancellation is lazy: models keep a generation counter per timer and ignore stale
//! events when they pop (cheaper than deleting from the middle of a queue).

use std::collections::BinaryHeap;

use super::chunks::{CHUNK, Chunks};
use super::prefetch::prefetch;
use super::soon::{Sequenced, Soon};
use super::time::Nanos;

/// log2 of the bucket width in ns. (Narrower buckets, sized to the run's event rate so
/// that a server's reply 50 µs on goes to the ring rather than the current bucket's
/// late arrivals, measured no faster at 10^7 clients and slower at 10^6: more partly
/// filled chunks being written at once.)
const BUCKET_SHIFT: u32 = 20;
/// Buckets in the ring (a power of two).
const RING: u64 = 1 << 16;
/// "No chunk" in the chunk lists.
const NONE: u32 = u32::MAX;

/// An event and its due time, as stored in the ring and the current bucket.
#[derive(Clone, Copy)]
struct Timed<E> {
    time: Nanos,
    event: E,
}

/// A ring bucket: a list of chunks, filled at the tail. The tail's fill is kept here,
/// so an append touches only this and the slot it writes.
#[derive(Clone, Copy)]
struct Bucket {
    head: u32,
    tail: u32,
    tail_len: u32,
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        head: NONE,
        tail: NONE,
        tail_len: 0,
    };
}

/// A queue of events of type `E`, each due at a simulated time.
pub struct EventQueue<E: 'static> {
    /// Events of the current bucket as it was sorted, latest first: the next one is at
    /// the end.
    today: Vec<Timed<E>>,
    /// Events due in the current bucket, scheduled after it was sorted.
    soon: Soon<E>,
    /// Reused storage for sorting `today`.
    scratch: Vec<Timed<E>>,
    /// Later buckets within the ring's horizon, each in insertion order.
    ring: Vec<Bucket>,
    ring_len: usize,
    /// Chunk storage for the ring (`chunks.rs`); each chunk's
    /// successor in its bucket, and the ids of free chunks.
    arena: Chunks<Timed<E>>,
    next_chunk: Vec<u32>,
    free_chunks: Vec<u32>,
    /// Events beyond the horizon.
    overflow: BinaryHeap<Sequenced<E>>,
    /// The bucket `today` and `soon` hold.
    current: u64,
    /// Sequence numbers for the overflow and the late arrivals.
    seq: u64,
    now: Nanos,
    popped: u64,
}

impl<E: Copy + 'static> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// Events are plain data (`Copy`): sorting moves them by value, and nothing is dropped.
impl<E: Copy + 'static> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            today: Vec::new(),
            soon: Soon::new(),
            scratch: Vec::new(),
            ring: vec![Bucket::EMPTY; RING as usize],
            ring_len: 0,
            arena: Chunks::new(),
            next_chunk: Vec::new(),
            free_chunks: Vec::new(),
            overflow: BinaryHeap::new(),
            current: 0,
            seq: 0,
            now: 0,
            popped: 0,
        }
    }

    /// Takes storage for `events` pending events from what a finished run on this
    /// thread left (`hugepages.rs`), so that the queue's pages are already in memory.
    pub fn take_spare_storage(&mut self, events: usize) {
        self.arena.take_spares(events);
    }

    /// The time of the event popped last (the simulation clock).
    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Schedules `event` at absolute time `at`. Times in the past are clamped to now:
    /// the past cannot be changed, and a monotone queue must never go backwards.
    ///
    /// The two common cases — a later bucket of the ring whose last chunk has room, and
    /// an event due in the current bucket after all the others there — are inlined where
    /// the event is made, so that its fields go from registers straight to their slot,
    /// with no call and no copy of the event through the stack. The rest is out of line
    /// (instructions per event at 2 × 10^4 clients, short polling: 751.8 → 732.0).
    #[inline(always)]
    pub fn schedule(&mut self, at: Nanos, event: E) {
        let time = at.max(self.now);
        let bucket = time >> BUCKET_SHIFT;
        if bucket > self.current {
            if bucket - self.current < RING
                && self.append_to_tail((bucket % RING) as usize, Timed { time, event })
            {
                self.ring_len += 1;
                return;
            }
        } else if self.soon.goes_last(time) {
            let seq = self.next_seq();
            self.soon.push_back(Sequenced { time, seq, event });
            return;
        }
        self.schedule_slow(time, event);
    }

    /// [`EventQueue::schedule`] for an event due in the current bucket before some
    /// already there, beyond the horizon, or starting a chunk.
    #[inline(never)]
    fn schedule_slow(&mut self, time: Nanos, event: E) {
        let bucket = time >> BUCKET_SHIFT;
        if bucket <= self.current {
            let seq = self.next_seq();
            self.soon.push(Sequenced { time, seq, event });
        } else if bucket - self.current < RING {
            let slot = (bucket % RING) as usize;
            self.push_ring(slot, Timed { time, event });
            self.ring_len += 1;
        } else {
            let seq = self.next_seq();
            self.overflow.push(Sequenced { time, seq, event });
        }
    }

    #[inline]
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Appends to ring bucket `slot`'s last chunk if it has one with room; whether it
    /// did.
    #[inline(always)]
    fn append_to_tail(&mut self, slot: usize, entry: Timed<E>) -> bool {
        let b = self.ring[slot];
        if b.tail == NONE || b.tail_len as usize >= CHUNK {
            return false;
        }
        self.arena.get_mut(b.tail)[b.tail_len as usize] = entry;
        self.ring[slot].tail_len += 1;
        true
    }

    /// Appends to a ring bucket, starting a new chunk when its last one is full.
    #[inline]
    fn push_ring(&mut self, slot: usize, entry: Timed<E>) {
        if self.append_to_tail(slot, entry) {
            return;
        }
        let bucket = self.ring[slot];
        let id = match self.free_chunks.pop() {
            Some(id) => id,
            None => {
                // A new chunk, filled with copies of this entry until written.
                self.next_chunk.push(NONE);
                self.arena.push(entry)
            }
        };
        self.arena.get_mut(id)[0] = entry;
        self.next_chunk[id as usize] = NONE;
        if bucket.tail == NONE {
            self.ring[slot].head = id;
        } else {
            self.next_chunk[bucket.tail as usize] = id;
        }
        self.ring[slot].tail = id;
        self.ring[slot].tail_len = 1;
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: Nanos, event: E) {
        self.schedule(self.now.saturating_add(delay), event);
    }

    /// Removes and returns the next event, advancing the clock to its time. Inlined in
    /// the run loop, so that the event reaches it in registers (see `schedule`).
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        if self.soon.is_empty() {
            if self.today.is_empty() && !self.advance() {
                return None;
            }
        } else if self
            .today
            .last()
            .is_none_or(|sorted| self.soon.peek().is_some_and(|s| s.time < sorted.time))
        {
            // Equal times: the sorted event was scheduled first.
            let Sequenced { time, event, .. } = self.soon.pop().expect("not empty");
            self.now = time;
            self.popped += 1;
            return Some((time, event));
        }
        let entry = self.today.pop()?;
        self.now = entry.time;
        self.popped += 1;
        Some((entry.time, entry.event))
    }

    /// Moves to the next bucket that holds events and sorts it; false when the queue is
    /// empty. Called only when `today` and `soon` are empty: once per bucket, so kept
    /// out of `pop`, whose every call would otherwise save and restore the registers
    /// this needs.
    #[inline(never)]
    fn advance(&mut self) -> bool {
        loop {
            if self.ring_len == 0 {
                // Nothing within the horizon: jump straight to the overflow's bucket.
                match self.overflow.peek() {
                    None => return false,
                    Some(e) => self.current = e.time >> BUCKET_SHIFT,
                }
            } else {
                self.current += 1;
            }
            // Insertion order: the overflow's events for this bucket first (in order),
            // then the ring's.
            while self
                .overflow
                .peek()
                .is_some_and(|e| e.time >> BUCKET_SHIFT <= self.current)
            {
                let Sequenced { time, event, .. } = self.overflow.pop().expect("peeked");
                self.today.push(Timed { time, event });
            }
            let slot = (self.current % RING) as usize;
            let bucket = self.ring[slot];
            self.ring[slot] = Bucket::EMPTY;
            let mut id = bucket.head;
            while id != NONE {
                let (len, next) = self.chunk(id, &bucket);
                self.ring_len -= len;
                self.today.extend_from_slice(&self.arena.get(id)[..len]);
                self.free_chunks.push(id);
                id = next;
            }
            if !self.today.is_empty() {
                sort_latest_first(&mut self.today, &mut self.scratch);
                self.prefetch_bucket(self.current + 1);
                return true;
            }
        }
    }

    /// Starts loading the first chunk of a bucket: written about one poll interval ago,
    /// it is out of cache by the time the bucket comes up, and this one is next.
    #[inline]
    fn prefetch_bucket(&self, bucket: u64) {
        let b = self.ring[(bucket % RING) as usize];
        if b.head != NONE {
            prefetch(self.arena.get(b.head));
        }
    }

    /// How much of chunk `id` of `bucket` is in use (all of it, or up to the bucket's
    /// `tail_len` if it is the last), and the chunk after it.
    fn chunk(&self, id: u32, bucket: &Bucket) -> (usize, u32) {
        let next = self.next_chunk[id as usize];
        let len = if next == NONE {
            bucket.tail_len as usize
        } else {
            CHUNK
        };
        (len, next)
    }

    /// The `k`-th next of the current bucket's sorted events (0 = the next one), for a
    /// model to prefetch what it will touch: a hint, since events scheduled into the
    /// bucket after it was sorted may run before it.
    #[inline]
    pub fn peek_sorted(&self, k: usize) -> Option<&E> {
        let len = self.today.len();
        (k < len).then(|| &self.today[len - 1 - k].event)
    }

    /// Time of the next event without removing it.
    pub fn peek_time(&self) -> Option<Nanos> {
        let current = match (self.today.last(), self.soon.peek()) {
            (Some(a), Some(b)) => Some(a.time.min(b.time)),
            (a, b) => a.map(|e| e.time).or(b.map(|e| e.time)),
        };
        if current.is_some() {
            return current;
        }
        let ring_min = (1..RING)
            .map(|k| self.ring[((self.current + k) % RING) as usize])
            .find(|b| b.head != NONE)
            .map(|b| {
                let mut id = b.head;
                let mut min = Nanos::MAX;
                while id != NONE {
                    let (len, next) = self.chunk(id, &b);
                    min = self.arena.get(id)[..len]
                        .iter()
                        .map(|e| e.time)
                        .fold(min, Nanos::min);
                    id = next;
                }
                min
            });
        let overflow_min = self.overflow.peek().map(|e| e.time);
        match (ring_min, overflow_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn len(&self) -> usize {
        self.today.len() + self.soon.len() + self.ring_len + self.overflow.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events popped so far.
    pub fn popped(&self) -> u64 {
        self.popped
    }
}

/// Sorts events given in insertion order so that the next to run is at the end: latest
/// time first, and among equal times the last inserted first. `scratch` is reused
/// storage for the radix sort.
fn sort_latest_first<E: Copy>(v: &mut Vec<Timed<E>>, scratch: &mut Vec<Timed<E>>) {
    // A bucket holds a few dozen events at 10^4 clients: insertion sort, with no scratch
    // buffer, beats the others there.
    const SMALL: usize = 48;
    if v.len() <= SMALL {
        for i in 1..v.len() {
            let x = v[i];
            let mut j = i;
            while j > 0 && v[j - 1].time <= x.time {
                v[j] = v[j - 1];
                j -= 1;
            }
            v[j] = x;
        }
        return;
    }
    let first = v[0].time >> BUCKET_SHIFT;
    if v.iter().all(|e| e.time >> BUCKET_SHIFT == first) {
        // One bucket (always, as `advance` fills it): the order is that of the low
        // `BUCKET_SHIFT` bits, sorted in two stable counting passes (thousands of
        // events per bucket at 10^7 clients, where a comparison sort costs ~log2 n
        // moves per event).
        radix_sort_low_bits(v, scratch);
    } else {
        // Stable, so ties keep insertion order.
        v.sort_by_key(|e| e.time);
    }
    // Reversed: the first to run is last, and among ties the last inserted first.
    v.reverse();
}

/// Bits of time sorted by one counting pass of [`radix_sort_low_bits`].
const DIGIT_BITS: u32 = BUCKET_SHIFT / 2;
const DIGITS: usize = 1 << DIGIT_BITS;

/// Sorts `v` by the low [`BUCKET_SHIFT`] bits of time, stably (ties keep their order):
/// a least-significant-digit radix sort, two counting passes through `scratch`.
fn radix_sort_low_bits<E: Copy>(v: &mut Vec<Timed<E>>, scratch: &mut Vec<Timed<E>>) {
    scratch.clear();
    scratch.extend_from_slice(v);
    let digit = |e: &Timed<E>, pass: u32| (e.time >> (pass * DIGIT_BITS)) as usize & (DIGITS - 1);
    // Pass 0 reads `v` and writes `scratch`; pass 1 reads `scratch` and writes `v`.
    for pass in 0..2 {
        let (from, to) = if pass == 0 {
            (&*v, &mut *scratch)
        } else {
            (&*scratch, &mut *v)
        };
        let mut start = [0usize; DIGITS];
        for e in from.iter() {
            start[digit(e, pass)] += 1;
        }
        let mut sum = 0;
        for s in start.iter_mut() {
            let count = *s;
            *s = sum;
            sum += count;
        }
        for e in from.iter() {
            let d = digit(e, pass);
            to[start[d]] = *e;
            start[d] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_with_fifo_ties() {
        let mut q = EventQueue::new();
        q.schedule(30, "c");
        q.schedule(10, "a1");
        q.schedule(20, "b");
        q.schedule(10, "a2");
        q.schedule(10, "a3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(10, "a1"), (10, "a2"), (10, "a3"), (20, "b"), (30, "c")]
        );
    }

    #[test]
    fn ties_scheduled_while_running_go_after_existing_ones() {
        let mut q = EventQueue::new();
        q.schedule(5, 1);
        q.schedule(5, 2);
        assert_eq!(q.pop(), Some((5, 1)));
        q.schedule_in(0, 3); // same instant, scheduled later: runs after 2
        assert_eq!(q.pop(), Some((5, 2)));
        assert_eq!(q.pop(), Some((5, 3)));
        assert_eq!(q.now(), 5);
    }

    #[test]
    fn past_times_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule(100, 'x');
        q.pop();
        q.schedule(50, 'y');
        assert_eq!(q.pop(), Some((100, 'y')));
    }

    #[test]
    fn far_future_events_and_gaps_keep_their_order() {
        let mut q = EventQueue::new();
        let far = 1u64 << 40; // beyond the ring's horizon
        q.schedule(far + 5, 'd');
        q.schedule(far, 'c');
        q.schedule(3, 'a');
        q.schedule(70_000_000_000, 'b'); // just past one ring turn
        assert_eq!(q.len(), 4);
        assert_eq!(q.peek_time(), Some(3));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(3, 'a'), (70_000_000_000, 'b'), (far, 'c'), (far + 5, 'd')]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn the_radix_sort_of_a_bucket_is_stable_like_a_comparison_sort() {
        let mut x: u64 = 99;
        let mut scratch = Vec::new();
        for len in [0, 1, 47, 48, 49, 500, 5_000] {
            for spread in [1u64, 1_000, 1 << BUCKET_SHIFT, 3 << BUCKET_SHIFT] {
                let bucket = 7u64 << BUCKET_SHIFT;
                let mut v: Vec<Timed<u32>> = (0..len)
                    .map(|i| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        Timed {
                            time: bucket + (x >> 33) % spread,
                            event: i,
                        }
                    })
                    .collect();
                let mut expected: Vec<(Nanos, u32)> = v.iter().map(|e| (e.time, e.event)).collect();
                expected.sort_by_key(|&(t, _)| t);
                expected.reverse();
                sort_latest_first(&mut v, &mut scratch);
                let got: Vec<(Nanos, u32)> = v.iter().map(|e| (e.time, e.event)).collect();
                assert_eq!(got, expected, "len {len}, spread {spread}");
            }
        }
    }

    #[test]
    fn matches_a_sorted_reference_on_random_input() {
        // A simple LCG keeps this test free of the code under test's RNG.
        let mut x: u64 = 12345;
        let mut q = EventQueue::new();
        let mut reference = Vec::new();
        let mut seq = 0u64;
        let mut now = 0;
        const NS: u64 = 1_000_000_000;
        for round in 0..20_000 {
            for _ in 0..3 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = match x % 6 {
                    0 => now + (x >> 50) % 1000,
                    // A server's reply: often within the current bucket.
                    1 => now + (x >> 40) % 100_000,
                    2 => now + (x >> 30) % 50_000_000,
                    3 => now + (x >> 20) % 200_000_000_000,
                    // Whole seconds, some beyond the ring's horizon: many equal times,
                    // scheduled both to the ring and to the overflow heap.
                    4 => now.next_multiple_of(NS) + (x >> 40) % 150 * NS,
                    _ => now,
                };
                q.schedule(at, seq);
                reference.push((at, seq));
                seq += 1;
            }
            if round % 2 == 0 {
                reference.sort();
                let expected = reference.remove(0);
                let got = q.pop().unwrap();
                assert_eq!(got, expected);
                now = got.0;
            }
        }
        reference.sort();
        for expected in reference {
            assert_eq!(q.pop().unwrap(), expected);
        }
        assert!(q.is_empty());
    }
}
