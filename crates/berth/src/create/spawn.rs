//! Cloning the container's init.

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
pub fn spawn(ctx: &InitContext<'_>) -> anyhow::Result<Child> {
    let opts = Options {
        pidfd: true,
        ..Options::default()
    };
    Ok(clone::spawn(ctx.cloned_flags, opts, || init::main(ctx))?)
}
