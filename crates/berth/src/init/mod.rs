//! The container's init: the cloned child of `create`.
//!
//! It runs on a copy of the parent's memory, so it reads the [`Plan`]
//! directly. [`main`] is the whole of its life: enter the namespaces, build
//! the rootfs, run the process step (`crate::process`, shared with `exec`)
//! up to the program, report ready, wait for `start`, exec.
//! Any failure is sent to the parent as `Msg::Error` and ends the process.

mod console;
mod fds;
mod fifo;
mod hooks;
mod knobs;
mod lifeline;
mod namespaces;
mod proc_writes;
mod rootfs;

use std::convert::Infallible;
use std::os::fd::OwnedFd;

use anyhow::Context;
use berth_linux::clone::{self, Options};
use berth_linux::mount::CgroupLayout;
use berth_spec::plan::{NsKind, Plan};

use crate::process::{self, ProcessContext};
use crate::sync::{Channel, Msg};

/// Everything init needs besides the plan, prepared by the parent before
/// the clone.
#[derive(Debug)]
pub struct InitContext<'a> {
    /// Container id (names the session keyring).
    pub id: &'a str,
    /// The validated config.
    pub plan: &'a Plan,
    /// init's end of the handshake socket.
    pub chan: &'a Channel,
    /// Namespaces to join, opened and type-checked by the parent.
    pub joins: &'a [(NsKind, OwnedFd)],
    /// The `CLONE_NEW*` flags the clone itself already applied.
    pub cloned_flags: u64,
    /// The exec fifo, opened by the parent: (read end, write end).
    pub fifo: &'a (OwnedFd, OwnedFd),
    /// `--console-socket`, connected by the parent.
    pub console: Option<&'a OwnedFd>,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// Host cgroup hierarchies, for a `cgroup` mount.
    pub cgroups: &'a CgroupLayout,
    /// Whether setgroups(2) is allowed (not denied in a new user namespace).
    pub setgroups_allowed: bool,
    /// `linux.seccomp`, built by the parent.
    pub seccomp: Option<&'a berth_linux::seccomp::Filter>,
    /// Per `mounts` entry: the bind source, opened (as a detached mount
    /// tree) before any user namespace, or `None` to use its path.
    pub bind_sources: &'a [Option<OwnedFd>],
}

impl InitContext<'_> {
    /// What the process step needs: the config's process and its filter.
    pub fn process(&self) -> ProcessContext<'_> {
        ProcessContext {
            process: &self.plan.process,
            seccomp: self.seccomp,
            setgroups_allowed: self.setgroups_allowed,
            preserve_fds: self.preserve_fds,
            notify_to: Some(self.chan),
        }
    }
}

/// Whether init clones the real init a second time (a pid or time
/// namespace applies only to children); the parent needs to know.
pub fn needs_fork(ctx: &InitContext<'_>) -> bool {
    namespaces::needs_fork(ctx)
}

/// init's entry point; returns the exit code of the process it runs in.
pub fn main(ctx: &InitContext<'_>) -> i32 {
    match run(ctx) {
        Ok(()) => 0,
        Err(err) => report(ctx, &err),
    }
}

/// Sends the failure to the parent; the exit code is 1.
fn report(ctx: &InitContext<'_>, err: &anyhow::Error) -> i32 {
    crate::sync::report(ctx.chan, err)
}

/// Enters the namespaces, then either becomes the container's init or,
/// when a pid or time namespace only applies to children, clones the init
/// and hands its pid to the parent (returning `Ok` to exit).
fn run(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    berth_linux::attrs::set_non_dumpable()?;
    // First, the parent's end of the handshake socket among the rest: while
    // init holds it, a parent killed before `CgroupJoined` would leave init
    // waiting for it forever; closed, the wait ends with EOF.
    fds::close_inherited(ctx)?;
    // Not one step of the container's own outside its cgroups.
    ctx.chan.expect(&Msg::CgroupJoined)?;
    lifeline::arm(ctx.chan)?;
    namespaces::enter(ctx)?;
    // Asked before any fork: the parent finds the network namespace
    // through the pid it knows, ours.
    namespaces::request_net_devices(ctx)?;
    if !namespaces::needs_fork(ctx) {
        return finish(ctx).map(|never| match never {});
    }
    let sibling = Options {
        sibling: true,
        ..Options::default()
    };
    let init = clone::spawn(0, sibling, || {
        match lifeline::arm(ctx.chan).and_then(|()| finish(ctx)) {
            Ok(never) => match never {},
            Err(err) => report(ctx, &err),
        }
    })?;
    ctx.chan.send(&Msg::InitPid {
        pid: init.pid.as_raw(),
    })?;
    Ok(())
}

/// From inside every namespace to the exec of the user process.
fn finish(ctx: &InitContext<'_>) -> anyhow::Result<Infallible> {
    knobs::initial(ctx)?;
    namespaces::configure(ctx)?;
    proc_writes::apply(ctx)?;
    let built = rootfs::build(ctx)?;
    let state = built.state;
    console::setup(ctx)?;
    rootfs::finish(ctx, built.null, built.readonly_later)?;
    knobs::apply(ctx)?;
    let steps = ctx.process();
    let program = process::prepare(&steps)?;
    ctx.chan.send(&Msg::Ready)?;
    // Dying with `create` until it has recorded the container as created:
    // a live init waiting for `start` then always has a `created` record.
    ctx.chan.expect(&Msg::Recorded)?;
    lifeline::release()?;
    ctx.chan.send(&Msg::Released)?;
    fifo::wait_for_start(ctx)?;
    let err = match start(ctx, &steps, state, program) {
        Ok(never) => match never {},
        Err(err) => err,
    };
    // The parent is gone by now: the container's stderr and, when it
    // waits for us, `start` are the only places left to say why.
    eprintln!("berth: {err:#}");
    fifo::report_to_start(ctx, &err);
    Err(err)
}

/// After `start`: the startContainer hooks, seccomp if it waited for now,
/// the exec. `start` refuses a config without `process`; this is the
/// backstop.
fn start(
    ctx: &InitContext<'_>,
    steps: &ProcessContext<'_>,
    state: Option<berth_spec::state::State>,
    program: Option<process::Program>,
) -> anyhow::Result<Infallible> {
    let program = program.context("the config has no process to start")?;
    hooks::start_container(ctx, state)?;
    Err(process::exec(steps, &program))
}
