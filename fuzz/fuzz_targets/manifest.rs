//! Any bytes as a manifest: no panic, no hang; every rejection renders as a message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match jit_secrets::manifest::parse(std::path::Path::new("/fuzz/manifest.toml"), text) {
            Ok(m) => {
                for e in &m.entries {
                    assert!(!e.from.is_empty());
                    assert!(jit_secrets::reference::is_valid_env_name(&e.name));
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
