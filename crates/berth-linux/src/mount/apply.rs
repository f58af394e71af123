//! One `mounts[]` entry: resolve its target inside the rootfs, mount,
//! remount with the requested flags, set propagation.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use berth_spec::plan::{Mount, MountKind};

use super::resolve::{fd_path, Create, RootDir};
use super::{cgroup, mount, remount, set_propagation, CgroupLayout};
use crate::error::{SysError, SysResult};

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
/// `cgroup` filesystem entry; `tree`, when given, is the bind source
/// already opened as a detached mount tree ([`super::detached`]).
pub fn mount_entry(
    root: &RootDir,
    m: &Mount,
    cgroups: &CgroupLayout,
    tree: Option<BorrowedFd<'_>>,
) -> SysResult<()> {
    let shown = root.display(&m.destination);
    match &m.kind {
        MountKind::Bind { source, recursive } => bind(root, m, source, *recursive, tree)?,
        MountKind::Filesystem { fstype, .. } if fstype == "cgroup" => {
            cgroup::mount_v1_or_v2(root, m, cgroups)?;
        }
        MountKind::Filesystem { fstype, source } => {
            let before = check_target(root, m, fstype)?;
            let target = root.resolve(&m.destination, Create::Dir)?;
            let source = Some(Path::new(source));
            match mount(
                source,
                &fd_path(&target),
                Some(fstype),
                m.flags & !delayed_flags(m, fstype),
                Some(&m.data),
                &shown,
            ) {
                Ok(()) if fstype == "tmpfs" => finish_tmpfs(root, m, before)?,
                // sysfs belongs to a network namespace: a user namespace that
                // does not own the container's netns may not mount it. Bind
                // the host's /sys instead, as runc does.
                Err(e) if fstype == "sysfs" && e.errno == nix::errno::Errno::EPERM => {
                    bind(root, m, Path::new("/sys"), true, None)?;
                }
                other => other?,
            }
        }
    }
    propagate(root, &m.destination, &m.propagation)
}

fn bind(
    root: &RootDir,
    m: &Mount,
    source: &Path,
    recursive: bool,
    tree: Option<BorrowedFd<'_>>,
) -> SysResult<()> {
    let shown = root.display(&m.destination);
    let meta = match tree {
        Some(fd) => nix::sys::stat::fstat(fd).map(|st| st.st_mode),
        None => nix::sys::stat::stat(source).map(|st| st.st_mode),
    };
    let create = match meta {
        Ok(mode) if mode & libc::S_IFMT != libc::S_IFDIR => Create::File,
        _ => Create::Dir,
    };
    let target = root.resolve(&m.destination, create)?;
    if let Some(tree) = tree {
        super::detached::attach(tree, target.as_fd(), &shown)?;
    } else {
        let rec = if recursive { libc::MS_REC } else { 0 };
        mount(
            Some(source),
            &fd_path(&target),
            None,
            libc::MS_BIND | rec,
            Some(&m.data),
            &shown,
        )?;
    }
    if m.flags & REMOUNT_FLAGS != 0 {
        // The fd above is the directory under the new mount; look the path
        // up again to reach the mount itself.
        let mounted = root.resolve(&m.destination, Create::Nothing)?;
        remount(&mounted, m.flags & REMOUNT_FLAGS, &shown)?;
    }
    Ok(())
}

/// What the target of a new filesystem is before the mount: refuses a
/// `proc` or `sysfs` target that is a symlink or not a directory (runc:
/// "must be mounted on ordinary directory"; following the link would mount
/// them wherever the image points), and returns the mode of an existing
/// target (a tmpfs without `mode=` keeps it, as with runc).
fn check_target(root: &RootDir, m: &Mount, fstype: &str) -> SysResult<Option<u32>> {
    let mode = root.lstat_mode(&m.destination)?;
    let is_dir = mode.is_some_and(|mode| mode & libc::S_IFMT == libc::S_IFDIR);
    if (fstype == "proc" || fstype == "sysfs") && mode.is_some() && !is_dir {
        return Err(SysError::at(
            "refuse to mount proc/sysfs over symlink or non-directory",
            root.display(&m.destination),
            nix::errno::Errno::ENOTDIR,
        ));
    }
    if fstype != "tmpfs" || m.data.split(',').any(|o| o.starts_with("mode=")) {
        return Ok(None);
    }
    // A symlink to a directory counts (runc stats through it, in the root).
    Ok(match root.resolve(&m.destination, Create::Nothing) {
        Ok(fd) => nix::sys::stat::fstat(fd.as_fd())
            .ok()
            .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
            .map(|st| st.st_mode & 0o7777),
        Err(_) => None,
    })
}

/// Flags applied after the mount rather than with it: a read-only tmpfs is
/// mounted writable so that its mode can be set, and a read-only `/dev` so
/// that devices, symlinks and the console can be made in it (runc does the
/// same; [`finish_readonly_dev`] applies it at the end).
fn delayed_flags(m: &Mount, fstype: &str) -> u64 {
    if fstype == "tmpfs" || m.destination == Path::new("/dev") {
        libc::MS_RDONLY
    } else {
        0
    }
}

/// A new tmpfs: the mode of the directory it covers (when it existed and
/// `mode=` was not given), then `ro` unless it is `/dev`.
fn finish_tmpfs(root: &RootDir, m: &Mount, before: Option<u32>) -> SysResult<()> {
    let shown = root.display(&m.destination);
    let mounted = root.resolve(&m.destination, Create::Nothing)?;
    if let Some(mode) = before {
        nix::sys::stat::fchmodat(
            nix::fcntl::AT_FDCWD,
            &fd_path(&mounted),
            nix::sys::stat::Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(|errno| SysError::at("chmod", &shown, errno))?;
    }
    if m.flags & libc::MS_RDONLY != 0 && m.destination != Path::new("/dev") {
        remount(&mounted, m.flags & REMOUNT_FLAGS, &shown)?;
    }
    Ok(())
}

/// After the rest of the setup: makes a read-only `/dev` filesystem
/// read-only (see [`delayed_flags`]). Nothing for other mounts.
pub fn finish_readonly_dev(root: &RootDir, m: &Mount) -> SysResult<()> {
    let is_dev_fs =
        matches!(m.kind, MountKind::Filesystem { .. }) && m.destination == Path::new("/dev");
    if !is_dev_fs || m.flags & libc::MS_RDONLY == 0 {
        return Ok(());
    }
    let mounted = root.resolve(&m.destination, Create::Nothing)?;
    remount(
        &mounted,
        m.flags & REMOUNT_FLAGS,
        &root.display(&m.destination),
    )
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
