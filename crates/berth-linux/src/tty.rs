//! `process.terminal`: a pty made inside the container, its master handed
//! over a unix socket (`--console-socket`), its slave made the process's
//! controlling terminal and stdio.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use crate::error::{Op, SysError, SysResult};

/// A new pty: the master and the slave's path (`/dev/pts/N`).
#[derive(Debug)]
pub struct Pty {
    /// The master side, for the console socket.
    pub master: OwnedFd,
    /// The slave side, from the master (`TIOCGPTPEER`).
    pub slave: OwnedFd,
    /// Its name (`/dev/pts/N`) for the console socket; never opened by path.
    pub slave_path: PathBuf,
}

/// Opens a pty from `/dev/ptmx` (the container's, after pivot_root).
pub fn open_pty() -> SysResult<Pty> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let master = posix_openpt(flags).op_at("open", Path::new("/dev/ptmx"))?;
    grantpt(&master).op("grantpt")?;
    unlockpt(&master).op("unlockpt")?;
    let slave_path = PathBuf::from(ptsname_r(&master).op("ptsname")?);
    // The slave from the master itself (TIOCGPTPEER), not by the path,
    // which the container's /dev/pts may point anywhere (CVE-2025-52565).
    // SAFETY: ioctl(2) on the master fd we own, with open flags as its
    // argument; it returns a new fd or -1 and writes no memory of ours.
    let peer = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as libc::c_ulong,
        )
    };
    if peer < 0 {
        return Err(SysError::at(
            "TIOCGPTPEER",
            &slave_path,
            nix::errno::Errno::last(),
        ));
    }
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    let slave = unsafe { OwnedFd::from_raw_fd(peer) };
    // SAFETY: into_raw_fd hands us sole ownership of the master fd.
    let master = unsafe { OwnedFd::from_raw_fd(master.into_raw_fd()) };
    Ok(Pty {
        master,
        slave,
        slave_path,
    })
}

/// Clears `ONLCR` on the terminal at `fd`, so that `\n` written by the
/// container reaches the reader as `\n`, not `\r\n` (runc does the same).
pub fn clear_onlcr(fd: impl AsFd) -> SysResult<()> {
    use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};
    let mut attrs = tcgetattr(fd.as_fd()).op("tcgetattr")?;
    attrs.output_flags.remove(OutputFlags::ONLCR);
    tcsetattr(fd.as_fd(), SetArg::TCSANOW, &attrs).op("tcsetattr")
}

/// Sets the window size of the terminal at `fd`.
pub fn set_size(fd: impl AsFd, rows: u16, cols: u16) -> SysResult<()> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own from an open tty fd.
    if unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(SysError::new("ioctl TIOCSWINSZ", nix::errno::Errno::last()));
    }
    Ok(())
}

/// Sends `fd` over the unix socket `sock` with SCM_RIGHTS; the payload is
/// the pty's name, as runc sends it.
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>, name: &str) -> SysResult<()> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None).op("send console fd")?;
    Ok(())
}

/// Makes `slave` the controlling terminal of a new session and stdio.
pub fn make_controlling(slave: &OwnedFd) -> SysResult<()> {
    nix::unistd::setsid().op("setsid")?;
    // SAFETY: TIOCSCTTY takes an int argument (0: do not steal) on an open tty.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(SysError::new("ioctl TIOCSCTTY", nix::errno::Errno::last()));
    }
    for target in 0..=2 {
        // SAFETY: dup2 onto the stdio numbers; both fds are valid and the
        // old stdio fds are deliberately replaced.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(SysError::new("dup2 pty", nix::errno::Errno::last()));
        }
    }
    Ok(())
}

/// The window size (rows, columns) of the terminal at `fd`, if it is one.
pub fn get_size(fd: impl AsFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own; a non-tty
    // fd fails with ENOTTY and leaves it untouched.
    let ret = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (ret == 0).then_some((ws.ws_row, ws.ws_col))
}

/// Receives one fd sent with SCM_RIGHTS over the unix socket `sock`.
pub fn recv_fd(sock: BorrowedFd<'_>) -> SysResult<OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned};
    let mut buf = [0u8; 4096];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .op("receive console fd")?;
    for cmsg in msg.cmsgs().op("receive console fd")? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel installed this fd in our table for us
                // (SCM_RIGHTS); nothing else owns it.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Err(SysError::new(
        "receive console fd: no fd in message",
        nix::errno::Errno::EBADMSG,
    ))
}
