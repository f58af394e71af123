//! Locking the process down: rlimits, seccomp, the bounding set, the user,
//! the capability sets, no_new_privs. Order as in runc `finalizeNamespace`;
//! the order itself is [`super::STEPS`].

use anyhow::Context;
use berth_linux::{attrs, caps, cred, fd, rlimit};

use super::ProcessContext;

/// `process.rlimits`.
pub fn rlimits(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    rlimit::apply(&ctx.process.rlimits).context("process.rlimits")
}

/// Gives stdio to the container user: before the switch, while we may
/// still chown them (the owner only; the group may be unmapped).
pub fn stdio(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    Ok(fd::give_stdio_to(ctx.process.user.uid)?)
}

/// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
/// while we have it (runc does the same).
pub fn early_seccomp(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    match ctx.seccomp {
        Some(filter) if !ctx.process.no_new_privileges => Ok(filter.load()?),
        _ => Ok(()),
    }
}

/// `process.capabilities.bounding`.
pub fn bounding(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    caps::drop_bounding(ctx.process.capabilities.bounding).context("process.capabilities.bounding")
}

/// `process.user`: groups, gid, uid, keeping the permitted set across.
pub fn user(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    let user = &ctx.process.user;
    cred::keep_caps(true)?;
    cred::switch_user(
        user.uid,
        user.gid,
        &user.additional_gids,
        ctx.setgroups_allowed,
    )
    .context("process.user")?;
    cred::keep_caps(false)?;
    Ok(())
}

/// The other four capability sets.
pub fn capabilities(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    let refused = caps::apply(&ctx.process.capabilities).context("process.capabilities")?;
    if refused.0 != 0 {
        let names: Vec<String> = refused.iter().map(caps::name).collect();
        // Expected with `runc spec`'s own config (ambient without inheritable):
        // runc 1.1 says nothing, so this is only a debug line.
        tracing::debug!(
            "process.capabilities.ambient: {} not raised: a capability must also be permitted and inheritable",
            names.join(", ")
        );
    }
    Ok(())
}

/// `process.noNewPrivileges`.
pub fn no_new_privs(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    if ctx.process.no_new_privileges {
        attrs::set_no_new_privs()?;
    }
    Ok(())
}

/// With no_new_privs the filter is loaded as late as possible, just before
/// execve, so that it governs as few of berth's own system calls as
/// possible (runc: "just before execve").
pub fn late_seccomp(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    match ctx.seccomp {
        Some(filter) if ctx.process.no_new_privileges => Ok(filter.load()?),
        _ => Ok(()),
    }
}
