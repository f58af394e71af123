//! `berth start ID`.

use std::os::fd::AsFd;

use anyhow::{bail, Context};
use berth_spec::state::Status;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

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
    tracing::debug!(id = locked.id(), "started");
    Ok(())
}
