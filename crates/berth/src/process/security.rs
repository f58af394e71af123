//! Locking the process down: rlimits, its own session, seccomp, the
//! bounding set, the user, the capability sets, no_new_privs. Order as in runc `finalizeNamespace`;
//! the order itself is [`super::STEPS`].

use anyhow::Context;
use berth_linux::{attrs, caps, cred, fd, rlimit};

use super::ProcessContext;

/// `process.rlimits`.
pub fn rlimits(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    rlimit::apply(&ctx.process.rlimits).context("process.rlimits")
}

/// Makes the process the leader of a new session and process group, as
/// runc's init and exec do: otherwise it stays in the session and group of
/// whoever ran berth, so a terminal's Ctrl-C or an engine signalling
/// berth's process group reaches it directly, and not only through what
/// berth forwards. With `process.terminal` the pty step made the session
/// already (a session leader cannot make another).
pub fn session(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    if ctx.process.terminal {
        return Ok(());
    }
    nix::unistd::setsid().context("setsid")?;
    Ok(())
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
        Some(filter) if !ctx.process.no_new_privileges => load(ctx, filter),
        _ => Ok(()),
    }
}

/// Loads the filter; a notifying one's fd goes to the parent, which hands
/// it to `listenerPath` (runc `syncParentSeccomp`).
fn load(ctx: &ProcessContext<'_>, filter: &berth_linux::seccomp::Filter) -> anyhow::Result<()> {
    if !filter.notifies() {
        return Ok(filter.load()?);
    }
    let Some(chan) = ctx.notify_to else {
        anyhow::bail!(
            "linux.seccomp: SCMP_ACT_NOTIFY: berth exec cannot hand a listener fd to listenerPath yet"
        );
    };
    filter.load()?;
    let fd = filter.notify_fd()?;
    chan.send(&crate::sync::Msg::SeccompFd)?;
    berth_linux::tty::send_fd(chan.fd(), std::os::fd::AsFd::as_fd(&fd), "seccomp")
        .context("linux.seccomp: send the notify fd")
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
        // A listener must get its fd from the parent, which is gone after
        // Ready: load a notifying filter now, not after `start`.
        if let Some(filter) = ctx.seccomp.filter(|f| f.notifies()) {
            load(ctx, filter)?;
        }
    }
    Ok(())
}

/// With no_new_privs the filter is loaded as late as possible, just before
/// execve, so that it governs as few of berth's own system calls as
/// possible (runc: "just before execve").
pub fn late_seccomp(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    match ctx.seccomp {
        Some(filter) if ctx.process.no_new_privileges && !filter.notifies() => Ok(filter.load()?),
        _ => Ok(()),
    }
}
