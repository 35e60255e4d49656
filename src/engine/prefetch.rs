//! Memory prefetch hints: ask the CPU to start loading data that will be needed soon,
//! so the wait overlaps with other work. At 10^4+ clients the state an event touches is
//! rarely in cache; the queue knows which events come next, and so what to fetch.
//!
//! A hint has no effect on results — only on time — and compiles to nothing on
//! architectures without a stable prefetch instruction.

/// Starts loading the cache lines that hold `value` (64-byte lines).
#[inline(always)]
pub fn prefetch<T: ?Sized>(value: &T) {
    let p = (value as *const T).cast::<i8>();
    let mut offset = 0;
    while offset < std::mem::size_of_val(value) {
        prefetch_line(p.wrapping_add(offset));
        offset += 64;
    }
}

/// One of the crate's three `unsafe`s (the others: `hugepages.rs`, `runner::thread_cpu`): the intrinsic is `unsafe` by signature, though a prefetch
/// cannot fault or change what the program computes (see the SAFETY note).
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch_line(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch never faults, whatever the address, and never reads into
        // the program; SSE, which it needs, is part of every x86_64 CPU.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
