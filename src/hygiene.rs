//! Process hygiene for a tool that holds secrets in memory: no core dumps, and (on Linux) not
//! dumpable, so neither a crash nor another process of the same user can read a value out of it;
//! and an allocator that wipes every block it frees, so a value's transient copies in code kvtui
//! does not own (the SDK's JSON, the HTTP body, the views' strings) do not outlive their use.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator that, once [`wipe_freed_memory`] is called (the TUI: not the local vault,
/// whose throughput it would halve), wipes each block before it is freed, and the old block of a
/// `realloc`. `benches/memory.rs` counts the copies of a value left in kvtui's memory.
pub struct WipingAllocator;

static WIPE: AtomicBool = AtomicBool::new(false);

/// From now on every freed block is wiped.
pub fn wipe_freed_memory() {
    WIPE.store(true, Ordering::Relaxed);
}

/// Overwrites the stack below the caller's frame, where the frames it called left their locals
/// (an unoptimized build keeps copies of a value's bytes there, e.g. while base64-encoding a copy).
#[inline(never)]
pub fn scrub_stack() {
    let mut below = [0u8; 32 * 1024];
    // SAFETY: a buffer of this frame's own.
    unsafe { wipe(below.as_mut_ptr(), below.len()) };
    std::hint::black_box(&below);
}

/// Zeroes `len` bytes at `p` in a way the compiler may not drop as a dead store before `free`.
///
/// # Safety
/// `p` must be valid for writes of `len` bytes.
unsafe fn wipe(p: *mut u8, len: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: the caller gives a block it owns; explicit_bzero is memset that is never elided.
    unsafe {
        libc::explicit_bzero(p.cast(), len)
    };
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        // SAFETY: as above; `Zeroize` writes through volatile stores.
        let block = unsafe { std::slice::from_raw_parts_mut(p, len) };
        zeroize::Zeroize::zeroize(block);
    }
}

// SAFETY: every call is passed to `System` with the same layouts; blocks are only written (wiped)
// while still allocated.
unsafe impl GlobalAlloc for WipingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes until `System.dealloc`.
        unsafe {
            if WIPE.load(Ordering::Relaxed) {
                wipe(ptr, layout.size());
            }
            System.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !WIPE.load(Ordering::Relaxed) {
            // SAFETY: the caller's contract for `realloc`, passed on.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // A block that already holds `new_size` stays where it is (a shrink wipes the tail it
        // gives up); only then is it moved, never by the allocator itself, which would free the
        // old block unwiped: a new block, the bytes copied, the old one wiped and freed.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // SAFETY: `ptr` is a live block from this allocator (glibc's malloc underneath).
            let usable = unsafe { libc::malloc_usable_size(ptr.cast()) };
            if new_size <= usable && layout.align() <= 16 {
                if new_size < layout.size() {
                    // SAFETY: the tail lies inside the live block.
                    unsafe { wipe(ptr.add(new_size), layout.size() - new_size) };
                }
                return ptr;
            }
        }
        // SAFETY: `new_size` with the old alignment is the layout `realloc`'s contract promises.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let new = unsafe { System.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; the copy is of the smaller size.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// Turns off core dumps and ptrace-style access by same-user processes. Best effort: a platform
/// without these calls keeps its defaults.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; RLIMIT_CORE 0 only lowers a limit.
        let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) };
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes one integer argument and changes only this process.
        let _ = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    }
}

/// Whether the process may dump core (for the test).
pub fn core_dumps_allowed() -> bool {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) } == 0;
        #[cfg(target_os = "linux")]
        {
            // SAFETY: PR_GET_DUMPABLE takes no pointer arguments.
            let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
            return !(ok && lim.rlim_cur == 0 && dumpable == 0);
        }
        #[allow(unreachable_code)]
        return !(ok && lim.rlim_cur == 0);
    }
    #[allow(unreachable_code)]
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allocator_wipes_and_keeps_contents_across_realloc() {
        use std::alloc::{GlobalAlloc, Layout};
        // The wiping paths (this test binary's own allocator is not the wiping one).
        super::wipe_freed_memory();
        let a = super::WipingAllocator;
        let layout = Layout::from_size_align(16, 8).expect("layout");
        // SAFETY: a block of this test's own, used within its layout.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            std::ptr::copy_nonoverlapping(b"0123456789abcdef".as_ptr(), p, 16);
            // Shrunk in place: the contents kept, the tail given up wiped.
            let p = a.realloc(p, layout, 8);
            assert_eq!(std::slice::from_raw_parts(p, 8), b"01234567");
            let p = a.realloc(p, Layout::from_size_align(8, 8).expect("layout"), 16);
            assert_eq!(
                std::slice::from_raw_parts(p, 16),
                b"01234567\0\0\0\0\0\0\0\0"
            );
            std::ptr::copy_nonoverlapping(b"0123456789abcdef".as_ptr(), p, 16);
            // Grown past the block: moved, the contents kept.
            let q = a.realloc(p, layout, 4096);
            assert!(!q.is_null());
            assert_eq!(std::slice::from_raw_parts(q, 16), b"0123456789abcdef");
            super::wipe(q, 4096);
            assert!(std::slice::from_raw_parts(q, 4096).iter().all(|b| *b == 0));
            a.dealloc(q, Layout::from_size_align(4096, 8).expect("layout"));
        }
    }

    #[test]
    fn after_it_nothing_dumps_core() {
        super::no_core_dumps();
        assert!(!super::core_dumps_allowed());
    }
}
