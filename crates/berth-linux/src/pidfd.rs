//! pidfds: signalling and waiting for a process without racing pid reuse.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

use crate::error::{SysError, SysResult};

/// `pidfd_open(2)`.
pub fn open(pid: Pid) -> SysResult<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags (0) and returns a new fd or -1.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0u32) };
    if ret < 0 {
        return Err(SysError::new("pidfd_open", Errno::last()));
    }
    let fd = i32::try_from(ret).map_err(|_| SysError::new("pidfd_open", Errno::EBADF))?;
    // SAFETY: the kernel just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `pidfd_send_signal(2)`: send signal number `signal` (realtime signals
/// included) to the process the pidfd refers to.
pub fn send_signal(pidfd: impl AsFd, signal: i32) -> SysResult<()> {
    let fd = pidfd.as_fd().as_raw_fd();
    // SAFETY: plain syscall on a borrowed, open fd; info is NULL, flags 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd,
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if ret < 0 {
        return Err(SysError::new("pidfd_send_signal", Errno::last()));
    }
    Ok(())
}

/// Blocks until the process has exited (a pidfd polls readable then).
pub fn wait_exit(pidfd: impl AsFd) -> SysResult<()> {
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(SysError::new("poll pidfd", errno)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_zero_reaches_ourselves() {
        let fd = open(Pid::this()).expect("pidfd_open");
        // Signal 0 checks the target exists without disturbing it.
        send_signal(&fd, 0).expect("send");
    }
}
