//! `berth start ID`.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use anyhow::{bail, Context};
use berth_spec::state::Status;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;

use crate::commands::state::hook_state;
use crate::hooks;
use crate::state::{status, Locked, Store};

/// Starts the user process of a created container.
pub fn run(store: &Store, id: &str) -> anyhow::Result<()> {
    let locked = store.lock(id)?;
    start(&locked)
}

/// Releases init from the exec fifo of a locked, created container.
pub fn start(locked: &Locked) -> anyhow::Result<()> {
    let record = locked.record()?;
    let fifo = locked.fifo_path();
    match status::derive(&record, &fifo) {
        Status::Created => {}
        Status::Stopped => bail!("cannot start container {}: it has stopped", locked.id()),
        other => bail!(
            "cannot start container {}: it is {other}, not created",
            locked.id()
        ),
    }
    if record.no_process {
        bail!(
            "cannot start container {}: its config.json has no process (required by start)",
            locked.id()
        );
    }
    // Non-blocking: with init gone there is no reader and open fails with
    // ENXIO instead of waiting forever.
    let fd = match open(
        &fifo,
        OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Err(Errno::ENXIO) => bail!(
            "cannot start container {}: its init has exited",
            locked.id()
        ),
        other => other.with_context(|| format!("open {}", fifo.display()))?,
    };
    nix::unistd::write(fd.as_fd(), b"0").with_context(|| format!("write {}", fifo.display()))?;
    std::fs::remove_file(&fifo).with_context(|| format!("remove {}", fifo.display()))?;
    // poststart runs "after the user-specified process is executed"
    // (config.md): wait for the exec whenever there is a hook to order.
    if record.hooks.start_container || !record.hooks.poststart.is_empty() {
        wait_for_exec(fd, locked.id())?;
    }
    tracing::debug!(id = locked.id(), "started");
    let state = hook_state(&record, Status::Running, record.pid);
    hooks::run_warn("poststart", &record.hooks.poststart, &state);
    Ok(())
}

/// Waits until init has run its startContainer hooks and exec'd the
/// process, or failed and exited: either way its write end of the fifo
/// (close-on-exec) closes, and a reader of ours then sees POLLHUP. A
/// failing init first writes `E` and its error into the fifo
/// (`init::exec::report_to_start`). Our reader never reads before the
/// hang-up, so it cannot take the byte meant for init.
fn wait_for_exec(fd: OwnedFd, id: &str) -> anyhow::Result<()> {
    let reopen = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let reader = open(
        reopen.as_str(),
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context("reopen the exec fifo for reading")?;
    drop(fd);
    loop {
        // No events asked for: only POLLHUP (no writer left) wakes us.
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::empty())];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) if fds[0].revents().is_some_and(|r| !r.is_empty()) => break,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e).context("poll exec fifo"),
        }
    }
    let mut buf = [0u8; 4096];
    let n = nix::unistd::read(reader.as_fd(), &mut buf).unwrap_or(0);
    match buf[..n].strip_prefix(b"E") {
        Some(msg) => bail!(
            "cannot start container {id}: {}",
            String::from_utf8_lossy(msg)
        ),
        None => Ok(()),
    }
}
