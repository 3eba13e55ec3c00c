//! Handing the terminal to a store CLI that asks the person something.
//!
//! Every child runs in its own process group (so a timeout can kill its grandchildren). On a
//! terminal that makes it a background job: a CLI that reads `/dev/tty` (`age -d` asking for a
//! passphrase, `bw`, aws with `mfa_serial`, pinentry-curses under `pass`) is stopped by SIGTTIN.
//! We notice the stop, give that child's group the terminal (`tcsetpgrp`, what `timeout
//! --foreground` solves by other means), continue it, and take the terminal back when it ends.
//! One child holds the terminal at a time; the others keep running in the background, so calls
//! that never prompt lose nothing. With `--no-prompt`, or when we are not in the foreground
//! ourselves, a stopped child is killed with an error that says why.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

static TTY: OnceLock<Option<RawFd>> = OnceLock::new();
static HOLDER: Mutex<()> = Mutex::new(());
static PROMPTS_ALLOWED: AtomicBool = AtomicBool::new(true);
/// Process groups seen stopped, shared by every waiting thread and refreshed at most every
/// `SCAN_EVERY`, so fifty children waiting at once cost one scan, not fifty.
static STOPPED: Mutex<Option<(Instant, Vec<i32>)>> = Mutex::new(None);
pub(super) const SCAN_EVERY: Duration = Duration::from_millis(50);

/// `--no-prompt`: never hand the terminal over.
pub fn allow_prompts(allowed: bool) {
    PROMPTS_ALLOWED.store(allowed, Ordering::SeqCst);
}

/// Our controlling terminal, if any (children stop for it only when there is one).
pub(super) fn tty() -> Option<RawFd> {
    *TTY.get_or_init(|| {
        // SAFETY: open with a static C string; the descriptor stays open for our lifetime.
        let fd = unsafe {
            libc::open(
                c"/dev/tty".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        (fd >= 0).then_some(fd)
    })
}

/// Why a stopped child cannot have the terminal, or `None` when it can.
pub(super) fn refusal(tty: RawFd) -> Option<&'static str> {
    if !PROMPTS_ALLOWED.load(Ordering::SeqCst) {
        return Some("--no-prompt is set");
    }
    // SAFETY: plain queries on an open descriptor.
    let ours = unsafe { libc::tcgetpgrp(tty) == libc::getpgrp() };
    (!ours).then_some("jit-secrets is not in the terminal's foreground (a background job)")
}

/// Is a process of group `pgid` stopped (by SIGTTIN or SIGTTOU, waiting for the terminal)?
pub(super) fn is_stopped(pgid: u32) -> bool {
    let mut cache = STOPPED.lock().unwrap_or_else(|p| p.into_inner());
    let fresh = matches!(&*cache, Some((at, _)) if at.elapsed() < SCAN_EVERY);
    if !fresh {
        *cache = Some((Instant::now(), scan_stopped_groups()));
    }
    cache
        .as_ref()
        .is_some_and(|(_, groups)| groups.contains(&(pgid as i32)))
}

#[cfg(target_os = "linux")]
fn scan_stopped_groups() -> Vec<i32> {
    let mut groups = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return groups;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        let mut path = entry.path();
        path.push("stat");
        let Ok(stat) = std::fs::read_to_string(&path) else {
            continue;
        };
        // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let (Some(state), Some(_ppid), Some(pgrp)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if state == "T" {
            if let Ok(g) = pgrp.parse() {
                groups.push(g);
            }
        }
    }
    groups
}

/// Without /proc we cannot see a grandchild stop; the call then ends at its timeout.
#[cfg(not(target_os = "linux"))]
fn scan_stopped_groups() -> Vec<i32> {
    Vec::new()
}

/// The terminal lent to one child's group; given back when dropped.
pub(super) struct Lease {
    _one_at_a_time: MutexGuard<'static, ()>,
    tty: RawFd,
}

/// Gives `pgid` the terminal and continues it, unless another child holds it now (then the
/// caller asks again later).
pub(super) fn lend(tty: RawFd, pgid: u32) -> Option<Lease> {
    let guard = match HOLDER.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return None,
    };
    set_foreground(tty, pgid as libc::pid_t);
    super::guard::kill_group(pgid, libc::SIGCONT);
    Some(Lease {
        _one_at_a_time: guard,
        tty,
    })
}

impl Drop for Lease {
    fn drop(&mut self) {
        // SAFETY: getpgrp has no preconditions.
        set_foreground(self.tty, unsafe { libc::getpgrp() });
    }
}

/// `tcsetpgrp` from a thread that may be in a background group: SIGTTOU is blocked around it in
/// this thread, or the call would stop the whole of jit-secrets.
fn set_foreground(tty: RawFd, pgrp: libc::pid_t) {
    // SAFETY: signal-mask calls on sets we own; tcsetpgrp on an open descriptor.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        libc::tcsetpgrp(tty, pgrp);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}
