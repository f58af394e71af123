//! Locking the process down: rlimits, seccomp, the bounding set, the user,
//! the capability sets, no_new_privs. Order as in runc `finalizeNamespace`.

use anyhow::Context;
use berth_linux::{attrs, caps, cred, fd, rlimit};

use super::InitContext;

/// Applies `process.rlimits`, `process.user`, `process.capabilities` and
/// `process.noNewPrivileges`.
pub fn apply(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let process = &ctx.plan.process;
    let user = &process.user;
    rlimit::apply(&process.rlimits).context("process.rlimits")?;
    // Before the switch, while we may still chown them.
    fd::give_stdio_to(user.uid)?;
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // while we have it (runc does the same).
    if !process.no_new_privileges {
        if let Some(filter) = ctx.seccomp {
            filter.load()?;
        }
    }
    caps::drop_bounding(process.capabilities.bounding).context("process.capabilities.bounding")?;
    cred::keep_caps(true)?;
    cred::switch_user(
        user.uid,
        user.gid,
        &user.additional_gids,
        ctx.setgroups_allowed,
    )
    .context("process.user")?;
    cred::keep_caps(false)?;
    let refused = caps::apply(&process.capabilities).context("process.capabilities")?;
    if refused.0 != 0 {
        let names: Vec<String> = refused.iter().map(caps::name).collect();
        // Expected with `runc spec`'s own config (ambient without inheritable):
        // runc 1.1 says nothing, so this is only a debug line.
        tracing::debug!(
            "process.capabilities.ambient: {} not raised: a capability must also be permitted and inheritable",
            names.join(", ")
        );
    }
    if process.no_new_privileges {
        attrs::set_no_new_privs()?;
    }
    Ok(())
}

/// With no_new_privs the filter is loaded as late as possible, after
/// `start`, so that it governs as few of init's own system calls as
/// possible (runc: "just before execve").
pub fn late_seccomp(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    match ctx.seccomp {
        Some(filter) if ctx.plan.process.no_new_privileges => Ok(filter.load()?),
        _ => Ok(()),
    }
}
