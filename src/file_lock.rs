//! An exclusive `flock`, held until dropped: what keeps two jit-secrets edits of the same file
//! (the trust file, a manifest) from losing each other's update. Files we replace by rename are
//! locked through something that outlives the rename: a lock file beside them, or their
//! directory.

use std::os::fd::AsRawFd;
use std::path::Path;

pub struct FileLock {
    _held: std::fs::File,
}

impl FileLock {
    /// Locks the file `lock` (created if missing). Waits for the lock: the other holder is
    /// another jit-secrets edit, over in milliseconds.
    pub fn exclusive(lock: &Path) -> std::io::Result<FileLock> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock)?;
        FileLock::hold(f)
    }

    /// Locks the directory `dir` (creates nothing in it).
    pub fn exclusive_dir(dir: &Path) -> std::io::Result<FileLock> {
        FileLock::hold(std::fs::File::open(dir)?)
    }

    /// Locks the directory `dir`, waiting at most `patience` for another holder to let go.
    /// `Ok(None)`: still held by someone else after that. The second element says whether we
    /// had to wait at all.
    pub fn exclusive_dir_within(
        dir: &Path,
        patience: std::time::Duration,
    ) -> std::io::Result<(Option<FileLock>, bool)> {
        let f = std::fs::File::open(dir)?;
        let start = std::time::Instant::now();
        let mut waited = false;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok((Some(FileLock { _held: f }), waited));
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                _ => return Err(e),
            }
            waited = true;
            if start.elapsed() >= patience {
                return Ok((None, true));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn hold(f: std::fs::File) -> std::io::Result<FileLock> {
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(FileLock { _held: f });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}
