//! Cloning the container's init.

use std::os::fd::BorrowedFd;

use berth_linux::clone::{self, Child, Options};
use berth_spec::plan::{NsKind, Plan};

use crate::init::{self, InitContext};

/// The namespaces `clone` can create itself: all the new ones, unless a
/// namespace must be joined first (a joined namespace must be entered
/// before a new user namespace owns the rest) or a time namespace needs
/// its offsets written before anyone is inside. Otherwise init unshares
/// them (see `init::namespaces`).
///
/// Never the cgroup namespace: its root is the cgroup its creator is in,
/// so init unshares it after joining the container's cgroups.
pub fn clone_flags(plan: &Plan) -> u64 {
    let joins = plan.namespaces.iter().any(|ns| ns.join.is_some());
    if joins || plan.creates(NsKind::Time) {
        return 0;
    }
    plan.new_namespace_flags() & !NsKind::Cgroup.clone_flag()
}

/// Clones init with `ctx.cloned_flags`; the child runs [`init::main`].
/// On a cgroup v2 host `cgroup` is the container's cgroup directory: the
/// child is born in it (`CLONE_INTO_CGROUP`). Where the kernel refuses
/// that, the clone is retried without it and the parent's write to
/// `cgroup.procs` (before the child may take a step) does the job.
pub fn spawn(ctx: &InitContext<'_>, cgroup: Option<BorrowedFd<'_>>) -> anyhow::Result<Child> {
    let opts = |cgroup| Options {
        pidfd: true,
        cgroup,
        ..Options::default()
    };
    if cgroup.is_some() {
        match clone::spawn(ctx.cloned_flags, opts(cgroup), || init::main(ctx)) {
            Ok(child) => return Ok(child),
            Err(e) => tracing::debug!("clone3 into the cgroup: {e}; cloning without"),
        }
    }
    Ok(clone::spawn(ctx.cloned_flags, opts(None), || {
        init::main(ctx)
    })?)
}
