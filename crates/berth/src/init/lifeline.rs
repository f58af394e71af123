//! init dies with the `create` that started it.
//!
//! A `create` killed while init is still building the container would
//! otherwise leave an init in `creating` that nothing reaps. init asks for
//! SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), then checks the
//! parent is still there — it may have died before the request, which the
//! kernel would then never signal — by looking for a hang-up on the
//! handshake socket, whose other end only the parent holds. The request is
//! withdrawn once the parent has recorded the container as `created`
//! (`Recorded`; the parent waits for `Released` before it exits): after
//! that the container outlives `create`, as it must, and a `create` killed
//! before leaves no live init behind a record that says `creating`.

use anyhow::Context;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use crate::sync::Channel;

/// Requests SIGKILL on the parent's death, then re-checks the parent.
pub fn arm(chan: &Channel) -> anyhow::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl PR_SET_PDEATHSIG")?;
    if peer_gone(chan)? {
        // The parent died before the request could take effect.
        anyhow::bail!("berth create exited while init was starting");
    }
    Ok(())
}

/// Withdraws the request: the container now lives on its own.
pub fn release() -> anyhow::Result<()> {
    nix::sys::prctl::set_pdeathsig(None).context("prctl PR_SET_PDEATHSIG 0")
}

/// Whether the other end of the socket is closed (POLLHUP), without
/// waiting.
fn peer_gone(chan: &Channel) -> anyhow::Result<bool> {
    let mut fds = [PollFd::new(chan.fd(), PollFlags::empty())];
    poll(&mut fds, PollTimeout::ZERO).context("poll the handshake socket")?;
    Ok(fds[0]
        .revents()
        .is_some_and(|r| r.contains(PollFlags::POLLHUP)))
}
