//! File descriptors: none of the runtime's may reach the container.

use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::stat::fstat;
use nix::unistd::{fchown, Uid};

use crate::error::{Op, SysError, SysResult};

/// `CLOSE_RANGE_CLOEXEC` (linux/close_range.h).
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 4;

/// Opens `/dev/null` on each of fds 0, 1 and 2 that is closed, as Rust's
/// runtime does before `main` (berth starts without it, see its
/// `main.rs`): otherwise the next file berth opens would become its stdout
/// or stderr, and a message meant for the terminal would land in it.
pub fn open_missing_stdio() -> SysResult<()> {
    for fd in 0..3 {
        // SAFETY: F_GETFD only reads the flags of `fd`, open or not.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 || Errno::last() != Errno::EBADF {
            continue;
        }
        // SAFETY: a constant NUL-terminated path. fds below `fd` are open
        // (checked in order), so the lowest free fd, which open(2) returns,
        // is `fd` itself; the descriptor is deliberately kept.
        let got = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if got != fd {
            return Err(SysError::new("open /dev/null as stdio", Errno::last()));
        }
    }
    Ok(())
}

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

/// Closes every fd from `first` up except those in `keep`, with one
/// close_range(2) per gap. init calls it first thing, so that nothing the
/// caller of `create` had open (its stderr copy, pipes, the state lock)
/// stays held while the container waits for `start`.
pub fn close_from_except(first: RawFd, keep: &[RawFd]) -> SysResult<()> {
    gaps(first, keep)
        .into_iter()
        .try_for_each(|(from, to)| close_range(from, to))
}

/// The ranges `from..=to` of fds from `first` up that are not in `keep`;
/// the last one ends at `RawFd::MAX - 1` (meaning: all the rest).
fn gaps(first: RawFd, keep: &[RawFd]) -> Vec<(RawFd, RawFd)> {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd >= first).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut out = Vec::new();
    let mut from = first;
    for fd in keep.into_iter().chain([RawFd::MAX]) {
        if fd > from {
            out.push((from, fd - 1));
        }
        from = fd.saturating_add(1);
    }
    out
}

/// Points `fd` at `/dev/null` (write-only, close-on-exec) in place, so that
/// whatever it referred to is released while the number stays taken.
pub fn point_at_null(fd: RawFd) -> SysResult<()> {
    let null = nix::fcntl::open(
        "/dev/null",
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .op_at("open", std::path::Path::new("/dev/null"))?;
    // SAFETY: dup3 replaces `fd` (an fd the caller owns and keeps using)
    // with a copy of `null`; no memory is touched.
    let ret = unsafe { libc::dup3(std::os::fd::AsRawFd::as_raw_fd(&null), fd, libc::O_CLOEXEC) };
    if ret < 0 {
        return Err(SysError::new("dup3 /dev/null", Errno::last()));
    }
    Ok(())
}

/// close_range(2) of `first..=last`, closing them.
fn close_range(first: RawFd, last: RawFd) -> SysResult<()> {
    let to_uint = |fd: RawFd| {
        libc::c_uint::try_from(fd).map_err(|_| SysError::new("close_range", Errno::EINVAL))
    };
    let (first, last) = (to_uint(first)?, to_uint(last)?);
    let last = if last == to_uint(RawFd::MAX - 1)? {
        libc::c_uint::MAX
    } else {
        last
    };
    // SAFETY: close_range(2) closes fds of this process only; the caller
    // keeps out of the range every fd it still owns and uses.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0 as libc::c_uint) };
    if ret == 0 {
        return Ok(());
    }
    // As in cloexec_from: Linux < 5.9, or a seccomp profile without it.
    if !matches!(Errno::last(), Errno::ENOSYS | Errno::EINVAL | Errno::EPERM) {
        return Err(SysError::new("close_range", Errno::last()));
    }
    let fds: Vec<libc::c_uint> = std::fs::read_dir("/proc/self/fd")
        .op("read /proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| (first..=last).contains(fd))
        .collect();
    for fd in fds.into_iter().filter_map(|fd| RawFd::try_from(fd).ok()) {
        // SAFETY: closing an fd in the range the caller gave up; EBADF (the
        // directory fd of read_dir, already closed) is harmless.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// Gives stdin/stdout/stderr to the container user when they are owned by
/// someone else, so the process can reopen `/dev/stdout` (runc
/// `fixStdioPermissions`). Only the owner changes, as with runc: a terminal
/// keeps devpts' `gid=` group (`tty`). `/dev/null` is left alone, and so
/// are fds the kernel will not let us chown (from another user namespace,
/// or a read-only filesystem).
pub fn give_stdio_to(uid: u32) -> SysResult<()> {
    let null = nix::sys::stat::stat("/dev/null").ok().map(|st| st.st_rdev);
    for fd in 0..=2 {
        // SAFETY: stdio fds are borrowed only for fstat/fchown; a closed one
        // gives EBADF, which is skipped.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let Ok(st) = fstat(borrowed) else { continue };
        if Some(st.st_rdev) == null && st.st_rdev != 0 || st.st_uid == uid {
            continue;
        }
        // `None`: the group is not changed at all.
        match fchown(borrowed, Some(Uid::from_raw(uid)), None) {
            Ok(()) | Err(Errno::EINVAL | Errno::EPERM | Errno::EROFS) => {}
            Err(errno) => return Err(SysError::new("fchown stdio", errno)),
        }
    }
    Ok(())
}

/// Receives one datagram from the unix socket `sock` into `buf`, with the
/// fd sent alongside it (SCM_RIGHTS), if any. Returns the datagram's length
/// (0 at EOF); a datagram longer than `buf` is an error (EMSGSIZE), not
/// silently cut. Received fds are close-on-exec.
pub fn recv_with_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<(usize, Option<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut iov = [std::io::IoSliceMut::new(buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = loop {
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(Errno::EINTR) => continue,
            other => break other.op("recvmsg")?,
        }
    };
    if msg.flags.contains(MsgFlags::MSG_TRUNC) {
        return Err(SysError::new(
            "recvmsg: datagram larger than the buffer",
            Errno::EMSGSIZE,
        ));
    }
    let mut fd = None;
    for cmsg in msg.cmsgs().op("recvmsg")? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for &raw in &fds {
                // SAFETY: the kernel installed this fd in our table for us
                // (SCM_RIGHTS); nothing else owns it. Extra fds are owned
                // and dropped (closed) here.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                fd.get_or_insert(owned);
            }
        }
    }
    Ok((msg.bytes, fd))
}

/// Sends `bytes` as one datagram over the unix socket `sock`, with `fd`
/// alongside (SCM_RIGHTS).
pub fn send_with_fd(sock: BorrowedFd<'_>, bytes: &[u8], fd: BorrowedFd<'_>) -> SysResult<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [std::io::IoSlice::new(bytes)];
    loop {
        match sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop).op("sendmsg"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsFd;

    #[test]
    fn gaps_skip_the_kept_fds() {
        let all = RawFd::MAX - 1;
        assert_eq!(gaps(3, &[]), [(3, all)]);
        assert_eq!(gaps(3, &[7, 4, 2, 7, 5]), [(3, 3), (6, 6), (8, all)]);
        assert_eq!(gaps(5, &[5, 6]), [(7, all)]);
    }

    #[test]
    fn an_fd_crosses_a_socketpair_with_its_datagram() {
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .expect("socketpair");
        let file = tempfile::tempfile().expect("tempfile");
        send_with_fd(a.as_fd(), b"hello", file.as_fd()).expect("send");
        let mut buf = [0u8; 16];
        let (n, fd) = recv_with_fd(b.as_fd(), &mut buf).expect("recv");
        assert_eq!(&buf[..n], b"hello");
        let fd = fd.expect("an fd came along");
        let (ours, theirs) = (
            fstat(file.as_fd()).expect("fstat"),
            fstat(fd.as_fd()).expect("fstat"),
        );
        assert_eq!((ours.st_dev, ours.st_ino), (theirs.st_dev, theirs.st_ino));
    }
}
