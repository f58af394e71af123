//! Cloning the container's init.

use std::os::fd::{AsFd, BorrowedFd};

use anyhow::Context;
use berth_cgroups::Manager;
use berth_linux::clone::{self, Child, Options};
use berth_spec::plan::{NsKind, Plan};

use super::cgroups;
use super::parent::Processes;
use crate::host_cgroups::HostCgroups;
use crate::init::{self, InitContext};
use crate::sync::{Channel, Msg};

/// The namespaces `clone` can create itself: all the new ones, unless a
/// namespace must be joined first (a joined namespace must be entered
/// before a new user namespace owns the rest) or a time namespace needs
/// its offsets written before anyone is inside. Otherwise init unshares
/// them (see `init::namespaces`).
///
/// Never the cgroup namespace: its root is the cgroup its creator is in,
/// so init unshares it after joining the container's cgroups. Nor, with a
/// new user namespace, the ipc namespace: its mqueue file system's root
/// belongs to whoever creates the namespace, so init unshares it once it
/// is root inside the user namespace (as runc does), or `/dev/mqueue`
/// would belong to an unmapped id (`nobody`) that the container's root
/// may not chmod.
pub fn clone_flags(plan: &Plan) -> u64 {
    let joins = plan.namespaces.iter().any(|ns| ns.join.is_some());
    if joins || plan.creates(NsKind::Time) {
        return 0;
    }
    let mut flags = plan.new_namespace_flags() & !NsKind::Cgroup.clone_flag();
    if plan.creates(NsKind::User) {
        flags &= !NsKind::Ipc.clone_flag();
    }
    flags
}

/// Clones init (recorded in `procs.first` as soon as it exists, so a
/// failure cleans it up) into the container's cgroups. It is born there
/// where it can be: the cloning thread visits the v1 cgroups first (no
/// grace period to wait for, see [`crate::cgroup_visit`]) and
/// `CLONE_INTO_CGROUP` places it in the v2 one. Whatever the kernel
/// refuses falls back to writing its pid, which the child waits for
/// (`CgroupJoined`) before it takes a step of its own.
///
/// `chan` (the parent's end of the handshake) is told `CgroupJoined` here:
/// for a child born in all its cgroups, at once, so that init goes on
/// while the visiting thread is still making its way home (nine `tasks`
/// writes, ~0.13 ms); else once its pid is written. Not at once when init
/// forks (`forks`): the visiting thread still counts against the
/// container's pids limit.
pub fn spawn_in(
    ctx: &InitContext<'_>,
    m: &Manager,
    host: &HostCgroups,
    procs: &mut Processes,
    chan: &Channel,
    forks: bool,
) -> anyhow::Result<()> {
    let unified = cgroups::unified_dir(m)?;
    let unified = unified.as_ref().map(AsFd::as_fd);
    let (mut in_v1, mut in_unified) = (false, false);
    let mut told = false;
    let clone_and_tell = || {
        let (child, into) = spawn(ctx, unified)?;
        // Born in every cgroup it has. A failed send is not the clone's
        // failure: the child must still be recorded; the send is retried
        // below, where its failure cleans the child up.
        let in_all = into || unified.is_none();
        let sent = in_all && !forks && chan.send(&Msg::CgroupJoined).is_ok();
        Ok((child, into, sent))
    };
    if let Some(visit) = cgroups::visit(m, host, clone_and_tell)? {
        match visit.cloned {
            Ok((child, into, sent)) => {
                procs.first = Some(child);
                (in_v1, in_unified, told) = (true, into, sent);
            }
            // A pids limit the visiting thread already counts against…
            Err(e) => tracing::debug!("clone from inside the cgroups: {e:#}; from outside"),
        }
        // After recording the child, so that a failure cleans it up.
        visit.left?;
    }
    if procs.first.is_none() {
        let (child, into) = spawn(ctx, unified)?;
        procs.first = Some(child);
        in_unified = into;
    }
    let pid = procs.first.as_ref().map(|c| c.pid.as_raw());
    let pid = pid.context("no init process")?;
    cgroups::join(m, pid, in_v1, in_unified)?;
    if !told {
        chan.send(&Msg::CgroupJoined)?;
    }
    Ok(())
}

/// Clones init with `ctx.cloned_flags`; the child runs [`init::main`].
/// With `cgroup` (the container's v2 directory) the child is born in it
/// (`CLONE_INTO_CGROUP`); where the kernel refuses that, the clone is
/// retried without. Returns the child and whether it was born there.
fn spawn(ctx: &InitContext<'_>, cgroup: Option<BorrowedFd<'_>>) -> anyhow::Result<(Child, bool)> {
    let opts = |cgroup| Options {
        pidfd: true,
        cgroup,
        ..Options::default()
    };
    if cgroup.is_some() {
        match clone::spawn(ctx.cloned_flags, opts(cgroup), || init::main(ctx)) {
            Ok(child) => return Ok((child, true)),
            Err(e) => tracing::debug!("clone3 into the cgroup: {e}; cloning without"),
        }
    }
    let child = clone::spawn(ctx.cloned_flags, opts(None), || init::main(ctx))?;
    Ok((child, false))
}
