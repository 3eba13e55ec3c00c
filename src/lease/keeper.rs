//! The keeper: revokes an `on-exit` lease within a second or two of the last process that received
//! it exiting, however it exited (`exit`, a closed terminal, `kill -9`). No trap of the user's
//! shell is touched: the keeper watches the holders from outside.
//!
//! One keeper per lease (its key description), this binary re-executed and detached (see
//! `process::start_detached`). It holds no credential: it reads the record from the kernel
//! keyring when it must revoke, and the record holds what revocation needs (a Vault child
//! token, the manifest's revoke command). It holds a pidfd per live holder and sleeps in
//! `poll` until one exits (or a second passes: a new shell may have joined), then checks again.
//!
//! It is alone per lease: it listens on an abstract Unix socket named after the lease and our uid
//! (memory only, gone with the process); a second keeper cannot bind it and exits, and an
//! activation that can connect to it knows one is watching. It ends as soon as no record of its
//! lease is left — revoked, or expired and dropped by the kernel — so it outlives nothing.

#[cfg(target_os = "linux")]
use super::record::{self, Holder};
#[cfg(target_os = "linux")]
use std::collections::HashMap;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
#[cfg(target_os = "linux")]
use std::time::Duration;

/// The hidden argument that makes `jit-secrets` run as a keeper.
pub const KEEPER_ARG: &str = "__jit-secrets-lease-keeper";

/// How long one revocation may take.
#[cfg(target_os = "linux")]
const REVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Makes sure a keeper watches the lease stored under `description`.
pub fn ensure(description: &str) {
    if is_running(description) {
        return;
    }
    if let Err(e) = crate::process::start_detached(&[KEEPER_ARG, description]) {
        eprintln!("jit-secrets: warning: cannot start the lease keeper ({e}); the lease will expire instead of being revoked on exit");
    }
}

#[cfg(target_os = "linux")]
fn socket_address(description: &str) -> (libc::sockaddr_un, libc::socklen_t) {
    // SAFETY: getuid has no preconditions; sockaddr_un is plain data.
    let uid = unsafe { libc::getuid() };
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let digest = description.rsplit(':').next().unwrap_or(description);
    let name = format!("jit-secrets-keeper-{uid}-{digest}");
    // Abstract namespace: a leading NUL, no file.
    for (i, b) in name.bytes().enumerate().take(addr.sun_path.len() - 1) {
        addr.sun_path[i + 1] = b as libc::c_char;
    }
    let len =
        std::mem::size_of::<libc::sa_family_t>() + 1 + name.len().min(addr.sun_path.len() - 1);
    (addr, len as libc::socklen_t)
}

#[cfg(target_os = "linux")]
fn unix_socket() -> Option<OwnedFd> {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    // SAFETY: a fresh descriptor of ours.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Is a keeper of ours listening for this lease? (Another user's squatter does not count: its
/// peer credentials say whose it is.)
#[cfg(target_os = "linux")]
pub fn is_running(description: &str) -> bool {
    let Some(sock) = unix_socket() else {
        return false;
    };
    let (addr, len) = socket_address(description);
    // SAFETY: connect with an address we built; getsockopt writes into `cred`.
    unsafe {
        if libc::connect(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        ) != 0
        {
            return false;
        }
        let mut cred: libc::ucred = std::mem::zeroed();
        let mut size = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut size,
        ) == 0
            && cred.uid == libc::getuid()
    }
}

#[cfg(not(target_os = "linux"))]
pub fn is_running(_: &str) -> bool {
    false
}

/// The keeper's whole life (see the module).
#[cfg(target_os = "linux")]
pub fn main(description: &str) -> ! {
    crate::process::become_detached(c"jit-lease-keep");
    // A revoke command it starts dies with it, however it dies (see process::guard).
    crate::process::enable_watcher();
    let Some(listener) = unix_socket() else {
        std::process::exit(1)
    };
    let (addr, len) = socket_address(description);
    // SAFETY: bind/listen on our socket with an address we built.
    let bound = unsafe {
        libc::bind(
            listener.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        ) == 0
            && libc::listen(listener.as_raw_fd(), 64) == 0
    };
    if !bound {
        // Another keeper watches this lease.
        std::process::exit(0)
    }
    let mut pidfds: HashMap<Holder, OwnedFd> = HashMap::new();
    let mut failed_at: HashMap<String, std::time::Instant> = HashMap::new();
    loop {
        // Activations that checked we are here.
        // SAFETY: accept on our non-blocking listener; each connection is closed at once.
        unsafe {
            loop {
                let c = libc::accept4(
                    listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                );
                if c < 0 {
                    break;
                }
                libc::close(c);
            }
        }
        let Ok(stored) = record::scan(description) else {
            std::process::exit(0)
        };
        if stored.is_empty() {
            std::process::exit(0)
        }
        let mut watched: Vec<Holder> = Vec::new();
        for s in stored.iter().filter(|s| s.record.on_exit) {
            let live = s.record.live_holders();
            if live.is_empty() {
                let recently_failed = failed_at
                    .get(&s.description)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(10));
                if !recently_failed && !revoke_if_unheld(&s.description, &s.record.manifest) {
                    failed_at.insert(s.description.clone(), std::time::Instant::now());
                }
            }
            watched.extend(live);
        }
        drop(stored);
        pidfds.retain(|h, _| watched.contains(h));
        for h in watched {
            if let std::collections::hash_map::Entry::Vacant(slot) = pidfds.entry(h) {
                // SAFETY: pidfd_open with a pid and no flags; the descriptor is owned at once.
                let fd = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_open,
                        h.pid as libc::c_long,
                        0 as libc::c_long,
                    )
                };
                // The pid may have been reused between the check and the open: check again.
                if fd >= 0 && h.is_alive() {
                    // SAFETY: a fresh descriptor of ours.
                    slot.insert(unsafe { OwnedFd::from_raw_fd(fd as i32) });
                } else if fd >= 0 {
                    // SAFETY: the descriptor just opened, not used elsewhere.
                    unsafe { libc::close(fd as i32) };
                }
            }
        }
        let mut polled: Vec<libc::pollfd> = std::iter::once(listener.as_raw_fd())
            .chain(pidfds.values().map(|f| f.as_raw_fd()))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: poll on descriptors we own, for at most a second.
        unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, 1000) };
    }
}

#[cfg(not(target_os = "linux"))]
pub fn main(_: &str) -> ! {
    std::process::exit(0)
}

/// Revokes the lease under `description` if, checked again on the manifest's turn (an activation
/// may be joining it right now), no holder lives. `false`: revocation failed (tried again later).
#[cfg(target_os = "linux")]
fn revoke_if_unheld(description: &str, manifest: &str) -> bool {
    let _turn = super::turn(std::path::Path::new(manifest), REVOKE_TIMEOUT);
    let Some(stored) = record::load(description) else {
        return true;
    };
    if !stored.record.live_holders().is_empty() {
        return true;
    }
    match super::kinds::revoke(&stored.record, REVOKE_TIMEOUT) {
        Ok(_) => {
            record::remove(stored.serial);
            true
        }
        Err(_) => false,
    }
}
