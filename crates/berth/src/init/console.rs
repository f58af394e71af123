//! `process.terminal`: the pty, `/dev/console`, and the master sent to the
//! console socket.

use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;
use berth_linux::mount::{detached, Create, RootDir};
use berth_linux::tty;

use super::InitContext;

/// Makes a pty in the container's devpts, binds its slave over
/// `/dev/console`, sends the master to the console socket and makes the
/// slave the controlling terminal and stdio.
pub fn setup(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let process = &ctx.plan.process;
    if !process.terminal {
        return Ok(());
    }
    let socket = ctx.console.context("process.terminal: no console socket")?;
    let pty = tty::open_pty().context("process.terminal")?;
    if let Some((rows, cols)) = process.console_size {
        tty::set_size(&pty.master, rows, cols).context("process.consoleSize")?;
    }
    // Bound from the slave's fd, not its path: the container's /dev/pts
    // could point that path anywhere (CVE-2025-52565).
    let console = Path::new("/dev/console");
    let root = RootDir::open(Path::new("/"))?;
    let tree = detached::clone_fd(pty.slave.as_fd(), &pty.slave_path)?;
    let target = root.resolve(console, Create::File)?;
    detached::attach(tree.as_fd(), target.as_fd(), console)?;
    let name = pty.slave_path.to_string_lossy();
    tty::send_fd(socket.as_fd(), pty.master.as_fd(), &name).context("--console-socket")?;
    drop(pty.master);
    tty::make_controlling(&pty.slave)?;
    Ok(())
}
