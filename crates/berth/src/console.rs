//! `berth run` of a `terminal` container without `--console-socket`:
//! berth receives the pty master itself and connects it to its own
//! stdin/stdout, as runc does, with its terminal in raw mode meanwhile.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::Context;
use berth_linux::tty;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};

/// The two ends of the console socket: berth keeps the first, init gets
/// the second.
pub fn pair() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (ours, theirs) = UnixStream::pair().context("console socketpair")?;
    Ok((ours.into(), theirs.into()))
}

/// Waits for init's pty master on `ours`, sizes it like our terminal and
/// clears `ONLCR`, so that the container's `\n` reaches our stdout as `\n`
/// (runc's `run` does the same; a `--console-socket` receiver gets the
/// pty as the kernel made it, as from runc).
pub fn receive_master(ours: &OwnedFd) -> anyhow::Result<OwnedFd> {
    let master = tty::recv_fd(ours.as_fd())?;
    tty::clear_onlcr(&master)?;
    if let Some((rows, cols)) = tty::get_size(std::io::stdin()) {
        tty::set_size(&master, rows, cols)?;
    }
    Ok(master)
}

/// Copies stdin to the pty and the pty to stdout until the container's
/// side of the pty is closed (its processes have exited).
pub fn proxy(master: &OwnedFd) -> anyhow::Result<()> {
    let _raw = RawMode::enter(std::io::stdin().as_fd());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut stdin_open = true;
    let mut buf = [0u8; 8192];
    loop {
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            other => other.context("poll the console")?,
        };
        let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
        let (master_ready, stdin_ready) = (ready(&fds[0]), fds.get(1).is_some_and(ready));
        if master_ready && !copy(master.as_fd(), stdout.as_fd(), &mut buf)? {
            return Ok(());
        }
        if stdin_ready && !copy(stdin.as_fd(), master.as_fd(), &mut buf)? {
            stdin_open = false;
        }
    }
}

/// One read and the matching writes; false at end of input (EIO is how
/// a pty master says its last slave fd was closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>, buf: &mut [u8]) -> anyhow::Result<bool> {
    let n = match nix::unistd::read(from, buf) {
        Ok(0) | Err(Errno::EIO) => return Ok(false),
        Err(Errno::EINTR | Errno::EAGAIN) => return Ok(true),
        other => other.context("read console")?,
    };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match nix::unistd::write(to, rest) {
            Ok(w) => rest = &rest[w..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e).context("write console"),
        }
    }
    Ok(true)
}

/// Our terminal in raw mode, restored on drop (nothing when stdin is not a
/// terminal).
struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    fn enter(fd: BorrowedFd<'_>) -> Self {
        let Ok(saved) = tcgetattr(fd) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        let saved = tcsetattr(fd, SetArg::TCSANOW, &raw).ok().map(|()| saved);
        RawMode { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}
