//! The C allocator (`malloc`, `free`, ...) of a function's component, on
//! [talc](https://crates.io/crates/talc) instead of wasi-libc's dlmalloc.
//!
//! Rust's standard library on `wasm32-wasip2` allocates through the C
//! allocator, and wasi-libc's own code (the environment, stdio) calls it too,
//! so every component carries wasi-libc's dlmalloc: about 12 KB of code, a
//! seventh of a hello function. With the `small-alloc` feature (on by
//! default) fnsdk defines the C allocator's symbols itself, so the linker
//! never takes dlmalloc from wasi-libc; talc, a fast allocator written for
//! WebAssembly, serves them in about 2 KB. Nothing changes for Rust code:
//! `Box`, `Vec` and `String` reach these functions through std's `System`
//! allocator as before, and a `#[global_allocator]` of your own still takes
//! precedence for Rust allocations.
//!
//! C's `free` and `realloc` get no size, so each block carries a header in
//! front of it: the size and alignment of the whole talc allocation, stored
//! in the `align` bytes (16 or more) before the pointer handed out.
//!
//! Every symbol wasi-libc's dlmalloc object defines is defined here
//! (`malloc`, `calloc`, `realloc`, `free`, `posix_memalign`,
//! `aligned_alloc`, `malloc_usable_size` and the `__libc_` names libc uses
//! internally), so no reference ever pulls that object in. Should C code
//! linked into a function bring its own allocator, the link fails with a
//! duplicate `malloc`: turn the feature off (`fnsdk = { version = "..",
//! default-features = false }`).
//!
//! The header arithmetic is written once over any [`GlobalAlloc`], so native
//! unit tests run it on the system allocator; only the `wasm32` build exports
//! the C symbols.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

/// `malloc`'s alignment: `max_align_t` on wasm32 (and every C target's
/// `long double`), and the size of the header.
const MIN_ALIGN: usize = 16;

/// wasi-libc's `EINVAL` and `ENOMEM`.
const EINVAL: i32 = 28;
const ENOMEM: i32 = 48;

/// The C allocator over `backing`: each operation of `malloc(3)` and friends.
pub(crate) struct CAlloc<A>(pub(crate) A);

impl<A: GlobalAlloc> CAlloc<A> {
    /// `size` bytes aligned to `align` (a power of two), after a header;
    /// null when the size overflows or the backing allocator fails.
    ///
    /// # Safety
    /// `align` is a power of two.
    unsafe fn allocate(&self, size: usize, align: usize, zeroed: bool) -> *mut u8 {
        let align = align.max(MIN_ALIGN);
        let Some(total) = size.checked_add(align) else {
            return ptr::null_mut();
        };
        let Ok(layout) = Layout::from_size_align(total, align) else {
            return ptr::null_mut();
        };
        // SAFETY: `total` is at least `MIN_ALIGN`, so the layout is not zero-sized.
        let base = unsafe {
            if zeroed {
                self.0.alloc_zeroed(layout)
            } else {
                self.0.alloc(layout)
            }
        };
        if base.is_null() {
            return base;
        }
        // SAFETY: the block is `align + size` bytes; the header's two words
        // fill (part of) the first `align` bytes, which are 16 or more and
        // aligned for `usize`.
        unsafe {
            let user = base.add(align);
            let header = user.cast::<usize>();
            header.sub(1).write(total);
            header.sub(2).write(align);
            user
        }
    }

    /// The talc block behind `user` and its layout.
    ///
    /// # Safety
    /// `user` came from [`Self::allocate`] and was not freed.
    unsafe fn block(user: *mut u8) -> (*mut u8, Layout) {
        // SAFETY: the caller's promise: the header is in front of `user`.
        unsafe {
            let header = user.cast::<usize>();
            let total = header.sub(1).read();
            let align = header.sub(2).read();
            (
                user.sub(align),
                Layout::from_size_align_unchecked(total, align),
            )
        }
    }

    /// `malloc(size)`.
    pub(crate) unsafe fn malloc(&self, size: usize) -> *mut u8 {
        // SAFETY: `MIN_ALIGN` is a power of two.
        unsafe { self.allocate(size, MIN_ALIGN, false) }
    }

    /// `calloc(count, size)`: zeroed, null when `count * size` overflows.
    pub(crate) unsafe fn calloc(&self, count: usize, size: usize) -> *mut u8 {
        match count.checked_mul(size) {
            // SAFETY: `MIN_ALIGN` is a power of two.
            Some(bytes) => unsafe { self.allocate(bytes, MIN_ALIGN, true) },
            None => ptr::null_mut(),
        }
    }

    /// `free(user)`; null is ignored.
    ///
    /// # Safety
    /// `user` is null or came from this allocator and was not freed.
    pub(crate) unsafe fn free(&self, user: *mut u8) {
        if user.is_null() {
            return;
        }
        // SAFETY: the caller's promise.
        unsafe {
            let (base, layout) = Self::block(user);
            self.0.dealloc(base, layout);
        }
    }

    /// `realloc(user, size)`: the block keeps its alignment (and may grow in
    /// place); on failure the old block is left as it was and null is
    /// returned.
    ///
    /// # Safety
    /// As for [`Self::free`].
    pub(crate) unsafe fn realloc(&self, user: *mut u8, size: usize) -> *mut u8 {
        if user.is_null() {
            // SAFETY: nothing to keep.
            return unsafe { self.malloc(size) };
        }
        // SAFETY: the caller's promise.
        let (base, layout) = unsafe { Self::block(user) };
        let align = layout.align();
        let Some(total) = size.checked_add(align) else {
            return ptr::null_mut();
        };
        if Layout::from_size_align(total, align).is_err() {
            return ptr::null_mut();
        }
        // SAFETY: `base` and `layout` are the live block's; `total` is not
        // zero and fits a layout of this alignment. The header moves with
        // the block, at the same offset; only its size changes.
        unsafe {
            let moved = self.0.realloc(base, layout, total);
            if moved.is_null() {
                return moved;
            }
            let user = moved.add(align);
            user.cast::<usize>().sub(1).write(total);
            user
        }
    }

    /// `posix_memalign(out, align, size)`: 0, or `EINVAL` for an alignment
    /// that is not a power of two multiple of `sizeof(void *)`, or `ENOMEM`.
    ///
    /// # Safety
    /// `out` is valid for a write.
    pub(crate) unsafe fn posix_memalign(
        &self,
        out: *mut *mut u8,
        align: usize,
        size: usize,
    ) -> i32 {
        if !align.is_power_of_two() || !align.is_multiple_of(size_of::<usize>()) {
            return EINVAL;
        }
        // SAFETY: `align` is a power of two.
        let user = unsafe { self.allocate(size, align, false) };
        if user.is_null() {
            return ENOMEM;
        }
        // SAFETY: the caller's promise.
        unsafe { out.write(user) };
        0
    }

    /// `malloc_usable_size(user)`: the bytes usable at `user` (0 for null).
    ///
    /// # Safety
    /// As for [`Self::free`].
    pub(crate) unsafe fn usable_size(&self, user: *mut u8) -> usize {
        if user.is_null() {
            return 0;
        }
        // SAFETY: the caller's promise.
        let (_, layout) = unsafe { Self::block(user) };
        layout.size() - layout.align()
    }

    /// `aligned_alloc(align, size)`: null for an alignment that is not a
    /// power of two.
    pub(crate) unsafe fn aligned_alloc(&self, align: usize, size: usize) -> *mut u8 {
        if !align.is_power_of_two() {
            return ptr::null_mut();
        }
        // SAFETY: `align` is a power of two.
        unsafe { self.allocate(size, align, false) }
    }
}

/// The exported C allocator of a component.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
mod exports {
    use super::{CAlloc, ENOMEM};

    use core::alloc::Layout;
    use core::ptr::NonNull;
    use talc::base::Talc;
    use talc::base::binning::Binning;
    use talc::cell::TalcSyncCell;
    use talc::wasm::WasmBinning;

    /// WebAssembly components are single-threaded (no `atomics`), which
    /// `TalcSyncCell::new_wasm` relies on.
    static C_ALLOC: CAlloc<TalcSyncCell<Memory, WasmBinning>> =
        CAlloc(TalcSyncCell::new_wasm(Memory {
            end: None,
            initial_claimed: false,
        }));

    const PAGE: usize = 64 * 1024;

    unsafe extern "C" {
        /// The linker's: where the heap starts (after the data and the stack)
        /// and where the memory the module is instantiated with ends.
        static __heap_base: u8;
        static __heap_end: u8;
    }

    /// Where talc's memory comes from: first the free end of the initial
    /// memory (`__heap_base..__heap_end`), as dlmalloc takes it, so a
    /// function whose allocations fit never grows its memory; then pages
    /// from `memory.grow`, which extend the heap they follow.
    ///
    /// (talc's own `WasmGrowAndExtend` grows from the first allocation on:
    /// measured with `cargo bench -p fn-host-test --bench latency`, that made
    /// the hello's instantiation twice as slow, its grown pages being reset
    /// between requests.)
    #[derive(Debug)]
    struct Memory {
        /// The end of the heap, to extend when new pages follow it.
        end: Option<NonNull<u8>>,
        initial_claimed: bool,
    }

    // SAFETY: it only claims memory nothing else uses (the linker's heap
    // area, which wasi-libc's allocator would have had, and grown pages)
    // and does not allocate.
    unsafe impl talc::source::Source for Memory {
        fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
            if !talc.source.initial_claimed {
                talc.source.initial_claimed = true;
                let base = (&raw const __heap_base).cast_mut();
                let end = (&raw const __heap_end).cast_mut();
                if end > base {
                    // SAFETY: the area is unused memory of this instance.
                    talc.source.end = unsafe { talc.claim(base, end as usize - base as usize) };
                    if talc.source.end.is_some() {
                        // talc calls again when the allocation does not fit.
                        return Ok(());
                    }
                }
            }
            // Enough for `layout` and the chunk bookkeeping; when a new heap
            // is still short, the next call's pages extend it.
            let bytes = layout.size() + layout.align() + 4 * talc::base::CHUNK_UNIT;
            let pages = bytes.div_ceil(PAGE);
            let previous = core::arch::wasm32::memory_grow::<0>(pages);
            if previous == usize::MAX {
                return Err(());
            }
            let new_base = (previous * PAGE) as *mut u8;
            // The last page of a 4 GiB memory ends at 2^32: saturate.
            let new_end = (new_base as usize).saturating_add(pages * PAGE);
            if let Some(old_end) = talc.source.end.take()
                && old_end.as_ptr() == new_base
            {
                // SAFETY: the pages just grown follow the heap.
                talc.source.end = Some(unsafe { talc.extend(old_end, new_end as *mut u8) });
                return Ok(());
            }
            // SAFETY: the pages just grown are this instance's, unused.
            talc.source.end = unsafe { talc.claim(new_base, new_end - new_base as usize) };
            Ok(())
        }
    }

    unsafe extern "C" {
        /// wasi-libc's `errno`.
        fn __errno_location() -> *mut i32;
    }

    /// `malloc` sets `errno` to `ENOMEM` when it returns null for a size.
    fn out_of_memory(user: *mut u8) -> *mut u8 {
        if user.is_null() {
            // SAFETY: wasi-libc's errno is always there.
            unsafe { __errno_location().write(ENOMEM) };
        }
        user
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
        // SAFETY: no pointer involved.
        out_of_memory(unsafe { C_ALLOC.malloc(size) })
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
        // SAFETY: no pointer involved.
        out_of_memory(unsafe { C_ALLOC.calloc(count, size) })
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn free(user: *mut u8) {
        // SAFETY: C's contract for `free`, which is this module's.
        unsafe { C_ALLOC.free(user) }
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn realloc(user: *mut u8, size: usize) -> *mut u8 {
        // SAFETY: C's contract for `realloc`.
        out_of_memory(unsafe { C_ALLOC.realloc(user, size) })
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32 {
        // SAFETY: C's contract for `posix_memalign`.
        unsafe { C_ALLOC.posix_memalign(out, align, size) }
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn malloc_usable_size(user: *mut u8) -> usize {
        // SAFETY: C's contract for `malloc_usable_size`.
        unsafe { C_ALLOC.usable_size(user) }
    }

    // wasi-libc's dlmalloc also defines these names for libc's internal
    // use; defined here too, so that no reference ever needs it.
    #[unsafe(no_mangle)]
    unsafe extern "C" fn __libc_malloc(size: usize) -> *mut u8 {
        // SAFETY: as `malloc`.
        unsafe { malloc(size) }
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut u8 {
        // SAFETY: as `calloc`.
        unsafe { calloc(count, size) }
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn __libc_free(user: *mut u8) {
        // SAFETY: as `free`.
        unsafe { free(user) }
    }

    #[unsafe(no_mangle)]
    unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
        // SAFETY: no pointer involved.
        out_of_memory(unsafe { C_ALLOC.aligned_alloc(align, size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    const C: CAlloc<System> = CAlloc(System);

    #[test]
    fn blocks_are_aligned_writable_and_freed() {
        unsafe {
            let mut blocks = Vec::new();
            for size in [0, 1, 15, 16, 17, 4096, 1 << 20] {
                let p = C.malloc(size);
                assert!(!p.is_null());
                assert_eq!(p as usize % MIN_ALIGN, 0, "malloc({size})");
                ptr::write_bytes(p, 0xab, size);
                blocks.push(p);
            }
            for p in blocks {
                C.free(p);
            }
            C.free(ptr::null_mut());
        }
    }

    #[test]
    fn usable_size_is_at_least_what_was_asked() {
        unsafe {
            assert_eq!(C.usable_size(ptr::null_mut()), 0);
            let p = C.malloc(100);
            assert_eq!(C.usable_size(p), 100);
            let q = C.realloc(p, 3000);
            assert_eq!(C.usable_size(q), 3000);
            C.free(q);
        }
    }

    #[test]
    fn calloc_zeroes_and_refuses_overflow() {
        unsafe {
            let p = C.calloc(100, 8);
            assert!(std::slice::from_raw_parts(p, 800).iter().all(|b| *b == 0));
            C.free(p);
            assert!(C.calloc(usize::MAX / 2, 3).is_null());
            assert!(C.malloc(usize::MAX - 8).is_null());
        }
    }

    #[test]
    fn realloc_keeps_contents_and_alignment() {
        unsafe {
            let p = C.realloc(ptr::null_mut(), 10);
            for i in 0..10 {
                p.add(i).write(i as u8);
            }
            let grown = C.realloc(p, 100_000);
            assert_eq!(
                std::slice::from_raw_parts(grown, 10),
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
            );
            let shrunk = C.realloc(grown, 3);
            assert_eq!(std::slice::from_raw_parts(shrunk, 3), &[0, 1, 2]);
            C.free(shrunk);

            let mut aligned = ptr::null_mut();
            assert_eq!(C.posix_memalign(&mut aligned, 256, 40), 0);
            aligned.write(7);
            let moved = C.realloc(aligned, 5000);
            assert_eq!(
                moved as usize % 256,
                0,
                "realloc keeps posix_memalign's alignment"
            );
            assert_eq!(moved.read(), 7);
            C.free(moved);
        }
    }

    #[test]
    fn aligned_allocations_follow_posix() {
        unsafe {
            for align in [8, 16, 32, 4096] {
                let mut p = ptr::null_mut();
                assert_eq!(C.posix_memalign(&mut p, align, 100), 0);
                assert_eq!(p as usize % align, 0);
                C.free(p);
                let q = C.aligned_alloc(align, 64);
                assert_eq!(q as usize % align, 0);
                C.free(q);
            }
            let mut p = ptr::null_mut();
            assert_eq!(
                C.posix_memalign(&mut p, 24, 8),
                EINVAL,
                "not a power of two"
            );
            assert_eq!(
                C.posix_memalign(&mut p, 2, 8),
                EINVAL,
                "smaller than a pointer"
            );
            assert_eq!(C.posix_memalign(&mut p, 16, usize::MAX - 4), ENOMEM);
            assert!(C.aligned_alloc(48, 96).is_null());
        }
    }
}
