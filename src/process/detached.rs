//! Long-lived helpers of ours (the lease keeper): this binary re-executed, detached from the
//! command that started it.
//!
//! It is never our child once started: its first process forks it and exits (reaped here before
//! we return, so `run`'s program inherits no child of ours), and the fork calls `setsid`, so the
//! terminal's hang-up and `kill -9 -PGID` of the shell's job do not reach it. Its stdin, stdout
//! and stderr are `/dev/null` — it must never hold the pipe of `eval "$(jit-secrets activate)"`,
//! or the shell would wait for it — it closes every other descriptor it inherited, and it runs
//! in `/`, so it pins no directory.

/// Starts `current_exe ARGS…` detached (see the module), with exactly the environment `env`
/// (nothing of ours is inherited). Errors are returned for the caller to mention; nothing is
/// retried.
pub fn start_detached(
    args: &[&str],
    env: &[(std::ffi::OsString, std::ffi::OsString)],
) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    let mut first = std::process::Command::new(exe)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .current_dir("/")
        .spawn()?;
    first.wait()?;
    Ok(())
}

/// The first thing a detached helper does: fork (the parent exits), `setsid`, close inherited
/// descriptors, ignore the signals a terminal sends, take `name`.
pub fn become_detached(name: &std::ffi::CStr) {
    fork_into_new_session();
    // SAFETY: plain values: ignored signals, a descriptor range, the thread's name.
    unsafe {
        for s in [libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
            libc::signal(s, libc::SIG_IGN);
        }
        #[cfg(target_os = "linux")]
        {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = name;
    }
}

/// Forks; the parent exits at once and the child leads a session of its own (so nothing that
/// reaches our process group or terminal reaches it). Called first thing, while the process has
/// one thread. If the fork fails, this process carries on as the helper itself.
pub(super) fn fork_into_new_session() {
    // SAFETY: fork in a single-threaded process; the parent only exits.
    unsafe {
        match libc::fork() {
            0 => {
                libc::setsid();
            }
            -1 => {}
            _ => libc::_exit(0),
        }
    }
}
