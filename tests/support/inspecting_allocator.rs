//! A global allocator that inspects every block as it is freed, or moved by a reallocation, and
//! counts those still holding the test binary's `CANARY` in `FREED_WITH_CANARY`. Included by
//! the zeroize tests with `#[path]`: each binary has its own allocator and its own canary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub static FREED_WITH_CANARY: AtomicUsize = AtomicUsize::new(0);

pub struct Inspecting(pub &'static [u8]);

impl Inspecting {
    unsafe fn holds_canary(&self, ptr: *const u8, size: usize) -> bool {
        std::slice::from_raw_parts(ptr, size)
            .windows(self.0.len())
            .any(|w| w == self.0)
    }
}

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.holds_canary(ptr, layout.size()) {
            FREED_WITH_CANARY.fetch_add(1, Ordering::SeqCst);
        }
        System.dealloc(ptr, layout)
    }
    /// As the C library does it: a block that moves leaves its old copy freed (counted if it held
    /// the canary); one resized in place frees nothing.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let had = self.holds_canary(ptr, layout.size());
        let moved = System.realloc(ptr, layout, new_size);
        if !moved.is_null() && moved != ptr && had {
            FREED_WITH_CANARY.fetch_add(1, Ordering::SeqCst);
        }
        moved
    }
}
