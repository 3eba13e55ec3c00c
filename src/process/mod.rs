//! The only place that starts processes.
//!
//! Every child runs in its own process group with piped stdin/stdout/stderr, a deadline, and a cap
//! on what we read. When the deadline passes, or the cap is crossed, the whole group is killed
//! (SIGTERM, then SIGKILL): killing only the direct child would leave a grandchild holding the
//! stdout pipe open, and our read would then block until it, not the timeout, decided to exit.
//! `guard` makes sure no group outlives us when we are interrupted or killed; `terminal` lends
//! the terminal to a child that stops to ask the person something; `cli` turns a CLI's run into
//! its output or a [`crate::store_error::StoreError`] with the fix.

mod approved;
pub mod cli;
mod detached;
mod guard;
mod terminal;

pub use approved::{approve_repository, of_repository};
pub use detached::{become_detached, start_detached};
pub use guard::{
    enable_watcher, forward_signals_to, install_signal_handling, on_interrupt_print, output,
    restore_terminal_on_interrupt, settle_before_exec, terminal_restored, wait_if_interrupted,
    watcher_fd, watcher_main, WATCHER_ARG,
};
pub use terminal::allow_prompts;

use crate::secret::{extend_wiping, SecretValue, Tainted};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// What to run. `stdin` may hold a secret (storing a value): it is written from memory through a
/// pipe, never placed on the command line.
pub struct Child<'a> {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub stdin: Option<&'a [u8]>,
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
    pub max_stdout: usize,
    /// Where it runs (default: ours).
    pub current_dir: Option<PathBuf>,
}

/// Cap on stored stderr: enough for any error message, small enough to not matter.
const MAX_STDERR: usize = 64 * 1024;
/// Default cap on stdout: far beyond any real secret or batch, far below trouble.
pub const DEFAULT_MAX_STDOUT: usize = 16 * 1024 * 1024;

impl<'a> Child<'a> {
    pub fn new(program: impl Into<PathBuf>, timeout: Duration) -> Self {
        Child {
            program: program.into(),
            args: Vec::new(),
            stdin: None,
            env: Vec::new(),
            timeout,
            max_stdout: DEFAULT_MAX_STDOUT,
            current_dir: None,
        }
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdin(mut self, bytes: &'a [u8]) -> Self {
        self.stdin = Some(bytes);
        self
    }
}

/// Where `program` would be found when spawned: itself when it holds a `/`, else the first
/// executable regular file of that name on `PATH`.
pub fn on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

pub struct Output {
    pub exit: Exit,
    /// May hold secret values: zeroized on drop.
    pub stdout: SecretValue,
    /// May echo secret values: shown only scrubbed.
    pub stderr: Tainted,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("`{program}` is not installed or not on PATH")]
    NotInstalled { program: String },
    #[error("could not start `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program}` did not finish within {}s and was killed (with its process group)", .after.as_secs_f64())]
    TimedOut { program: String, after: Duration },
    #[error("`{program}` printed more than {limit} bytes; stopped reading and killed it")]
    OutputTooLarge { program: String, limit: usize },
    #[error("`{program}` stopped to ask something on the terminal, and {why}; it was killed")]
    WantsTerminal { program: String, why: &'static str },
    #[error("`{program}` is {file}, a file of the manifest's repository ({repository}) that you did not approve as it is now (the manifest does not name it, or it changed since `jit-secrets allow`); nothing was run", file = crate::printable::path(.file), repository = crate::printable::path(.repository))]
    NotApproved {
        program: String,
        file: PathBuf,
        repository: PathBuf,
    },
}

fn program_label(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Reads until end-of-file or until more than `cap` bytes were offered; in the second case it
/// stops at once (the caller kills the child) and says so. The buffer grows without leaving
/// unwiped copies behind.
fn read_capped(mut r: impl Read, cap: usize) -> (Zeroizing<Vec<u8>>, bool) {
    let mut buf = Zeroizing::new(Vec::new());
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        match r.read(&mut chunk[..]) {
            Ok(0) => return (buf, false),
            Ok(n) => {
                let room = cap.saturating_sub(buf.len());
                extend_wiping(&mut buf, &chunk[..n.min(room)]);
                if n > room {
                    return (buf, true);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return (buf, false),
        }
    }
}

use guard::kill_group;

enum Stream {
    Out(Zeroizing<Vec<u8>>, bool),
    Err(Zeroizing<Vec<u8>>),
}

/// Runs `child` to completion or deadline.
pub fn run(child: Child<'_>) -> Result<Output, ProcessError> {
    let program = program_label(&child.program);
    let spawn_err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ProcessError::NotInstalled {
                program: program.clone(),
            }
        } else {
            ProcessError::Spawn {
                program: program.clone(),
                source,
            }
        }
    };
    // Looked up once and checked (a program of the manifest's repository runs only as approved):
    // the file checked is the file spawned, under the name it was given as.
    let spawned = approved::checked_program(&child.program, child.current_dir.as_deref())?;
    let (out_r, out_w) = os_pipe::pipe().map_err(spawn_err)?;
    let (err_r, err_w) = os_pipe::pipe().map_err(spawn_err)?;
    let (in_r, in_w) = os_pipe::pipe().map_err(spawn_err)?;
    // Started before the first child, so the child's registration finds it.
    watcher_fd();

    let mut cmd = std::process::Command::new(&spawned);
    std::os::unix::process::CommandExt::arg0(&mut cmd, &child.program);
    cmd.args(&child.args)
        .stdin(in_r)
        .stdout(out_w)
        .stderr(err_w)
        .envs(child.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &child.current_dir {
        cmd.current_dir(dir);
    }
    // Its own process group (so a timeout can kill its grandchildren too). Nothing else runs
    // between fork and exec, so the standard library can use posix_spawn.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let started = Instant::now();
    let mut handle = cmd.spawn().map_err(spawn_err)?;
    // The command holds our copies of the pipe ends the child inherited: drop it so the readers
    // see end-of-file when the child (and its group) close theirs.
    drop(cmd);
    let pgid = handle.id();
    guard::started(pgid);
    let result = supervise(
        &mut handle,
        pgid,
        child,
        out_r,
        err_r,
        in_w,
        started,
        program,
    );
    guard::finished(pgid);
    result
}

/// After a store's program exits, how long its output may stay open (held by a background
/// process it started) before the rest of its process group is killed.
const GRACE: Duration = Duration::from_millis(100);
/// How often a waiting call looks whether its program has exited.
const EXIT_CHECK_EVERY: Duration = Duration::from_millis(10);

/// The child's exit status, or `None` if it is still running at `deadline`. Called once its
/// output has closed, when it has almost always exited already: polled, at first often.
fn wait_until(
    handle: &mut std::process::Child,
    deadline: Instant,
) -> Option<std::process::ExitStatus> {
    let mut pause = Duration::from_micros(100);
    loop {
        match handle.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Reads the child's output and waits for it until the deadline, killing its group on a
/// timeout or an overflow, and lending it the terminal if it stops to ask the person.
#[allow(clippy::too_many_arguments)]
fn supervise(
    handle: &mut std::process::Child,
    pgid: u32,
    child: Child<'_>,
    out_r: os_pipe::PipeReader,
    err_r: os_pipe::PipeReader,
    in_w: os_pipe::PipeWriter,
    started: Instant,
    program: String,
) -> Result<Output, ProcessError> {
    let streams = start_pipe_threads(out_r, err_r, in_w, child.stdin, child.max_stdout);
    let deadline = started + child.timeout;
    let Collected {
        mut stdout,
        mut stderr,
        lease,
    } = collect_streams(handle, pgid, &streams, &child, deadline, &program)?;
    // The streams closed; the child has almost always exited by now. The terminal stays lent
    // until it has, or until the group is killed.
    let Some(status) = wait_until(handle, deadline) else {
        kill_and_reap(handle, pgid);
        return Err(ProcessError::TimedOut {
            program,
            after: child.timeout,
        });
    };
    let exit = exit_of(status);
    let had_the_terminal = lease.is_some();
    // The terminal comes back to us before anything else happens.
    drop(lease);
    if had_the_terminal && exit == Exit::Signal(libc::SIGINT) {
        // The person pressed Ctrl-C while the child held the terminal: the signal went to the
        // child's group only. Interrupt the whole activation, as it would have without the loan.
        // SAFETY: kill takes plain values; the signal thread takes it.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGINT);
        }
    }
    Ok(Output {
        exit,
        stdout: SecretValue::new(std::mem::take(&mut *stdout)),
        stderr: Tainted::new(std::mem::take(&mut *stderr)),
    })
}

/// Reads stdout and stderr, and writes stdin, each on a helper thread: a child that never reads
/// its stdin, or fills a pipe we are not reading yet, must not block us past the deadline.
/// Each stream arrives on the returned channel once it closes.
fn start_pipe_threads(
    out_r: os_pipe::PipeReader,
    err_r: os_pipe::PipeReader,
    mut in_w: os_pipe::PipeWriter,
    stdin: Option<&[u8]>,
    max_stdout: usize,
) -> mpsc::Receiver<Stream> {
    let (tx, rx) = mpsc::channel::<Stream>();
    {
        let tx = tx.clone();
        thread::spawn(move || {
            let (buf, overflow) = read_capped(out_r, max_stdout);
            let _ = tx.send(Stream::Out(buf, overflow));
        });
    }
    thread::spawn(move || {
        // Past the cap the rest of stderr is not read (the child gets EPIPE); it says nothing
        // we would show anyway.
        let (buf, _) = read_capped(err_r, MAX_STDERR);
        let _ = tx.send(Stream::Err(buf));
    });
    // The stdin writer gets EPIPE when the child exits without reading; it ends then.
    if let Some(input) = stdin {
        let data = Zeroizing::new(input.to_vec());
        thread::spawn(move || {
            let _ = in_w.write_all(&data);
        });
    } else {
        drop(in_w);
    }
    rx
}

/// Both streams of a child, read to their end, and the terminal if it was lent to the child.
struct Collected {
    stdout: Zeroizing<Vec<u8>>,
    stderr: Zeroizing<Vec<u8>>,
    lease: Option<terminal::Lease>,
}

/// Collects both streams (they close when every process holding them exits) before the
/// deadline. Meanwhile it looks now and then whether the child exited (see `Watch`) and, on a
/// terminal, whether it stopped to read from it. An overflow, a timeout or a prompt we may not
/// lend the terminal to kills the group and is the error.
fn collect_streams(
    handle: &mut std::process::Child,
    pgid: u32,
    streams: &mpsc::Receiver<Stream>,
    child: &Child<'_>,
    deadline: Instant,
    program: &str,
) -> Result<Collected, ProcessError> {
    let tty = terminal::tty();
    let mut watch = Watch::default();
    let mut stdout = None;
    let mut stderr = None;
    while stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = match (tty, &watch.lease) {
            (Some(_), None) => left.min(terminal::SCAN_EVERY),
            _ => left,
        }
        .min(EXIT_CHECK_EVERY);
        match streams.recv_timeout(wait) {
            Ok(Stream::Out(_, true)) => {
                kill_and_reap(handle, pgid);
                return Err(ProcessError::OutputTooLarge {
                    program: program.to_string(),
                    limit: child.max_stdout,
                });
            }
            Ok(Stream::Out(buf, false)) => stdout = Some(buf),
            Ok(Stream::Err(buf)) => stderr = Some(buf),
            Err(_) if Instant::now() < deadline => {
                if let Err(why) = watch.look(handle, pgid, tty) {
                    kill_and_reap(handle, pgid);
                    return Err(ProcessError::WantsTerminal {
                        program: program.to_string(),
                        why,
                    });
                }
            }
            Err(_) => {
                kill_and_reap(handle, pgid);
                return Err(ProcessError::TimedOut {
                    program: program.to_string(),
                    after: child.timeout,
                });
            }
        }
    }
    Ok(Collected {
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
        lease: watch.lease,
    })
}

/// What `collect_streams` has seen of a running child between reads.
#[derive(Default)]
struct Watch {
    /// When the child itself exited. A background process it left in its group (`sleep 305 &`)
    /// can hold the streams open long after: once the child has exited and GRACE has passed,
    /// the rest of its group is killed and what was written so far is the answer.
    exited_at: Option<Instant>,
    group_killed: bool,
    /// The terminal, while lent to the child's group.
    lease: Option<terminal::Lease>,
}

impl Watch {
    /// One look at the child while no stream has news: ends a lingering group, or lends the
    /// terminal to a child stopped to read from it. `Err` says why it may not have it.
    fn look(
        &mut self,
        handle: &mut std::process::Child,
        pgid: u32,
        tty: Option<std::os::fd::RawFd>,
    ) -> Result<(), &'static str> {
        if self.exited_at.is_none() && matches!(handle.try_wait(), Ok(Some(_))) {
            self.exited_at = Some(Instant::now());
        }
        if let (Some(at), false) = (self.exited_at, self.group_killed) {
            if at.elapsed() >= GRACE {
                // Only our group: a daemon that left it on purpose (`setsid`:
                // gpg-agent, a CLI's own server) is how that store stays fast.
                kill_group(pgid, libc::SIGKILL);
                self.group_killed = true;
            }
            return Ok(());
        }
        let Some(tty) = tty else { return Ok(()) };
        if self.lease.is_some() || !terminal::is_stopped(pgid) {
            return Ok(());
        }
        if let Some(why) = terminal::refusal(tty) {
            return Err(why);
        }
        self.lease = terminal::lend(tty, pgid);
        Ok(())
    }
}

/// Kills the child's whole group (SIGTERM, then SIGKILL) and reaps the child.
fn kill_and_reap(handle: &mut std::process::Child, pgid: u32) {
    if pgid != 0 {
        kill_group(pgid, libc::SIGTERM);
        thread::sleep(Duration::from_millis(50));
        kill_group(pgid, libc::SIGKILL);
    }
    let _ = handle.wait();
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(-1),
    }
}

/// Runs `argv[0]` with `env` added, passing its stdout and stderr through `filter_out` and
/// `filter_err` as they stream (for `run --mask`); stdin is shared. Returns how it ended.
pub fn run_filtered<F>(
    argv: &[OsString],
    env: &[(String, &[u8])],
    filter_out: F,
    filter_err: F,
) -> std::io::Result<Exit>
where
    F: FnMut(&[u8], bool) -> Vec<u8> + Send,
{
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let Some((program, args)) = argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no command given",
        ));
    };
    let block = EnvBlock::new(env);
    let target = Exec::new(None, program, args, &block)?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let (path, argv_ptrs, envp) = target.raw();
    // SAFETY: between fork and exec the child only calls execve (async-signal-safe) on arrays built before the fork. Our own execve carries the values in
    // `block`, which is wiped when dropped; `Command::env` would keep copies it frees unwiped.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            libc::execve(
                path as *const libc::c_char,
                argv_ptrs as *const *const libc::c_char,
                envp as *const *const libc::c_char,
            );
            Err(std::io::Error::last_os_error())
        });
    }
    let spawned = cmd.spawn();
    drop(target);
    drop(block);
    let mut child = spawned?;
    // The command is the user's program and stays in our process group, so the terminal's
    // Ctrl-C reaches it directly; a signal sent to us alone is passed on. Either way it decides
    // how to stop, and we stay to mask what it prints on the way out.
    forward_signals_to(child.id());
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    fn pump(
        mut from: impl Read,
        mut to: impl Write,
        mut filter: impl FnMut(&[u8], bool) -> Vec<u8>,
    ) {
        let mut buf = Zeroizing::new([0u8; 8192]);
        loop {
            match from.read(&mut buf[..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let masked = filter(&buf[..n], false);
                    if to.write_all(&masked).and_then(|_| to.flush()).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.write_all(&filter(&[], true));
        let _ = to.flush();
    }
    std::thread::scope(|scope| {
        scope.spawn(|| pump(out, std::io::stdout(), filter_out));
        scope.spawn(|| pump(err, std::io::stderr(), filter_err));
    });
    let status = child.wait();
    forward_signals_to(0);
    let status = status?;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => Exit::Code(c),
        (None, Some(s)) => Exit::Signal(s),
        (None, None) => Exit::Code(1),
    })
}

/// The core-file limit we started with, restored for the program `run` execs (it is the user's
/// program, and a crash of it is theirs to debug).
static CORE_LIMIT_AT_START: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// First thing in `main`: a crash must not write our memory, which holds secret values, to disk.
/// Any panic is an abort (`panic = "abort"`), and systemd-coredump or apport would store the
/// heap. The core size limit goes to 0 (inherited by store CLIs too, which hold values in turn),
/// and on Linux the process is marked not dumpable, which also stops other processes of the user
/// from attaching a debugger or reading `/proc/PID/mem`.
pub fn harden_against_core_dumps() {
    // SAFETY: getrlimit/setrlimit/prctl take plain values and pointers to our own locals.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
            let _ = CORE_LIMIT_AT_START.set(limit);
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: limit.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Linux's cap on one environment string, `NAME=value` with its NUL (`MAX_ARG_STRLEN`, 32 pages):
/// past it `execve` fails with E2BIG, so a shell holding such a variable can start no program.
pub const MAX_ENV_STRING: usize = 32 * 4096;

/// Why an environment with `additions` (name, value) could not be handed to a program.
#[derive(Debug, PartialEq, Eq)]
pub enum EnvironmentTooLarge {
    /// One `NAME=value` over [`MAX_ENV_STRING`].
    One { name: String, bytes: usize },
    /// The whole environment, with the additions, over `ARG_MAX`.
    Whole { bytes: usize, limit: usize },
}

impl EnvironmentTooLarge {
    /// The error line, with `fix` (what the caller can do instead).
    pub fn explain(&self, fix: &str) -> String {
        match self {
            EnvironmentTooLarge::One { name, bytes } => format!(
                "{name} is {bytes} bytes as `{name}=value`: over the {MAX_ENV_STRING}-byte limit for one environment variable (Linux's MAX_ARG_STRLEN), so every program started with it would fail with \"Argument list too long\"\n  fix: {fix}"
            ),
            EnvironmentTooLarge::Whole { bytes, limit } => format!(
                "the environment with these secrets would be {bytes} bytes, over the system's {limit}-byte limit for a program's arguments and environment (ARG_MAX), so every program started with it would fail with \"Argument list too long\"\n  fix: {fix}"
            ),
        }
    }
}

/// Would our environment with `additions` added (replacing variables of the same name) still
/// start a program? Checked before a snippet is printed or a program is exec'd.
pub fn environment_fits(additions: &[(&str, &[u8])]) -> Result<(), EnvironmentTooLarge> {
    let entry = |name: usize, value: usize| name + 1 + value + 1;
    if cfg!(target_os = "linux") {
        if let Some((name, value)) = additions
            .iter()
            .find(|(n, v)| entry(n.len(), v.len()) > MAX_ENV_STRING)
        {
            return Err(EnvironmentTooLarge::One {
                name: name.to_string(),
                bytes: entry(name.len(), value.len()) - 1,
            });
        }
    }
    let pointer = std::mem::size_of::<usize>();
    let mut bytes: usize = additions
        .iter()
        .map(|(n, v)| entry(n.len(), v.len()) + pointer)
        .sum();
    for (k, v) in std::env::vars_os() {
        if !additions.iter().any(|(n, _)| k == *n) {
            bytes += entry(k.len(), v.len()) + pointer;
        }
    }
    // SAFETY: sysconf takes a plain value.
    let limit = unsafe { libc::sysconf(libc::_SC_ARG_MAX) };
    match usize::try_from(limit) {
        Ok(limit) if limit > 0 && bytes > limit => Err(EnvironmentTooLarge::Whole { bytes, limit }),
        _ => Ok(()),
    }
}

/// Replaces this process with `argv[0]`, adding `env` to its environment (for `run`). Returns
/// only on failure.
pub fn exec_replacing(argv: &[OsString], env: &[(String, &[u8])]) -> std::io::Error {
    exec_program(None, argv, env)
}

/// [`exec_replacing`] of the program at `path`, with `argv` as given (`argv[0]` the name it was
/// started by: a scoped command's proxy starts the real `gh` as `gh`).
pub fn exec_replacing_as(
    path: &Path,
    argv: &[OsString],
    env: &[(String, &[u8])],
) -> std::io::Error {
    exec_program(Some(path), argv, env)
}

fn exec_program(path: Option<&Path>, argv: &[OsString], env: &[(String, &[u8])]) -> std::io::Error {
    let Some((program, args)) = argv.split_first() else {
        return std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given");
    };
    settle_before_exec();
    let block = EnvBlock::new(env);
    let target = match Exec::new(path, program, args, &block) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if let Some(limit) = CORE_LIMIT_AT_START.get() {
        // SAFETY: restores the limit read at start; a failure leaves it at 0, which is safe.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, limit);
        }
    }
    let (path, argv_ptrs, envp) = target.raw();
    // SAFETY: NUL-terminated arrays of NUL-terminated strings, alive until execve returns.
    unsafe {
        libc::execve(
            path as *const libc::c_char,
            argv_ptrs as *const *const libc::c_char,
            envp as *const *const libc::c_char,
        );
    }
    std::io::Error::last_os_error()
}

/// The environment for a program started with secret values in it: every `NAME=value` entry in
/// a buffer that is wiped when dropped, with the NULL-terminated pointer array `execve` takes.
/// (The standard library's `Command::env` keeps its own copies and frees them unwiped.)
pub struct EnvBlock {
    entries: Vec<Zeroizing<Vec<u8>>>,
    pointers: Vec<usize>,
}

impl EnvBlock {
    /// Our environment with `additions` set (replacing variables of the same name).
    pub fn new(additions: &[(String, &[u8])]) -> EnvBlock {
        use std::os::unix::ffi::OsStrExt;
        let mut entries = Vec::new();
        let entry = |name: &[u8], value: &[u8]| {
            // Sized exactly: it never grows, so no unwiped copy is left by a reallocation.
            let mut e = Zeroizing::new(Vec::with_capacity(name.len() + value.len() + 2));
            e.extend_from_slice(name);
            e.push(b'=');
            e.extend_from_slice(value);
            e.push(0);
            e
        };
        for (name, value) in std::env::vars_os() {
            let name = name.as_bytes();
            if name.contains(&0) || additions.iter().any(|(n, _)| n.as_bytes() == name) {
                continue;
            }
            entries.push(entry(name, value.as_bytes()));
        }
        for (name, value) in additions {
            entries.push(entry(name.as_bytes(), value));
        }
        let pointers = entries
            .iter()
            .map(|e| e.as_ptr() as usize)
            .chain([0])
            .collect();
        EnvBlock { entries, pointers }
    }

    /// The value `name` will have in the program's environment.
    fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.entries.iter().find_map(|e| {
            e.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(b"="))
                .map(|v| &v[..v.len() - 1])
        })
    }
}

/// What `execve` needs, built before any fork: the program's path (searched in the new
/// environment's PATH, as a shell would), argv, and the environment block's pointers.
struct Exec {
    path: std::ffi::CString,
    args: Vec<std::ffi::CString>,
    argv: Vec<usize>,
    envp: usize,
}

impl Exec {
    fn new(
        path: Option<&Path>,
        program: &OsString,
        args: &[OsString],
        env: &EnvBlock,
    ) -> std::io::Result<Exec> {
        use std::os::unix::ffi::OsStrExt;
        let c = |s: &std::ffi::OsStr| {
            std::ffi::CString::new(s.as_bytes()).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a NUL byte in an argument",
                )
            })
        };
        let path = if let Some(path) = path {
            c(path.as_os_str())?
        } else if program.as_bytes().contains(&b'/') {
            c(program)?
        } else {
            let search = env.get(b"PATH").unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
            let found = search
                .split(|&b| b == b':')
                .map(|dir| {
                    let dir = if dir.is_empty() { &b"."[..] } else { dir };
                    Path::new(std::ffi::OsStr::from_bytes(dir)).join(program)
                })
                .find(|p| {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::metadata(p)
                        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                })
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            c(found.as_os_str())?
        };
        let args: Vec<std::ffi::CString> = std::iter::once(program)
            .chain(args)
            .map(|a| c(a))
            .collect::<Result<_, _>>()?;
        let argv = args
            .iter()
            .map(|a| a.as_ptr() as usize)
            .chain([0])
            .collect();
        Ok(Exec {
            path,
            args,
            argv,
            envp: env.pointers.as_ptr() as usize,
        })
    }

    /// Addresses (as integers, so a pre-exec closure may carry them) of the path, argv and envp.
    fn raw(&self) -> (usize, usize, usize) {
        debug_assert_eq!(self.argv.len(), self.args.len() + 1);
        (
            self.path.as_ptr() as usize,
            self.argv.as_ptr() as usize,
            self.envp,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Result<Output, ProcessError> {
        run(Child::new("/bin/sh", Duration::from_millis(timeout_ms))
            .arg("-c")
            .arg(script))
    }

    #[test]
    fn captures_stdout_stderr_and_status() {
        let out = sh("printf 'v\\n'; printf e >&2; exit 3", 5000).unwrap();
        assert_eq!(out.stdout.expose(), b"v\n");
        assert_eq!(out.exit, Exit::Code(3));
        assert_eq!(out.stderr.scrubbed(&Default::default()), "e");
    }

    #[test]
    fn feeds_stdin_without_argv() {
        let out = run(Child::new("/bin/cat", Duration::from_secs(5)).stdin(b"from-stdin")).unwrap();
        assert_eq!(out.stdout.expose(), b"from-stdin");
    }

    #[test]
    fn missing_program_is_not_installed() {
        let e = run(Child::new(
            "/nonexistent/jit-nothing",
            Duration::from_secs(5),
        ))
        .err()
        .unwrap();
        assert!(matches!(e, ProcessError::NotInstalled { .. }), "{e}");
    }

    /// Is a process whose command line is exactly `args` running?
    fn running(args: &str) -> bool {
        let ps = std::process::Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&ps.stdout)
            .lines()
            .any(|l| l.trim() == args)
    }

    fn poll(what: impl Fn() -> bool) -> bool {
        for _ in 0..200 {
            if what() {
                return true;
            }
            thread::sleep(Duration::from_millis(25));
        }
        false
    }

    #[test]
    fn timeout_kills_the_whole_group_including_grandchildren() {
        // A `sleep` with a duration no other test uses is the marker: it is the grandchild, and
        // it holds stdout open, so only a group kill ends the read.
        let marker = format!("sleep 4{}.{}", std::process::id() % 1000, 17);
        let script = format!("{marker} & wait");
        let handle = thread::spawn(move || sh(&script, 1500));
        assert!(
            poll(|| running(&marker)),
            "the marker grandchild never started: the test could not fail"
        );
        let e = handle.join().unwrap().err().unwrap();
        assert!(matches!(e, ProcessError::TimedOut { .. }), "{e}");
        assert!(
            poll(|| !running(&marker)),
            "the grandchild survived the timeout"
        );
    }

    #[test]
    fn output_is_capped_and_the_child_killed_at_the_cap() {
        // `yes` never ends on its own: only stopping at the cap ends this call before its
        // 60 s deadline, and a timeout would be reported as TimedOut.
        let child = Child {
            max_stdout: 1000,
            ..Child::new("/bin/sh", Duration::from_secs(60))
        }
        .arg("-c")
        .arg("yes");
        let e = run(child).err().unwrap();
        assert!(matches!(e, ProcessError::OutputTooLarge { .. }), "{e}");
    }

    #[test]
    fn signal_death_is_reported() {
        let out = sh("kill -9 $$", 5000).unwrap();
        assert_eq!(out.exit, Exit::Signal(9));
    }
}
