//! The exec child (cloned into the container's unified cgroup) and the
//! process it clones once inside the container's namespaces.
//!
//! Like init, both run on a copy of the parent's memory; every failure is
//! sent to the parent as `Msg::Error` and ends the process.

use std::os::fd::{AsFd, RawFd};
use std::path::Path;

use anyhow::Context;
use berth_linux::clone::{self, Options};
use berth_linux::mount::{Create, RootDir};
use berth_linux::{attrs, namespace, rootfs, signals, tty};

use super::target::Target;
use crate::process::{self, ProcessContext};
use crate::sync::{self, Channel, Msg};

/// What the child works from.
#[derive(Debug)]
pub struct ChildContext<'a> {
    /// The container, opened by the parent.
    pub target: &'a Target,
    /// The process step's input.
    pub process: ProcessContext<'a>,
    /// The child's end of the channel.
    pub chan: &'a Channel,
    /// The parent's end, inherited by the clone: the child closes it
    /// first, or a parent killed before `Go` would leave it waiting forever
    /// (the read ends with EOF only when no end but the child's is open).
    pub parent_end: RawFd,
}

/// The child's entry point: waits for `Go` (cgroups joined), joins the
/// namespaces, clones the process and reports its pid.
pub fn main(ctx: &ChildContext<'_>) -> i32 {
    match run(ctx) {
        Ok(()) => 0,
        Err(err) => sync::report(ctx.chan, &err),
    }
}

fn run(ctx: &ChildContext<'_>) -> anyhow::Result<()> {
    // Until it execs, the child is berth: nothing in the container may
    // reach it through /proc (CVE-2019-5736).
    attrs::set_non_dumpable()?;
    nix::unistd::close(ctx.parent_end).context("close the parent's end of the channel")?;
    // The parent's forwarding handler is not ours (execve would reset it,
    // but a signal before then must act as usual).
    signals::restore_default(&crate::commands::run::FORWARDED)?;
    ctx.chan.expect(&Msg::Go)?;
    if let Some(score) = ctx.process.process.oom_score_adj {
        attrs::set_oom_score_adj(score).context("process.oomScoreAdj")?;
    }
    namespace::join_process(&ctx.target.pidfd, ctx.target.ns_flags)
        .context("join the container's namespaces")?;
    // A pid or time namespace applies to children: clone the process, as
    // a child of the parent (CLONE_PARENT), which waits for it.
    let sibling = Options {
        sibling: true,
        // We are a clone of single-threaded berth; /proc/self now names
        // nothing (the container's /proc, the host's pid namespace).
        known_single_threaded: true,
        ..Options::default()
    };
    let child = clone::spawn(0, sibling, || match become_process(ctx) {
        Ok(never) => match never {},
        Err(err) => sync::report(ctx.chan, &err),
    })?;
    ctx.chan.send(&Msg::ProcessPid {
        pid: child.pid.as_raw(),
    })?;
    Ok(())
}

/// Inside every namespace: the root, the terminal, the cwd, then the same
/// process step init runs.
fn become_process(ctx: &ChildContext<'_>) -> anyhow::Result<std::convert::Infallible> {
    rootfs::chroot_to(ctx.target.root.as_fd())?;
    let process = ctx.process.process;
    if process.terminal {
        terminal(ctx)?;
    }
    let root = RootDir::open(Path::new("/"))?;
    process::enter_cwd(&root, &process.cwd, Create::Nothing)?;
    drop(root);
    let program = process::prepare(&ctx.process)?.context("exec: no process to run")?;
    Err(process::exec(&ctx.process, &program))
}

/// A pty from the container's devpts, its master sent to the parent, its
/// slave the controlling terminal and stdio.
fn terminal(ctx: &ChildContext<'_>) -> anyhow::Result<()> {
    let pty = tty::open_pty().context("process.terminal")?;
    if let Some((rows, cols)) = ctx.process.process.console_size {
        tty::set_size(&pty.master, rows, cols).context("process.consoleSize")?;
    }
    let name = pty.slave_path.to_string_lossy().into_owned();
    ctx.chan
        .send_fd(&Msg::Console { name }, pty.master.as_fd())?;
    drop(pty.master);
    tty::make_controlling(&pty.slave)?;
    Ok(())
}
