//! No store process outlives us, however we end.
//!
//! - **Interrupted** (SIGINT, SIGTERM, SIGHUP, SIGQUIT): a handler passes each signal to one
//!   thread through a pipe. It stops every running child's process group
//!   (SIGTERM, then SIGKILL after a grace of at most a second), waits for them, prints only the
//!   command's failure statement on stdout and one line on stderr, and exits 128+signal. Each child
//!   sits in its own process group (so a timeout can kill its grandchildren), which is also why
//!   the terminal's Ctrl-C never reaches it: we must pass it on.
//! - **Killed** (SIGKILL, the OOM killer): nothing of ours runs, so a watcher process (this
//!   binary re-executed, started with the first store process) holds the read end of a pipe. We
//!   write each child's process-group id into it right after the spawn, and the id negated once
//!   the child is reaped. When the pipe reaches end-of-file — we are gone, however — the watcher
//!   kills every group still registered. `PR_SET_PDEATHSIG` would not do: it reaches only the
//!   direct child, and fires when the spawning *thread* exits.
//! - **`run --mask`**: the supervised program is the user's; a signal sent to us alone is passed
//!   on to it, and it decides how to stop (the terminal's signals reach it directly).

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

const HANDLED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Process groups of the children running now.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The write end of the watcher's pipe, once started (`None`: it could not be started).
static WATCHER: OnceLock<Option<RawFd>> = OnceLock::new();
/// `run --mask`'s child: signals sent to us alone are passed on to it.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);
/// What stdout gets if we are interrupted: the command's failure statement.
static ON_INTERRUPT: Mutex<&'static str> = Mutex::new("");
/// Set first thing when a signal interrupts us; the signal thread then ends the process.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Held while a command writes its result to stdout, and by the signal thread from the moment
/// it takes over, so the two never write at once.
static OUTPUT: Mutex<()> = Mutex::new(());
/// A terminal whose echo a hidden prompt turned off, with the settings to restore.
static TERMINAL_TO_RESTORE: Mutex<Option<(RawFd, libc::termios)>> = Mutex::new(None);

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the set we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in HANDLED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// The write end of the pipe the signal handler writes to (-1 until installed).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// The handler: async-signal-safe, it only writes one byte — the signal number, with the high bit
/// set when a process sent it with kill(2) rather than the terminal sending it to the whole
/// foreground process group (which the program `run --mask` supervises has then received too).
extern "C" fn on_signal(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    #[cfg(target_os = "linux")]
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let from_a_process = unsafe { !info.is_null() && (*info).si_code <= 0 };
    // macOS: the sender is not told apart, so a signal is always passed on.
    #[cfg(not(target_os = "linux"))]
    let from_a_process = {
        let _ = info;
        true
    };
    let byte = (signal as u8 & 0x7f) | if from_a_process { 0x80 } else { 0 };
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
}

/// Called first in `main`. A handler (not a blocked mask: programs we start inherit a mask, and
/// blocking would keep `posix_spawn` from being used) turns each of SIGINT, SIGTERM, SIGHUP and
/// SIGQUIT into a byte on a pipe; one thread reads them and acts. Programs we exec start with
/// every signal at its default, as exec resets handled signals.
pub fn install_signal_handling() {
    let Ok((reader, writer)) = os_pipe::pipe() else {
        return;
    };
    use std::os::fd::IntoRawFd;
    let write_fd = writer.into_raw_fd();
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        let flags = libc::fcntl(write_fd, libc::F_GETFL);
        libc::fcntl(write_fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    SIGNAL_PIPE.store(write_fd, Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut reader = reader;
            let mut byte = [0u8; 1];
            while std::io::Read::read_exact(&mut reader, &mut byte).is_ok() {
                let signal = libc::c_int::from(byte[0] & 0x7f);
                let child = FORWARD_TO.load(Ordering::SeqCst);
                if child > 0 {
                    if byte[0] & 0x80 != 0 {
                        // SAFETY: kill takes plain values.
                        unsafe {
                            libc::kill(child, signal);
                        }
                    }
                    continue;
                }
                interrupted(signal);
            }
        });
    restore_job_control_signals_for_children();
    if spawned.is_err() {
        // No thread to act: leave the signals at their defaults (the watcher still cleans up).
        return;
    }
    for s in HANDLED {
        // SAFETY: installs an async-signal-safe handler; the struct is fully initialised.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(s, &action, std::ptr::null_mut());
        }
    }
}

/// Job-control signals that bash's `eval "$(…)"` and `source <(…)` start us with *ignored*
/// (command and process substitutions ignore SIGTTIN, SIGTTOU and SIGTSTP). An ignored
/// disposition survives exec, so every store child would inherit it: a CLI reading `/dev/tty`
/// from its background group then gets EIO instead of being stopped, and the terminal hand-off
/// (`terminal.rs`) never happens. A *handled* signal is reset to its default by exec, so where we
/// inherited "ignore" we install a handler that does nothing: for us it is as good as ignoring
/// (no SA_RESTART: a read of the terminal from the background fails instead of looping), and
/// every child starts with the default. (std's spawn already resets SIGPIPE and the signal mask;
/// SIGINT and SIGQUIT carry our handlers, so they reach children at their defaults too.)
fn restore_job_control_signals_for_children() {
    extern "C" fn nothing(_: libc::c_int) {}
    for s in [libc::SIGTTIN, libc::SIGTTOU, libc::SIGTSTP] {
        // SAFETY: reads, then replaces, a disposition with a handler that does nothing.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(s, std::ptr::null(), &mut current) != 0
                || current.sa_sigaction != libc::SIG_IGN
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = nothing as *const () as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(s, &action, std::ptr::null_mut());
        }
    }
}

fn signal_name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        _ => "a signal",
    }
}

fn write_fd(fd: RawFd, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: writes from a live slice.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = &rest[n as usize..];
    }
}

fn interrupted(signal: libc::c_int) -> ! {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if let Some((fd, saved)) = lock(&TERMINAL_TO_RESTORE).take() {
        // SAFETY: restores the settings a prompt saved on the same descriptor.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &saved);
        }
        write_fd(fd, b"\n");
    }
    // A result being printed right now is finished first; nothing is printed after this.
    let _output = lock(&OUTPUT);
    let stopped = stop_running_children();
    write_fd(1, lock(&ON_INTERRUPT).as_bytes());
    let calls = if stopped == 1 { "call" } else { "calls" };
    write_fd(
        2,
        format!(
            "jit-secrets: interrupted ({}): {stopped} store {calls} stopped\n",
            signal_name(signal)
        )
        .as_bytes(),
    );
    // SAFETY: ends the process without running destructors on other threads' data.
    unsafe { libc::_exit(128 + signal) }
}

/// Once interrupted, the signal thread owns the ending: any other thread that would print or
/// exit waits here for it instead.
pub fn wait_if_interrupted() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

/// SIGTERM to every running group, SIGKILL after a grace of at most a second to those left, and
/// a wait (bounded) until their reapers have seen them go. How many there were.
fn stop_running_children() -> usize {
    let groups = lock(&RUNNING).clone();
    for &g in &groups {
        kill_group(g, libc::SIGTERM);
    }
    let gone = |limit: Duration| {
        let start = Instant::now();
        while start.elapsed() < limit {
            if lock(&RUNNING).is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    };
    if !gone(Duration::from_millis(900)) {
        for g in lock(&RUNNING).iter() {
            kill_group(*g, libc::SIGKILL);
        }
        gone(Duration::from_secs(1));
    }
    groups.len()
}

pub(super) fn kill_group(pgid: u32, signal: i32) {
    if pgid > 1 {
        // SAFETY: killpg has no memory-safety preconditions; a stale pgid only yields ESRCH.
        unsafe {
            libc::killpg(pgid as libc::pid_t, signal);
        }
    }
}

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What an interrupted command prints on stdout: `activate`'s failure statement.
pub fn on_interrupt_print(statement: &'static str) {
    *lock(&ON_INTERRUPT) = statement;
}

/// Held while a command writes its result to stdout, so an interrupt cannot add its statement
/// in the middle. Once interrupted, it never returns (the signal thread ends the process).
pub fn output() -> MutexGuard<'static, ()> {
    wait_if_interrupted();
    let guard = lock(&OUTPUT);
    wait_if_interrupted();
    guard
}

/// A hidden prompt turned echo off on `fd`: an interrupt restores `saved` before exiting.
pub fn restore_terminal_on_interrupt(fd: RawFd, saved: libc::termios) {
    *lock(&TERMINAL_TO_RESTORE) = Some((fd, saved));
}

/// The prompt restored the terminal itself.
pub fn terminal_restored() {
    lock(&TERMINAL_TO_RESTORE).take();
}

/// `run --mask` supervises `pid` (0: no longer).
pub fn forward_signals_to(pid: u32) {
    FORWARD_TO.store(pid as i32, Ordering::SeqCst);
}

/// The watcher's pipe, started at the first call (the first store process).
pub fn watcher_fd() -> Option<RawFd> {
    *WATCHER.get_or_init(start_watcher)
}

/// A child (`pgid`) was started: the signal thread and the watcher now know it. (Registered
/// from here, just after the spawn: `posix_spawn`, which needs no code between fork and exec,
/// is much faster with many threads than a fork. A SIGKILL in the microseconds between spawn and
/// this write is the one moment a child could outlive us.)
pub(super) fn started(pgid: u32) {
    lock(&RUNNING).push(pgid);
    if let Some(fd) = watcher_fd() {
        write_fd(fd, &(pgid as i32).to_ne_bytes());
    }
}

/// A child's group was reaped (or killed and reaped): forget it here and in the watcher.
pub(super) fn finished(pgid: u32) {
    lock(&RUNNING).retain(|&g| g != pgid);
    if let Some(fd) = watcher_fd() {
        write_fd(fd, &(-(pgid as i32)).to_ne_bytes());
    }
}

/// The hidden argument that makes `jit-secrets` run as the watcher (see [`watcher_main`]).
pub const WATCHER_ARG: &str = "__jit-secrets-watcher";

/// Only the jit-secrets binary starts a watcher (it re-executes itself); a program using the
/// library (a test) has no watcher mode to run.
static WATCHER_ENABLED: AtomicBool = AtomicBool::new(false);

/// Called by `main`: store processes started from here on are watched.
pub fn enable_watcher() {
    WATCHER_ENABLED.store(true, Ordering::SeqCst);
}

/// The first process of the watcher, which forks the real watcher and exits at once: reaped
/// here, on a thread of its own, so the first store call does not wait for it. `run` joins it
/// before its exec (see [`settle_before_exec`]).
static WATCHER_PARENT: Mutex<Option<std::thread::JoinHandle<()>>> = Mutex::new(None);

/// Starts the watcher: this same binary, re-executed with [`WATCHER_ARG`], reading the pipe on
/// its stdin. A fresh program, not a fork: it holds no copy of our memory (no value), no
/// descriptor of ours but the pipe, and costs nothing until the first store process starts.
///
/// It is never our child and never in our process group or session: its first process forks it
/// and exits (so after `run`'s exec the user's program has no child it did not start, not even a
/// zombie), and the fork calls `setsid` (so `kill -9 -PGID`, `timeout -s KILL` and the terminal's
/// hang-up, which reach our group, do not reach it). It ends when the pipe closes.
fn start_watcher() -> Option<RawFd> {
    use std::os::fd::IntoRawFd;
    if !WATCHER_ENABLED.load(Ordering::SeqCst) {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    // Both ends are close-on-exec: store processes never hold the write end (our exit, and only
    // that, must end the watcher), and the watcher gets the read end as its stdin only.
    let (read_end, write_end) = os_pipe::pipe().ok()?;
    let mut first = std::process::Command::new(exe)
        .arg(WATCHER_ARG)
        .stdin(read_end)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let reaper = std::thread::Builder::new()
        .name("watcher-parent".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let _ = first.wait();
        })
        .ok();
    *lock(&WATCHER_PARENT) = reaper;
    Some(write_end.into_raw_fd())
}

/// Before `run` replaces us with the user's program: the watcher's first process is reaped, so
/// the program inherits no child of ours.
pub fn settle_before_exec() {
    if let Some(reaper) = lock(&WATCHER_PARENT).take() {
        let _ = reaper.join();
    }
}

/// The watcher's whole life: collect process-group ids from stdin (4-byte records: positive
/// registers, negative forgets) until end-of-file — jit-secrets has ended, however — then stop
/// every group still registered: SIGTERM, then SIGKILL.
pub fn watcher_main() -> ! {
    super::detached::fork_into_new_session();
    let set = signal_set();
    // SAFETY: ignores the signals a terminal sends the whole group; plain values.
    unsafe {
        for s in HANDLED {
            libc::signal(s, libc::SIG_IGN);
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        #[cfg(target_os = "linux")]
        libc::prctl(
            libc::PR_SET_NAME,
            c"jit-secrets-wd".as_ptr() as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    let mut groups: Vec<i32> = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let mut record = [0u8; 4];
    while std::io::Read::read_exact(&mut stdin, &mut record).is_ok() {
        let id = i32::from_ne_bytes(record);
        if id > 0 {
            groups.push(id);
        } else if id < 0 {
            groups.retain(|&g| g != -id);
        }
    }
    for &g in &groups {
        kill_group(g as u32, libc::SIGTERM);
    }
    if !groups.is_empty() {
        std::thread::sleep(Duration::from_millis(300));
        for &g in &groups {
            kill_group(g as u32, libc::SIGKILL);
        }
    }
    std::process::exit(0)
}
