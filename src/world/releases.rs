//! Memory released ahead of the books: what an answer taken early gives back.
//!
//! When a poll's answer leaves the server, the memory its request (or held long poll)
//! took is released. In a quiet world the departure is taken when the server answers
//! (`clock.rs`), but the memory must still be held until the departure's time: other
//! clients' connections, admitted meanwhile, see it, and a gauge's peak is the level's
//! over time, booked in time order ([`HeldPeak`](crate::world::metrics::HeldPeak)). So
//! the release waits here, and the books take it (`Connections::settle`) before
//! anything they book at or after its time — several changes at one instant count by
//! their net effect, so it may go first among them.
//!
//! Departures come nearly in the order they were taken (a CPU job's length apart), so
//! the releases are kept in order in a vector read from a moving front: one joins at
//! the back or a few places before it, and leaves from the front. One that would pass
//! [`MAX_PASSED`] others or more is not taken, nor one beyond [`MAX_HELD`]: its
//! departure stays an event of the queue, which sorts far-flung times better (at 10^7
//! clients the start-up wave's CPU backlog puts departures seconds apart, in any
//! order).

use crate::engine::Nanos;
use crate::world::ConnState;

/// An insertion passes fewer releases than this.
const MAX_PASSED: usize = 8;

/// Most releases held at once. A run's start-up wave at 10^7 clients (CPU backlogs of
/// seconds) would hold a million or more, 16 bytes each: past this many, answers
/// depart as events again, in the queue whose memory is counted for them anyway.
const MAX_HELD: usize = 1 << 16;

/// Releases taken from the front before a push compacts the vector (unless it empties
/// first, as it does between most bursts at small sizes).
const COMPACT_AFTER: usize = 4096;

/// A connection on `instance` went from `from` to `to` at `at`: the books move by the
/// memory between the two states. (States, not bytes: 16 bytes a release.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Release {
    pub at: Nanos,
    pub instance: u32,
    pub from: ConnState,
    pub to: ConnState,
}

/// Releases not yet booked, earliest first: `ordered[front..]`. (A vector read from a
/// moving front rather than a `VecDeque`: an insertion a place or two before the back
/// is then a plain move, where the deque's wrap-around checks cost more than the rest
/// of a release.)
pub(super) struct Releases {
    ordered: Vec<Release>,
    front: usize,
    /// When the front one is due (`Nanos::MAX`: none): every booking asks, so the
    /// answer is kept in one field.
    next_due: Nanos,
}

impl Default for Releases {
    fn default() -> Self {
        Releases {
            ordered: Vec::new(),
            front: 0,
            next_due: Nanos::MAX,
        }
    }
}

impl Releases {
    /// Can a release due at `at` join, passing fewer than [`MAX_PASSED`] others, with
    /// fewer than [`MAX_HELD`] held?
    #[inline]
    pub fn takes(&self, at: Nanos) -> bool {
        let n = self.ordered.len();
        let held = n - self.front;
        held < MAX_PASSED || (held < MAX_HELD && self.ordered[n - MAX_PASSED].at <= at)
    }

    /// Adds a release that [`Releases::takes`]: after every one due no later.
    #[inline]
    pub fn push(&mut self, release: Release) {
        debug_assert!(self.takes(release.at));
        if self.front >= COMPACT_AFTER && 2 * self.front >= self.ordered.len() {
            self.compact();
        }
        self.ordered.push(release);
        let mut i = self.ordered.len() - 1;
        while i > self.front && self.ordered[i - 1].at > release.at {
            self.ordered[i] = self.ordered[i - 1];
            i -= 1;
        }
        self.ordered[i] = release;
        self.next_due = self.ordered[self.front].at;
    }

    #[cold]
    fn compact(&mut self) {
        self.ordered.drain(..self.front);
        self.front = 0;
    }

    /// Is a release due at or before `now`? (Asked before every booking: one compare.)
    #[inline]
    pub fn any_due(&self, now: Nanos) -> bool {
        self.next_due <= now
    }

    /// The earliest release due at or before `now`, taken out.
    #[inline]
    pub fn take_due(&mut self, now: Nanos) -> Option<Release> {
        // (Empty, `next_due` is `Nanos::MAX`: only a call for everything gets past the
        // first test.)
        if self.next_due > now || self.front == self.ordered.len() {
            return None;
        }
        let release = self.ordered[self.front];
        self.front += 1;
        if self.front == self.ordered.len() {
            self.ordered.clear();
            self.front = 0;
            self.next_due = Nanos::MAX;
        } else {
            self.next_due = self.ordered[self.front].at;
        }
        Some(release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A release marked by its `instance`, to tell equal times apart.
    fn release(at: Nanos, instance: u32) -> Release {
        Release {
            at,
            instance,
            from: ConnState::Busy,
            to: ConnState::Idle,
        }
    }

    #[test]
    fn a_release_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Release>(), 16);
    }

    #[test]
    fn releases_come_out_in_time_order_and_only_once_due() {
        let mut r = Releases::default();
        for (at, instance) in [(30, 3), (10, 1), (20, 2), (20, 4)] {
            r.push(release(at, instance));
        }
        assert_eq!(r.take_due(9), None);
        assert_eq!(r.take_due(20).map(|r| r.at), Some(10));
        // Equal times keep the order they came in.
        assert_eq!(r.take_due(20).map(|r| r.instance), Some(2));
        assert_eq!(r.take_due(20).map(|r| r.instance), Some(4));
        assert_eq!(r.take_due(20), None);
        assert_eq!(r.take_due(Nanos::MAX).map(|r| r.instance), Some(3));
        assert_eq!(r.take_due(Nanos::MAX), None);
    }

    #[test]
    fn no_more_than_max_held_are_held() {
        let mut r = Releases::default();
        for at in 0..MAX_HELD as Nanos {
            assert!(r.takes(at));
            r.push(release(at, 0));
        }
        assert!(!r.takes(Nanos::MAX));
        assert!(r.take_due(0).is_some());
        assert!(r.takes(Nanos::MAX));
    }

    #[test]
    fn a_long_queue_is_compacted_and_keeps_its_order() {
        let mut r = Releases::default();
        let n = 3 * COMPACT_AFTER as Nanos;
        for at in 0..n {
            r.push(release(at, 0));
        }
        for at in 0..n {
            assert_eq!(r.take_due(at).map(|r| r.at), Some(at));
            assert!(r.ordered.len() - r.front == (n - at - 1) as usize);
        }
        assert_eq!(r.take_due(Nanos::MAX), None);
        assert!(r.ordered.is_empty());
    }

    #[test]
    fn a_release_that_would_pass_too_many_is_not_taken() {
        let mut r = Releases::default();
        for at in 1..=MAX_PASSED as Nanos {
            assert!(r.takes(at * 10));
            r.push(release(at * 10, 0));
        }
        // Passing all MAX_PASSED is one too many; passing MAX_PASSED - 1 is not.
        assert!(!r.takes(5));
        assert!(r.takes(10));
        r.push(release(10, 0));
        assert!(r.takes(Nanos::MAX));
        assert_eq!(r.take_due(10).map(|r| r.at), Some(10));
    }
}
