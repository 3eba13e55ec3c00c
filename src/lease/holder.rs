//! Which process receives an activation's leases: the shell that evaluates our output.
//!
//! Our parent is that shell when it runs `eval "$(jit-secrets activate)"` plainly. Wrapped — a
//! redirection inside the substitution (`$(jit-secrets activate 2>/dev/null)`), `source <(…)`,
//! `… | tee`, a substitution inside a function — the shell first forks a subshell, and that
//! subshell starts us: it exits a moment later, and a lease held by it would be revoked under
//! the shell that keeps its credentials. So we walk up from our parent through such forks.
//!
//! A forked subshell is the same program as its shell (same executable, same command line) and,
//! having never exec'd, has its shell's memory layout: code, stack, arguments and environment at
//! the same addresses (`/proc/PID/stat` fields 26–28, 48, 50). A shell the user started from
//! another (`bash` typed in bash) exec'd: the kernel placed it anew, at randomized addresses.
//! Where that cannot be told apart — the layout is unreadable, or address-space randomization is
//! off (`/proc/sys/kernel/randomize_va_space` = 0) — the caller is told why, and the lease is
//! left to expire instead of being revoked on exit.

/// The evaluating shell, walking up from `pid` (our parent): `Err` says why it cannot be told.
pub fn evaluating_shell(pid: u32) -> Result<u32, String> {
    let mut pid = pid;
    // A handful of nested subshells at most; past that, stop where we are.
    for _ in 0..16 {
        let Some(parent) = field(pid, 4).and_then(|p| p.parse::<u32>().ok()) else {
            return Ok(pid);
        };
        if parent <= 1 {
            return Ok(pid);
        }
        if is_fork_of(pid, parent)? {
            pid = parent;
        } else {
            return Ok(pid);
        }
    }
    Ok(pid)
}

/// Is `child` a fork of `parent` that has not exec'd (see the module)?
fn is_fork_of(child: u32, parent: u32) -> Result<bool, String> {
    let exe = |pid: u32| std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let cmdline = |pid: u32| std::fs::read(format!("/proc/{pid}/cmdline")).ok();
    match (exe(child), exe(parent)) {
        (Some(a), Some(b)) if a == b => {}
        (Some(_), Some(_)) => return Ok(false),
        _ => {
            return Err(format!(
                "cannot read which program process {child} or its parent runs"
            ))
        }
    }
    if cmdline(child) != cmdline(parent) {
        return Ok(false);
    }
    let (Some(a), Some(b)) = (layout(child), layout(parent)) else {
        return Err(format!(
            "process {child} runs the same program as its parent {parent}, and their memory layout cannot be read to tell a forked subshell from a shell of its own"
        ));
    };
    if a != b {
        return Ok(false);
    }
    let randomized = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space")
        .is_ok_and(|v| v.trim() != "0");
    if !randomized {
        return Err(format!(
            "process {child} may be a subshell of {parent} or a shell of its own: with address-space randomization off they look alike"
        ));
    }
    Ok(true)
}

/// Where the kernel placed `pid`'s code, stack, arguments and environment (`None`: unreadable,
/// the kernel shows zeros to whoever may not trace it).
fn layout(pid: u32) -> Option<[u64; 5]> {
    let mut out = [0u64; 5];
    for (slot, n) in out.iter_mut().zip([26, 27, 28, 48, 50]) {
        *slot = field(pid, n)?.parse().ok()?;
    }
    (out.iter().any(|v| *v != 0)).then_some(out)
}

/// Field `n` (1-based, as proc(5) numbers them) of `/proc/PID/stat`. The command name may hold
/// spaces and parentheses, so fields are counted after its last `)`.
fn field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(n.checked_sub(3)?).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_is_a_fork_and_an_execd_one_is_not() {
        let me = std::process::id();
        // SAFETY: fork in a test; the child only sleeps (async-signal-safe) and exits.
        let child = unsafe { libc::fork() };
        if child == 0 {
            unsafe {
                libc::sleep(5);
                libc::_exit(0);
            }
        }
        let forked = is_fork_of(child as u32, me);
        let forked_walk = evaluating_shell(child as u32);
        // SAFETY: our own child.
        unsafe {
            libc::kill(child, libc::SIGKILL);
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        assert_eq!(forked, Ok(true));
        assert!(
            forked_walk.is_ok_and(|p| p != child as u32),
            "walked up past the fork"
        );

        // Another program: not a fork, whatever its layout.
        let mut other = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut told = Ok(true);
        for _ in 0..2000 {
            told = is_fork_of(other.id(), me);
            if told != Ok(true) {
                break;
            }
            // Not exec'd yet: still a fork of ours for a moment.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = other.kill();
        let _ = other.wait();
        assert_eq!(told, Ok(false));
        assert_eq!(
            field(me, 4).unwrap().parse::<u32>().unwrap(),
            std::os::unix::process::parent_id()
        );
    }
}
