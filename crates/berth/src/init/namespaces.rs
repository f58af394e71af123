//! Entering the container's namespaces, in the order the kernel needs.
//!
//! 1. Join the namespaces given by path, user namespace last: as host root
//!    we may join any namespace, but once in another user namespace we may
//!    only join those it owns (runc #4492 ordering).
//! 2. Make the new user namespace (unless clone already did) and have the
//!    parent write its id maps; then become root inside it.
//! 3. Unshare the other new namespaces, now owned by that user namespace.
//! 4. A pid or time namespace applies to children only: the caller forks.

use anyhow::Context;
use berth_linux::{attrs, idmap, namespace, net};
use berth_spec::plan::NsKind;
use nix::unistd::{setresgid, setresuid, Gid, Pid, Uid};

use super::InitContext;
use crate::sync::Msg;

/// `CLONE_NEW*` flags of the namespaces the config asks to create.
pub fn new_flags(ctx: &InitContext<'_>) -> u64 {
    ctx.plan
        .namespaces
        .iter()
        .filter(|ns| ns.join.is_none())
        .fold(0, |acc, ns| acc | ns.kind.clone_flag())
}

/// Steps 1–3 above.
pub fn enter(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let pending = new_flags(ctx) & !ctx.cloned_flags;
    let user = NsKind::User.clone_flag();
    for (kind, fd) in ctx.joins.iter().filter(|(k, _)| *k != NsKind::User) {
        namespace::join(fd, *kind).with_context(|| format!("join {} namespace", kind.name()))?;
    }
    if let Some((_, fd)) = ctx.joins.iter().find(|(k, _)| *k == NsKind::User) {
        namespace::join(fd, NsKind::User).context("join user namespace")?;
    }
    namespace::unshare(pending & user)?;
    if ctx.plan.creates(NsKind::User) {
        ctx.chan.send(&Msg::IdMapsPlease)?;
        match ctx.chan.recv()? {
            Some(Msg::IdMapsDone) => {}
            other => anyhow::bail!("expected IdMapsDone from the parent, got {other:?}"),
        }
        become_root(ctx)?;
    }
    namespace::unshare(pending & !user)?;
    if pending & NsKind::Time.clone_flag() != 0 && !ctx.plan.time_offsets.is_empty() {
        let offsets = idmap::format_time_offsets(&ctx.plan.time_offsets);
        idmap::write_time_offsets(Pid::this(), &offsets).context("linux.timeOffsets")?;
    }
    Ok(())
}

/// Whether a pid or time namespace was entered that only the next child
/// will be in.
pub fn needs_fork(ctx: &InitContext<'_>) -> bool {
    let for_children = NsKind::Pid.clone_flag() | NsKind::Time.clone_flag();
    let unshared = new_flags(ctx) & !ctx.cloned_flags & for_children != 0;
    unshared
        || ctx
            .joins
            .iter()
            .any(|(k, _)| matches!(k, NsKind::Pid | NsKind::Time))
}

/// Takes uid/gid 0 inside a new user namespace when the maps include it,
/// so that files made during setup belong to the container's root.
fn become_root(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let maps_zero = |maps: &[berth_spec::plan::IdMap]| maps.iter().any(|m| m.container_id == 0);
    if maps_zero(&ctx.plan.gid_mappings) {
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .context("setresgid 0 in the user namespace")?;
    }
    if maps_zero(&ctx.plan.uid_mappings) {
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .context("setresuid 0 in the user namespace")?;
    }
    Ok(())
}

/// Inside every namespace: loopback, names, oom score, keyring.
pub fn configure(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let plan = ctx.plan;
    if plan.creates(NsKind::Network) {
        net::loopback_up().context("bring up lo in the new network namespace")?;
    }
    if let Some(name) = &plan.hostname {
        attrs::set_hostname(name).context("hostname")?;
    }
    if let Some(name) = &plan.domainname {
        attrs::set_domainname(name).context("domainname")?;
    }
    if let Some(score) = plan.process.oom_score_adj {
        attrs::set_oom_score_adj(score).context("process.oomScoreAdj")?;
    }
    if !ctx.no_new_keyring {
        attrs::join_session_keyring(&format!("_ses.{}", ctx.id)).context("session keyring")?;
    }
    Ok(())
}
