//! Proof that values are wiped before their memory is freed: a global allocator inspects every
//! block as it is freed (or moved by realloc) and counts the ones that still hold the canary.
//! This file proves it for the value types alone; `tests/zeroize_path.rs` for the whole path.

use jit_secrets::secret::{Scrubber, SecretValue, Tainted};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use zeroize::Zeroize;

#[path = "support/inspecting_allocator.rs"]
mod inspecting;
use inspecting::{Inspecting, FREED_WITH_CANARY};

const CANARY: &[u8] = b"zeroize-canary-4b1d9c7e";

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting(CANARY);

// The counters are global: run one scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn freed_with_canary_during(f: impl FnOnce()) -> usize {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = FREED_WITH_CANARY.load(Ordering::SeqCst);
    f();
    FREED_WITH_CANARY.load(Ordering::SeqCst) - before
}

fn canary_vec() -> Vec<u8> {
    let mut v = b"prefix ".to_vec();
    v.extend_from_slice(CANARY);
    v
}

#[test]
fn the_check_sees_an_unwiped_buffer() {
    // Guards the guard: a plain Vec freed with the canary is counted.
    assert_eq!(
        freed_with_canary_during(|| drop(std::hint::black_box(canary_vec()))),
        1
    );
    // And a plain Vec that grows: its old block, moved by realloc, is counted too.
    assert!(
        freed_with_canary_during(|| {
            let mut v = std::hint::black_box(canary_vec());
            v.reserve(1 << 20);
            std::hint::black_box(&mut v);
            v.zeroize();
        }) >= 1
    );
}

#[test]
fn secret_values_are_wiped_on_drop() {
    assert_eq!(
        freed_with_canary_during(|| drop(SecretValue::new(canary_vec()))),
        0
    );
    // Clones, trimmed values and the scrubber's copies too.
    assert_eq!(
        freed_with_canary_during(|| {
            let v = SecretValue::new(canary_vec());
            let c = v.clone();
            let t = c.trim_one_newline();
            let mut s = Scrubber::new();
            s.add(v.expose());
            let scrubbed = s.scrub(b"xx prefix zeroize-canary-4b1d9c7e yy");
            assert!(!scrubbed.windows(CANARY.len()).any(|w| w == CANARY));
            drop((v, t, s, scrubbed));
        }),
        0
    );
}

#[test]
fn tainted_stderr_is_wiped_on_drop() {
    assert_eq!(
        freed_with_canary_during(|| drop(Tainted::new(canary_vec()))),
        0
    );
}
