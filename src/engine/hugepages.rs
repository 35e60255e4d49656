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

/// Below this many bytes an array is left alone: a huge page would be mostly empty.
const WORTH_IT: usize = 4 << 20;

/// A vector with room for `n` values whose pages are to be huge: fill it without
/// growing it (that would move it to pages that did not ask).
pub fn huge_vec<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    advise_huge(&v);
    v
}

/// Asks the kernel to back the whole allocated capacity of `v` with huge pages. Call it
/// after the vector grows: the pages not yet touched are then allocated huge.
pub fn advise_huge<T>(v: &Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < WORTH_IT {
        return;
    }
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
