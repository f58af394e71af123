//! File descriptors: none of the runtime's may reach the container.

use std::os::fd::{BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::stat::fstat;
use nix::unistd::{fchown, Gid, Uid};

use crate::error::{Op, SysError, SysResult};

/// `CLOSE_RANGE_CLOEXEC` (linux/close_range.h).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 4;

/// Marks every fd from `first` up close-on-exec, so that exec closes all
/// of them. Everything berth opens is already O_CLOEXEC; this also covers
/// fds inherited from whoever ran berth (CVE-2024-21626).
pub fn cloexec_from(first: RawFd) -> SysResult<()> {
    let first =
        libc::c_uint::try_from(first).map_err(|_| SysError::new("close_range", Errno::EINVAL))?;
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only sets a flag on
    // fds; it closes nothing and touches no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret == 0 {
        return Ok(());
    }
    // ENOSYS/EINVAL: Linux < 5.11; EPERM: a seccomp profile older than
    // close_range that returns errors for unknown syscalls. Walk
    // /proc/self/fd instead.
    if !matches!(Errno::last(), Errno::ENOSYS | Errno::EINVAL | Errno::EPERM) {
        return Err(SysError::new("close_range", Errno::last()));
    }
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .op("read /proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &RawFd| libc::c_uint::try_from(fd).is_ok_and(|fd| fd >= first))
        .collect();
    for fd in fds {
        // SAFETY: the fd is only borrowed for the fcntl below; EBADF (the
        // directory fd of read_dir, already closed) is ignored.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        match fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)) {
            Ok(_) | Err(Errno::EBADF) => {}
            Err(errno) => return Err(SysError::new("fcntl FD_CLOEXEC", errno)),
        }
    }
    Ok(())
}

/// Gives stdin/stdout/stderr to the container user when they are owned by
/// someone else, so the process can reopen `/dev/stdout` (runc
/// `fixStdioPermissions`). `/dev/null` is left alone, and so are fds the
/// kernel will not let us chown (from another user namespace, or a
/// read-only filesystem).
pub fn give_stdio_to(uid: u32, gid: u32) -> SysResult<()> {
    let null = nix::sys::stat::stat("/dev/null").ok().map(|st| st.st_rdev);
    for fd in 0..=2 {
        // SAFETY: stdio fds are borrowed only for fstat/fchown; a closed one
        // gives EBADF, which is skipped.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let Ok(st) = fstat(borrowed) else { continue };
        if Some(st.st_rdev) == null && st.st_rdev != 0 || st.st_uid == uid {
            continue;
        }
        match fchown(borrowed, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))) {
            Ok(()) | Err(Errno::EINVAL | Errno::EPERM | Errno::EROFS) => {}
            Err(errno) => return Err(SysError::new("fchown stdio", errno)),
        }
    }
    Ok(())
}

/// Closes every fd from `first` up (`close_range(2)`): fds inherited from
/// whoever ran berth must not reach the container, not even while init
/// resolves its cwd and program, which close-on-exec does not cover
/// (CVE-2024-21626: `/proc/self/fd/N/..` through a leaked directory fd).
pub fn close_from(first: RawFd) -> SysResult<()> {
    let first =
        libc::c_uint::try_from(first).map_err(|_| SysError::new("close_range", Errno::EINVAL))?;
    // SAFETY: close_range(2) closes fds by number and touches no memory;
    // the caller owns nothing at or above `first` that it uses afterwards.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
    if ret == 0 {
        return Ok(());
    }
    if !matches!(Errno::last(), Errno::ENOSYS | Errno::EPERM) {
        return Err(SysError::new("close_range", Errno::last()));
    }
    // Linux < 5.9 or a seccomp profile that refuses close_range.
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .op("read /proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &RawFd| libc::c_uint::try_from(fd).is_ok_and(|fd| fd >= first))
        .collect();
    for fd in fds {
        // SAFETY: closing a number we do not own is harmless here: nothing
        // of ours lives at or above `first` (see above); EBADF is ignored.
        unsafe { libc::close(fd) };
    }
    Ok(())
}
