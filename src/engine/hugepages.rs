//! Huge pages for the run's large arrays: the client records (88 B × clients, 0.88 GB at
//! 10^7), the origin's per-client streams and the event queue's chunk segments.
//!
//! An event touches one client picked almost at random among millions. With 4 KiB pages
//! each such touch also misses the TLB, and the page walk is itself a miss to memory; a
//! prefetch hides the data's latency but not all of the walk's. 2 MiB pages cut the page
//! table a run's arrays need by 512×. This machine's kernel gives transparent huge pages
//! only to memory that asks for them (`/sys/kernel/mm/transparent_hugepage/enabled` =
//! `madvise`), so the arrays ask, before their pages are first touched.
//!
//! Advice only: where the kernel cannot or will not (another OS, no THP, no free huge
//! page), nothing changes but speed; results never depend on it.
//!
//! A finished run also gives the large arrays that every run needs alike (the event
//! queue's chunk segments, the cold client records, the origin's streams) back to its
//! thread, and the thread's next run takes them instead of asking the kernel for fresh
//! memory: a page touched for the first time costs the kernel a fault and a clear, and
//! on a VM whose host reclaims freed memory (this project's: ~2 ms per MB) the host a
//! fault too — ~2 s of each 10^7-client run. A spare lives until the next run on its
//! thread has been built: what that run did not take (another size, another kind of
//! run) is freed then ([`release_spares`]), so a thread that goes on to small runs
//! does not sit on a large one's memory while another thread needs its own. The values
//! an array held are cleared before it is handed out: results cannot depend on it.

use std::any::Any;
use std::cell::RefCell;

/// Below this many bytes an array is left alone: a huge page would be mostly empty.
const WORTH_IT: usize = 4 << 20;

/// Whether room for `n` values of `T` is large enough for huge pages (and to be kept
/// for the next run).
fn worth_it<T>(n: usize) -> bool {
    n.saturating_mul(std::mem::size_of::<T>()) >= WORTH_IT
}

thread_local! {
    /// Large arrays given back by finished runs on this thread, emptied.
    static SPARE: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A vector with room for `n` values whose pages are to be huge: fill it without
/// growing it (that would move it to pages that did not ask). A large one is an array a
/// run on this thread gave back (see the module note) when one of the type has room.
pub fn huge_vec<T: 'static>(n: usize) -> Vec<T> {
    if worth_it::<T>(n) {
        if let Some(spare) = take_spare(n) {
            return spare;
        }
    }
    let v = Vec::with_capacity(n);
    advise_huge(&v);
    v
}

/// Keeps `v`'s memory for the thread's next run, emptied (a small one is just freed).
pub fn give_back<T: 'static>(mut v: Vec<T>) {
    if !worth_it::<T>(v.capacity()) {
        return;
    }
    v.clear();
    // A thread being torn down has no next run: `v` is then just freed.
    let _ = SPARE.try_with(|spare| spare.borrow_mut().push(Box::new(v)));
}

/// Frees the spares this thread still holds: called once a run has been built, with
/// what it took.
pub fn release_spares() {
    let _ = SPARE.try_with(|spare| drop(spare.take()));
}

/// A spare `Vec<T>` with room for `n`, if the thread has one. A spare of that type with
/// too little room is freed (the run asking is another size: kept, it would only add to
/// the memory the run needs).
pub(super) fn take_spare<T: 'static>(n: usize) -> Option<Vec<T>> {
    SPARE
        .try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let i = spare.iter().position(|a| a.is::<Vec<T>>())?;
            let v = *spare.swap_remove(i).downcast::<Vec<T>>().ok()?;
            (v.capacity() >= n).then_some(v)
        })
        .ok()
        .flatten()
}

/// Asks the kernel to back the whole allocated capacity of `v` with huge pages. Call it
/// after the vector grows: the pages not yet touched are then allocated huge.
pub fn advise_huge<T>(v: &Vec<T>) {
    if !worth_it::<T>(v.capacity()) {
        return;
    }
    let bytes = v.capacity() * std::mem::size_of::<T>();
    // madvise wants whole pages: the ones that lie inside the allocation.
    const PAGE: usize = 4096;
    let start = (v.as_ptr() as usize).next_multiple_of(PAGE);
    let end = (v.as_ptr() as usize + bytes) & !(PAGE - 1);
    if end > start {
        madvise_huge(start, end - start);
    }
}

/// `madvise(MADV_HUGEPAGE)` on `[start, start + len)` (page-aligned): one of the crate's
/// three `unsafe`s, a system call by signature (see the SAFETY note).
#[inline]
#[allow(unsafe_code)]
fn madvise_huge(start: usize, len: usize) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the range lies inside one live allocation of ours (the vector's
        // capacity, rounded inwards to whole pages). MADV_HUGEPAGE only marks how the
        // kernel may back those pages: it neither reads, writes nor unmaps memory, and
        // a failure (say, a kernel without THP) is harmless, so its result is ignored.
        let _ = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_takes_what_the_one_before_it_gave_back_emptied() {
        let n = WORTH_IT / 8 + 1;
        let mut v: Vec<u64> = huge_vec(n);
        v.extend(0..n as u64);
        let ptr = v.as_ptr();
        give_back(v);
        // Another type does not take it; the same type does, empty, with its room.
        let other: Vec<u32> = huge_vec(n);
        assert_ne!(other.as_ptr().cast::<u64>(), ptr);
        let again: Vec<u64> = huge_vec(n);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty() && again.capacity() >= n);
        // Too small for the next run: freed, not handed out (its address may well be
        // reused for the new one, so only the spare list can tell).
        give_back(again);
        assert!(SPARE.with_borrow(|spare| spare.len() == 1));
        let bigger: Vec<u64> = huge_vec(2 * n);
        assert!(bigger.capacity() >= 2 * n);
        assert!(SPARE.with_borrow(|spare| spare.is_empty()));
        // Small arrays are not kept.
        give_back(vec![1u8; 10]);
        assert!(SPARE.with_borrow(|spare| spare.is_empty()));
        // What a run does not take is freed once it is built.
        give_back(bigger);
        assert!(SPARE.with_borrow(|spare| spare.len() == 1));
        release_spares();
        assert!(SPARE.with_borrow(|spare| spare.is_empty()));
    }

    #[test]
    fn a_huge_vector_holds_what_it_is_given() {
        // Advice must not change contents or capacity, small or large.
        for n in [10usize, 1 << 20] {
            let mut v: Vec<u64> = huge_vec(n);
            assert_eq!(v.capacity(), n);
            v.extend(0..n as u64);
            advise_huge(&v);
            assert_eq!(v.len(), n);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        }
    }
}
