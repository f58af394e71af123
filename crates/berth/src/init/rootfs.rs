//! The container's filesystem view: mounts, `/dev`, the switch of root,
//! then read-only and masked paths, a read-only root and the cwd.

use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;
use berth_linux::mount::{mount_entry, Create, DelayedReadonly, RootDir};
use berth_linux::{attrs, devices, rootfs};
use berth_spec::plan::{MountKind, NsKind};
use berth_spec::state::State;

use super::InitContext;

/// Everything before and including the switch to the new root, with the
/// hooks that run before `pivot_root` (their state is returned for
/// `startContainer`).
///
/// Without a mount namespace of its own (none listed: the container
/// shares berth's), the host's propagation is left alone and the switch is
/// a chroot; the mounts are removed at delete.
pub fn build(ctx: &InitContext<'_>) -> anyhow::Result<Built> {
    let plan = ctx.plan;
    // While the host's /dev is still in reach (see rootfs::HostNull).
    let null = (!plan.masked_paths.is_empty())
        .then(rootfs::HostNull::bind)
        .transpose()
        .context("linux.maskedPaths")?;
    let path = &plan.root.path;
    let own_mounts = !plan.shares_host_mounts();
    // Exact modes for what setup creates; the config's umask is set before exec.
    attrs::set_umask(0);
    if own_mounts {
        rootfs::prepare(path, plan.rootfs_propagation).context("linux.rootfsPropagation")?;
    } else {
        rootfs::bind_self(path).context("root.path")?;
    }
    let root = RootDir::open(path).context("root.path")?;
    let mut readonly_later = Vec::new();
    // Without SELinux, create warned that the label is ignored.
    let label = plan.knobs.mount_label.as_deref();
    let label = label.filter(|_| berth_linux::lsm::selinux_enabled());
    for (i, m) in plan.mounts.iter().enumerate() {
        let tree = ctx.bind_sources.get(i).and_then(Option::as_ref);
        if let (MountKind::Bind { source, .. }, None) = (&m.kind, tree) {
            // Validation let it through if an earlier mount may make it.
            if let Err(errno) = nix::sys::stat::stat(source) {
                anyhow::bail!("mounts[{i}].source: {}: {}", source.display(), errno.desc());
            }
        }
        let entry = format!("mounts[{i}] {}", m.destination.display());
        let later = mount_entry(&root, m, ctx.cgroups, tree.map(AsFd::as_fd), label)
            .with_context(|| entry.clone())?;
        readonly_later.extend(later.map(|later| (entry, later)));
    }
    if plan.setup_dev {
        let in_userns = plan.namespace(NsKind::User).is_some();
        devices::create(&root, &plan.devices, in_userns).context("linux.devices")?;
        devices::symlinks(&root)?;
        devices::ptmx(&root)?;
    }
    drop(root);
    let state = super::hooks::before_pivot(ctx)?;
    let built = Built {
        state,
        null,
        readonly_later,
    };
    if !own_mounts {
        rootfs::chroot_into(path)?;
        return Ok(built);
    }
    if ctx.no_pivot {
        rootfs::move_root(path).context("--no-pivot")?;
    } else {
        rootfs::pivot(path)?;
    }
    rootfs::set_root_propagation(plan.rootfs_propagation).context("linux.rootfsPropagation")?;
    Ok(built)
}

/// What [`build`] hands on: the hooks' state and, for [`finish`], the
/// host's `/dev/null` for masked files and the mounts made read-only only
/// at the end (a read-only `/dev`).
pub struct Built {
    /// The state the hooks before pivot saw, for `startContainer`.
    pub state: Option<State>,
    /// For [`finish`]: what masked files are covered with (`None` when
    /// `linux.maskedPaths` is empty).
    pub null: Option<rootfs::HostNull>,
    /// For [`finish`]: the `mounts[]` entry (for messages) and its mount.
    pub readonly_later: Vec<(String, DelayedReadonly)>,
}

/// After the switch: read-only and masked paths, a read-only root, and the cwd.
pub fn finish(
    ctx: &InitContext<'_>,
    null: Option<rootfs::HostNull>,
    readonly_later: Vec<(String, DelayedReadonly)>,
) -> anyhow::Result<()> {
    let plan = ctx.plan;
    let root = RootDir::open(Path::new("/"))?;
    for path in &plan.readonly_paths {
        rootfs::make_readonly(&root, path).context("linux.readonlyPaths")?;
    }
    if let Some(mut null) = null {
        for path in &plan.masked_paths {
            rootfs::mask(&root, path, &mut null).context("linux.maskedPaths")?;
        }
    }
    for (entry, later) in readonly_later {
        later.apply().context(entry)?;
    }
    // runc creates a missing cwd for init.
    crate::process::enter_cwd(&root, &plan.process.cwd, Create::Dir)?;
    if plan.root.readonly {
        rootfs::readonly_root(&root).context("root.readonly")?;
    }
    Ok(())
}
