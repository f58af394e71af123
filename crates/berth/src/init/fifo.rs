//! Waiting for `berth start` on the exec fifo.

use std::os::fd::AsFd;

use anyhow::Context;
use nix::fcntl::{fcntl, FcntlArg, OFlag};

use super::InitContext;

/// Blocks until `berth start` writes to the exec fifo. init holds both ends
/// (the write end keeps a blocking read from seeing EOF), so `start` never
/// blocks and knows init is gone when its non-blocking open finds no reader.
pub fn wait_for_start(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let (reader, _writer) = ctx.fifo;
    fcntl(reader.as_fd(), FcntlArg::F_SETFL(OFlag::empty())).context("exec fifo")?;
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(reader.as_fd(), &mut byte) {
            Ok(1) => return Ok(()),
            Ok(_) => anyhow::bail!("exec fifo closed without a start"),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("read exec fifo"),
        }
    }
}
