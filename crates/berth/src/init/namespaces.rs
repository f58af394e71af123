//! Entering the container's namespaces, in the order the kernel needs.
//!
//! 1. Join the namespaces given by path, user namespace last: as host root
//!    we may join any namespace, but once in another user namespace we may
//!    only join those it owns (runc #4492 ordering).
//! 2. Make the new user namespace (unless clone already did) and have the
//!    parent write its id maps.
//! 3. Unshare the other new namespaces, now owned by that user namespace;
//!    write time offsets and the oom score; become root inside the user
//!    namespace, then unshare the ipc namespace (its mqueue root then
//!    belongs to the container's root).
//! 4. A pid or time namespace applies to children only: the caller clones
//!    once more.

use anyhow::Context;
use berth_linux::{attrs, idmap, namespace, net};
use berth_spec::plan::NsKind;
use nix::unistd::{setresgid, setresuid, Gid, Pid, Uid};

use super::InitContext;
use crate::sync::Msg;

/// Steps 1–3 above.
pub fn enter(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let pending = ctx.plan.new_namespace_flags() & !ctx.cloned_flags;
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
        ctx.chan.expect(&Msg::IdMapsDone)?;
    }
    let ipc = NsKind::Ipc.clone_flag();
    namespace::unshare(pending & !user & !ipc)?;
    // Our own /proc files are written before we become root of a new user
    // namespace: init is non-dumpable, so they belong to the host's root,
    // which we still are until then.
    if pending & NsKind::Time.clone_flag() != 0 && !ctx.plan.time_offsets.is_empty() {
        let offsets = idmap::format_time_offsets(&ctx.plan.time_offsets);
        idmap::write_time_offsets(Pid::this(), &offsets).context("linux.timeOffsets")?;
    }
    if let Some(score) = ctx.plan.process.oom_score_adj {
        attrs::set_oom_score_adj(score).context("process.oomScoreAdj")?;
    }
    if ctx.plan.namespace(NsKind::User).is_some() {
        become_root(ctx)?;
    }
    namespace::unshare(pending & ipc)?;
    Ok(())
}

/// Whether a pid or time namespace was entered that only the next child
/// will be in.
pub fn needs_fork(ctx: &InitContext<'_>) -> bool {
    let for_children = NsKind::Pid.clone_flag() | NsKind::Time.clone_flag();
    let unshared = ctx.plan.new_namespace_flags() & !ctx.cloned_flags & for_children != 0;
    unshared
        || ctx
            .joins
            .iter()
            .any(|(k, _)| matches!(k, NsKind::Pid | NsKind::Time))
}

/// Takes uid/gid 0 inside the user namespace, so that files made during
/// setup belong to the container's root. For a new namespace only when the
/// maps include 0; a joined namespace's maps are unknown, so there an id
/// that is not mapped (EINVAL) is not an error.
fn become_root(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let joined = !ctx.plan.creates(NsKind::User);
    let maps_zero = |maps: &[berth_spec::plan::IdMap]| maps.iter().any(|m| m.container_id == 0);
    let tolerate = |r: nix::Result<()>| match r {
        Err(nix::errno::Errno::EINVAL) if joined => Ok(()),
        other => other,
    };
    if joined || maps_zero(&ctx.plan.gid_mappings) {
        let zero = Gid::from_raw(0);
        tolerate(setresgid(zero, zero, zero)).context("setresgid 0 in the user namespace")?;
    }
    if joined || maps_zero(&ctx.plan.uid_mappings) {
        let zero = Uid::from_raw(0);
        tolerate(setresuid(zero, zero, zero)).context("setresuid 0 in the user namespace")?;
    }
    Ok(())
}

/// Inside every namespace: loopback, names, keyring.
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
    if !ctx.no_new_keyring {
        attrs::join_session_keyring(&format!("_ses.{}", ctx.id)).context("session keyring")?;
    }
    Ok(())
}

/// Has the parent move `linux.netDevices` into our network namespace.
pub(super) fn request_net_devices(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    if ctx.plan.net_devices.is_empty() {
        return Ok(());
    }
    ctx.chan.send(&Msg::NetDevicesPlease)?;
    ctx.chan.expect(&Msg::NetDevicesDone)
}
