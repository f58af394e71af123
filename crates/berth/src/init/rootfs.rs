//! The container's filesystem view: mounts, `/dev`, the switch of root,
//! then sysctls, read-only and masked paths, a read-only root and the cwd.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_linux::mount::{finish_readonly_dev, mount_entry, Create, RootDir};
use berth_linux::{attrs, devices, rootfs};
use berth_spec::plan::{MountKind, NsKind};
use berth_spec::state::State;
use nix::fcntl::OFlag;

use super::InitContext;

/// Everything before and including the switch to the new root, with the
/// hooks that run before `pivot_root` (their state is returned for
/// `startContainer`).
///
/// Without a mount namespace of its own (none listed: the container
/// shares berth's), the host's propagation is left alone and the switch is
/// a chroot; the mounts are removed at delete.
pub fn build(ctx: &InitContext<'_>) -> anyhow::Result<Option<State>> {
    let plan = ctx.plan;
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
    for (i, m) in plan.mounts.iter().enumerate() {
        let tree = ctx.bind_sources.get(i).and_then(Option::as_ref);
        if let (MountKind::Bind { source, .. }, None) = (&m.kind, tree) {
            // Validation let it through if an earlier mount may make it.
            if let Err(errno) = nix::sys::stat::stat(source) {
                anyhow::bail!("mounts[{i}].source: {}: {}", source.display(), errno.desc());
            }
        }
        mount_entry(&root, m, ctx.cgroups, tree.map(AsFd::as_fd))
            .with_context(|| format!("mounts[{i}] {}", m.destination.display()))?;
    }
    if plan.setup_dev {
        let in_userns = plan.namespace(NsKind::User).is_some();
        devices::create(&root, &plan.devices, in_userns).context("linux.devices")?;
        devices::symlinks(&root)?;
        devices::ptmx(&root)?;
    }
    drop(root);
    let state = super::hooks::before_pivot(ctx)?;
    if !own_mounts {
        rootfs::chroot_into(path)?;
        return Ok(state);
    }
    if ctx.no_pivot {
        rootfs::move_root(path).context("--no-pivot")?;
    } else {
        rootfs::pivot(path)?;
    }
    rootfs::set_root_propagation(plan.rootfs_propagation).context("linux.rootfsPropagation")?;
    Ok(state)
}

/// After the switch: sysctls (before /proc/sys becomes read-only), then
/// read-only and masked paths, a read-only root, and the cwd.
pub fn finish(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let plan = ctx.plan;
    let root = RootDir::open(Path::new("/"))?;
    for (key, value) in &plan.sysctl {
        write_sysctl(&root, key, value).with_context(|| format!("linux.sysctl.{key}"))?;
    }
    for path in &plan.readonly_paths {
        rootfs::make_readonly(&root, path).context("linux.readonlyPaths")?;
    }
    for path in &plan.masked_paths {
        rootfs::mask(&root, path).context("linux.maskedPaths")?;
    }
    for (i, m) in plan.mounts.iter().enumerate() {
        finish_readonly_dev(&root, m)
            .with_context(|| format!("mounts[{i}] {}", m.destination.display()))?;
    }
    // runc creates a missing cwd for init.
    crate::process::enter_cwd(&root, &plan.process.cwd, Create::Dir)?;
    if plan.root.readonly {
        rootfs::readonly_root(&root).context("root.readonly")?;
    }
    Ok(())
}

fn write_sysctl(root: &RootDir, key: &str, value: &str) -> anyhow::Result<()> {
    let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
    let fd = root.open_file(&path, OFlag::O_WRONLY | OFlag::O_TRUNC)?;
    std::fs::File::from(fd)
        .write_all(value.as_bytes())
        .with_context(|| format!("write {}", path.display()))
}
