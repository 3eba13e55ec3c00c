//! Any text as a reference: no panic, and what parses prints back to text that parses to the
//! same reference (what `list` and errors show is what the manifest means).
#![no_main]
use jit_secrets::reference::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match Reference::parse(text) {
            Ok(r) => {
                let shown = r.to_string();
                assert_eq!(Reference::parse(&shown).as_ref(), Ok(&r), "{text:?} showed as {shown:?}");
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
});
