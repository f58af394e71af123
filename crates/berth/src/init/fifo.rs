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

/// After `start` released init and a later step failed: `E` and the error
/// into the exec fifo, for a `start` that waits (`commands::start`). Short
/// enough never to fill the pipe, so it cannot block.
pub fn report_to_start(ctx: &InitContext<'_>, err: &anyhow::Error) {
    let (_, writer) = ctx.fifo;
    let mut msg = format!("E{err:#}").into_bytes();
    msg.truncate(4000);
    let _ = nix::unistd::write(writer.as_fd(), &msg);
}
