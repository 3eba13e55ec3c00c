//! The Linux kernel's key retention service, as the cache and leases use it: `user` keys in the
//! user keyring (`@u`), readable and writable by our uid only, each with a kernel timeout. Keys
//! live in kernel memory: never swapped, never written to disk. Elsewhere (macOS) every call
//! says there is no kernel keyring, and the callers do without.

#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(not(target_os = "linux"))]
pub use other::*;

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CString;
    use std::time::Duration;
    use zeroize::Zeroizing;

    const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
    const KEY_SPEC_PROCESS_KEYRING: libc::c_long = -2;
    const KEYCTL_LINK: libc::c_long = 8;
    const KEYCTL_DESCRIBE: libc::c_long = 6;
    const KEYCTL_SETPERM: libc::c_long = 5;
    const KEYCTL_UNLINK: libc::c_long = 9;
    const KEYCTL_SEARCH: libc::c_long = 10;
    const KEYCTL_READ: libc::c_long = 11;
    const KEYCTL_SET_TIMEOUT: libc::c_long = 15;
    /// Possessor: everything; our uid: view, read, write, search; group and others: nothing.
    const PERMISSIONS: libc::c_long = 0x3f0f_0000;

    fn errno() -> std::io::Error {
        std::io::Error::last_os_error()
    }

    /// Creates the key complete or not at all. It is made in our *process* keyring, given its
    /// permissions and timeout there, and only then linked into the user keyring (a link
    /// replaces a key of the same description atomically). A signal, even SIGKILL, between two
    /// of these calls leaves the half-made key in the process keyring, which dies with us: no
    /// key without a timeout is ever visible to another shell.
    pub fn add(description: &str, payload: &[u8], ttl: Duration) -> Result<(), String> {
        let kind = CString::new("user").expect("static");
        let desc = CString::new(description).map_err(|e| e.to_string())?;
        let quota = |e: std::io::Error| match e.raw_os_error() {
            Some(libc::EDQUOT) => {
                "the kernel's key quota for your user is full (see /proc/key-users)".to_string()
            }
            _ => format!("add_key: {e}"),
        };
        // SAFETY: add_key reads the NUL-terminated strings and `payload.len()` bytes.
        let serial = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                kind.as_ptr(),
                desc.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                KEY_SPEC_PROCESS_KEYRING,
            )
        };
        if serial < 0 {
            return Err(quota(errno()));
        }
        // SAFETY: keyctl with plain integer arguments on the key just created.
        let made = unsafe {
            libc::syscall(libc::SYS_keyctl, KEYCTL_SETPERM, serial, PERMISSIONS) == 0
                && libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_SET_TIMEOUT,
                    serial,
                    ttl.as_secs().max(1) as libc::c_long,
                ) == 0
                && libc::syscall(libc::SYS_keyctl, KEYCTL_LINK, serial, KEY_SPEC_USER_KEYRING) == 0
        };
        let failed = (!made).then(errno);
        // SAFETY: as above; the key stays linked in the user keyring only.
        unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_UNLINK,
                serial,
                KEY_SPEC_PROCESS_KEYRING,
            );
        }
        match failed {
            Some(e) => Err(format!("keyctl: {}", quota(e))),
            None => Ok(()),
        }
    }

    pub fn search(description: &str) -> Option<i32> {
        let kind = CString::new("user").expect("static");
        let desc = CString::new(description).ok()?;
        // SAFETY: keyctl(SEARCH) reads the NUL-terminated strings.
        let serial = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_SEARCH,
                KEY_SPEC_USER_KEYRING,
                kind.as_ptr(),
                desc.as_ptr(),
                0 as libc::c_long,
            )
        };
        (serial > 0).then_some(serial as i32)
    }

    /// The key's payload, in a buffer that is wiped when dropped (sized exactly, never grown).
    pub fn read(serial: i32) -> Option<Zeroizing<Vec<u8>>> {
        // SAFETY: a zero-length read returns the payload's size and writes nothing.
        let size = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_READ,
                serial,
                std::ptr::null_mut::<u8>(),
                0 as libc::c_long,
            )
        };
        if size < 0 {
            return None;
        }
        let mut buf = Zeroizing::new(vec![0u8; size as usize]);
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let n = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_READ,
                serial,
                buf.as_mut_ptr(),
                buf.len() as libc::c_long,
            )
        };
        if n < 0 || n as usize > buf.len() {
            return None;
        }
        buf.truncate(n as usize);
        Some(buf)
    }

    pub fn describe(serial: i32) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        // SAFETY: the kernel writes at most `buf.len()` bytes, NUL included.
        let n = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_DESCRIBE,
                serial,
                buf.as_mut_ptr(),
                buf.len() as libc::c_long,
            )
        };
        if n <= 0 || n as usize > buf.len() {
            return None;
        }
        buf.truncate(n as usize - 1);
        String::from_utf8(buf).ok()
    }

    /// The serials linked into the user keyring, however many: the buffer is sized from the
    /// kernel's answer (a read returns the size it needs), and read again if the keyring grew.
    pub fn user_keys() -> Result<Vec<i32>, String> {
        let mut buf = Vec::new();
        let n = loop {
            // SAFETY: reading a keyring yields its members' serials as 32-bit integers; the
            // kernel writes at most `buf.len()` bytes and returns the size of the whole list.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_READ,
                    KEY_SPEC_USER_KEYRING,
                    buf.as_mut_ptr(),
                    buf.len() as libc::c_long,
                )
            };
            if n < 0 {
                return Err(format!("the kernel keyring is not available: {}", errno()));
            }
            if n as usize <= buf.len() {
                break n as usize;
            }
            buf = vec![0u8; n as usize + 64 * 4];
        };
        Ok(buf[..n]
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub fn unlink(serial: i32) {
        // SAFETY: keyctl with plain integer arguments.
        unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_UNLINK,
                serial,
                KEY_SPEC_USER_KEYRING,
            );
        }
    }
}

/// No kernel keyring: every call misses, and saying so is the caller's job.
#[cfg(not(target_os = "linux"))]
mod other {
    use std::time::Duration;
    use zeroize::Zeroizing;

    pub fn add(_: &str, _: &[u8], _: Duration) -> Result<(), String> {
        Err("there is no kernel keyring on this system".into())
    }
    pub fn search(_: &str) -> Option<i32> {
        None
    }
    pub fn read(_: i32) -> Option<Zeroizing<Vec<u8>>> {
        None
    }
    pub fn describe(_: i32) -> Option<String> {
        None
    }
    pub fn user_keys() -> Result<Vec<i32>, String> {
        Err("there is no kernel keyring on this system".into())
    }
    pub fn unlink(_: i32) {}
}
