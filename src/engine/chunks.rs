//! The event queue's storage: fixed-size chunks of events, in segments that never move.
//!
//! One vector that doubles as it fills would copy everything it holds at each doubling,
//! and for that moment hold it twice: at 10^7 clients (20 M pending events, 640 MB) the
//! last doubling alone put ~0.5 GB on the run's peak memory. Segments of a fixed size
//! are added instead, each on huge pages (`hugepages.rs`) and filled a chunk at a time,
//! so memory is what the chunks in use need, and a chunk's id finds it in two steps.

use super::hugepages::{give_back, huge_vec, take_spare};

/// Events per chunk.
pub(super) const CHUNK: usize = 16;

/// Chunks per segment: 32,768 × 16 events × 32 B = 16 MiB, eight huge pages. Its pages
/// are touched only as chunks are taken, so a small run holds a few of them.
const SEGMENT_CHUNKS: usize = 1 << 15;

pub(super) struct Chunks<T: 'static> {
    segments: Vec<Vec<T>>,
    /// Empty segments a run before this one left (see [`Chunks::take_spares`]), used
    /// before new ones.
    reserve: Vec<Vec<T>>,
    /// Chunks handed out so far (ids `0..len`).
    len: usize,
}

/// The segments go back to the thread for its next run (`hugepages.rs`).
impl<T: 'static> Drop for Chunks<T> {
    fn drop(&mut self) {
        for segment in self.segments.drain(..).chain(self.reserve.drain(..)) {
            give_back(segment);
        }
    }
}

impl<T: Copy> Chunks<T> {
    pub fn new() -> Self {
        Chunks {
            segments: Vec::new(),
            reserve: Vec::new(),
            len: 0,
        }
    }

    /// Takes, of the segments a finished run on this thread gave back, as many as
    /// `entries` would fill (`hugepages.rs`: the rest are freed once the run is built).
    pub fn take_spares(&mut self, entries: usize) {
        let wanted = entries.div_ceil(SEGMENT_CHUNKS * CHUNK);
        while self.reserve.len() < wanted {
            match take_spare(SEGMENT_CHUNKS * CHUNK) {
                Some(segment) => self.reserve.push(segment),
                None => break,
            }
        }
    }

    /// A new chunk, every entry a copy of `fill` until written; its id.
    pub fn push(&mut self, fill: T) -> u32 {
        if self.len % SEGMENT_CHUNKS == 0 {
            let segment = self
                .reserve
                .pop()
                .unwrap_or_else(|| huge_vec(SEGMENT_CHUNKS * CHUNK));
            self.segments.push(segment);
        }
        let segment = self.segments.last_mut().expect("just ensured");
        // Within the capacity the segment was made with: it never moves.
        debug_assert!(segment.len() + CHUNK <= segment.capacity());
        segment.extend(std::iter::repeat_n(fill, CHUNK));
        self.len += 1;
        u32::try_from(self.len - 1).expect("fewer than 2^32 chunks (6.9e10 events)")
    }

    /// Chunk `id`'s entries.
    #[inline]
    pub fn get(&self, id: u32) -> &[T] {
        let (segment, start) = Self::place(id);
        &self.segments[segment][start..start + CHUNK]
    }

    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut [T] {
        let (segment, start) = Self::place(id);
        &mut self.segments[segment][start..start + CHUNK]
    }

    /// The segment that holds chunk `id`, and where the chunk starts in it.
    #[inline]
    fn place(id: u32) -> (usize, usize) {
        let id = id as usize;
        (id / SEGMENT_CHUNKS, id % SEGMENT_CHUNKS * CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_takes_the_segments_it_will_fill_from_the_run_before() {
        // A finished run on this thread (a test's own thread) left two segments.
        let mut before = Chunks::new();
        for _ in 0..SEGMENT_CHUNKS + 1 {
            before.push(7u64);
        }
        let first = before.segments[0].as_ptr();
        drop(before);
        // One segment's worth of entries takes one, and the chunks go into it, fresh.
        let mut chunks = Chunks::new();
        chunks.take_spares(SEGMENT_CHUNKS * CHUNK);
        assert_eq!(chunks.reserve.len(), 1);
        super::super::hugepages::release_spares();
        let id = chunks.push(0u64);
        assert_eq!(chunks.segments[0].as_ptr(), first);
        assert_eq!(chunks.get(id), &[0u64; CHUNK][..]);
        assert!(chunks.reserve.is_empty());
    }

    #[test]
    fn chunks_keep_what_is_written_across_segments() {
        let mut chunks = Chunks::new();
        let n = SEGMENT_CHUNKS + 3;
        for id in 0..n {
            assert_eq!(chunks.push(0u64), id as u32);
            chunks.get_mut(id as u32)[CHUNK - 1] = id as u64 + 1;
        }
        assert_eq!(chunks.segments.len(), 2);
        for id in 0..n {
            let chunk = chunks.get(id as u32);
            assert_eq!(chunk.len(), CHUNK);
            assert_eq!(chunk[CHUNK - 1], id as u64 + 1);
            assert_eq!(chunk[0], 0);
        }
    }
}
