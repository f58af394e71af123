//! The fds init inherits from `create`: it keeps only what it uses.
//!
//! init is a clone, not an exec, so it starts with every fd berth had: the
//! caller's pipes and extra fds, the state directory's lock, berth's copy
//! of its stderr. Held until `start`, they would keep `out=$(berth create
//! --console-socket S id)` from ever seeing EOF. Everything from
//! `3 + --preserve-fds` up is closed except the exec fifo, the sync socket,
//! the console socket, namespaces to join, bind sources opened before the
//! user namespace, and the log writer (pointed at `/dev/null` when it is a
//! copy of the caller's stderr and the container has a terminal of its
//! own).

use std::os::fd::{AsRawFd, RawFd};

use anyhow::Context;
use berth_linux::fd;

use super::InitContext;

/// Closes what init does not need; see the module docs.
pub fn close_inherited(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let mut keep: Vec<RawFd> = vec![
        ctx.chan.fd().as_raw_fd(),
        ctx.fifo.0.as_raw_fd(),
        ctx.fifo.1.as_raw_fd(),
    ];
    keep.extend(ctx.console.map(AsRawFd::as_raw_fd));
    keep.extend(ctx.joins.iter().map(|(_, f)| f.as_raw_fd()));
    keep.extend(ctx.bind_sources.iter().flatten().map(AsRawFd::as_raw_fd));
    if let Some((writer, is_stderr)) = crate::logging::writer_fd() {
        if is_stderr && ctx.plan.process.terminal {
            fd::point_at_null(writer).context("log writer")?;
        }
        keep.push(writer);
    }
    let first = 3 + RawFd::try_from(ctx.preserve_fds).context("--preserve-fds")?;
    Ok(fd::close_from_except(first, &keep)?)
}
