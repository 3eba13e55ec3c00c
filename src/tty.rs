//! Asking a person, on the controlling terminal (/dev/tty), with echo off. Used where stdin and
//! stdout may be pipes (`eval "$(jit-secrets activate)"`) but a person is still there.

use std::io::{Read, Write};
use zeroize::Zeroizing;

/// Is there a terminal to ask on?
pub fn available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Reads one line from /dev/tty with echo turned off; the newline is not included. Ctrl-D
/// (end of input) reads as an empty line: use [`prompt_hidden_or_end`] to tell them apart.
pub fn prompt_hidden(prompt: &str) -> std::io::Result<Zeroizing<Vec<u8>>> {
    Ok(prompt_hidden_or_end(prompt)?.unwrap_or_default())
}

/// Like [`prompt_hidden`], but `None` when the person ends the input (Ctrl-D) instead of
/// answering.
pub fn prompt_hidden_or_end(prompt: &str) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    use std::os::fd::AsRawFd;
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; the saved state is restored before returning.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        // Ctrl-C or a closed terminal while echo is off: the signal thread restores it.
        crate::process::restore_terminal_on_interrupt(fd, saved);
        libc::tcsetattr(fd, libc::TCSANOW, &t);
        saved
    };
    let result = (|| {
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        let mut line = Zeroizing::new(Vec::with_capacity(4096));
        let mut byte = [0u8; 1];
        loop {
            match tty.read(&mut byte)? {
                0 if line.is_empty() => return Ok(None),
                0 => break,
                _ if byte[0] == b'\n' => break,
                _ => crate::secret::extend_wiping(&mut line, &byte),
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    })();
    // SAFETY: restores the state read above on the same descriptor.
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
    }
    crate::process::terminal_restored();
    result
}
