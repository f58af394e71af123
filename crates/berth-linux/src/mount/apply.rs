//! One `mounts[]` entry: resolve its target inside the rootfs, mount,
//! remount with the requested flags, set propagation.

use std::path::Path;

use berth_spec::plan::{Mount, MountKind};

use super::resolve::{fd_path, Create, RootDir};
use super::{cgroup, mount, remount, set_propagation, CgroupLayout};
use crate::error::SysResult;

/// The per-mount flags a bind mount only gets from a remount.
const REMOUNT_FLAGS: u64 = libc::MS_RDONLY
    | libc::MS_NOSUID
    | libc::MS_NODEV
    | libc::MS_NOEXEC
    | libc::MS_NOATIME
    | libc::MS_NODIRATIME
    | libc::MS_RELATIME
    | libc::MS_STRICTATIME;

/// Mounts `m` under `root`. `cgroups` describes the host hierarchies for a
/// `cgroup` filesystem entry.
pub fn mount_entry(root: &RootDir, m: &Mount, cgroups: &CgroupLayout) -> SysResult<()> {
    let shown = root.display(&m.destination);
    match &m.kind {
        MountKind::Bind { source, recursive } => bind(root, m, source, *recursive)?,
        MountKind::Filesystem { fstype, .. } if fstype == "cgroup" => {
            cgroup::mount_v1_or_v2(root, m, cgroups)?;
        }
        MountKind::Filesystem { fstype, source } => {
            let target = root.resolve(&m.destination, Create::Dir)?;
            let source = Some(Path::new(source));
            match mount(
                source,
                &fd_path(&target),
                Some(fstype),
                m.flags,
                Some(&m.data),
                &shown,
            ) {
                // sysfs belongs to a network namespace: a user namespace that
                // does not own the container's netns may not mount it. Bind
                // the host's /sys instead, as runc does.
                Err(e) if fstype == "sysfs" && e.errno == nix::errno::Errno::EPERM => {
                    bind(root, m, Path::new("/sys"), true)?;
                }
                other => other?,
            }
        }
    }
    propagate(root, &m.destination, &m.propagation)
}

fn bind(root: &RootDir, m: &Mount, source: &Path, recursive: bool) -> SysResult<()> {
    let shown = root.display(&m.destination);
    let create = match std::fs::metadata(source) {
        Ok(meta) if !meta.is_dir() => Create::File,
        _ => Create::Dir,
    };
    let target = root.resolve(&m.destination, create)?;
    let rec = if recursive { libc::MS_REC } else { 0 };
    mount(
        Some(source),
        &fd_path(&target),
        None,
        libc::MS_BIND | rec,
        Some(&m.data),
        &shown,
    )?;
    if m.flags & REMOUNT_FLAGS != 0 {
        // The fd above is the directory under the new mount; look the path
        // up again to reach the mount itself.
        let mounted = root.resolve(&m.destination, Create::Nothing)?;
        remount(&mounted, m.flags & REMOUNT_FLAGS, &shown)?;
    }
    Ok(())
}

/// Applies each propagation flag in order on the mount at `dest`.
pub(super) fn propagate(root: &RootDir, dest: &Path, flags: &[u64]) -> SysResult<()> {
    if flags.is_empty() {
        return Ok(());
    }
    let mounted = root.resolve(dest, Create::Nothing)?;
    let shown = root.display(dest);
    flags
        .iter()
        .try_for_each(|&flag| set_propagation(&fd_path(&mounted), flag, &shown))
}
