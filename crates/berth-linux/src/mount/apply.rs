//! One `mounts[]` entry, built detached and attached from fds: the target
//! is resolved once inside the rootfs, the mount is made detached
//! (`open_tree` for a bind, `fsopen`/`fsmount` for a filesystem), given
//! its flags with `mount_setattr` before `move_mount` attaches it, and its
//! propagation is set afterwards through the same fd. The destination is
//! never looked up again by path (CVE-2021-30465: a concurrent writer to a
//! shared volume could swap a symlink in between).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_spec::plan::{Mount, MountKind};
use nix::errno::Errno;
use nix::sys::stat::fstat;

use super::detached::{attach, clone_tree, set_attr};
use super::flags::{self, fresh_attrs, has_param, params, propagation_attr, Param};
use super::fscontext::{new_mount, Error, Fresh};
use super::resolve::{fd_path, Create, RootDir};
use super::{cgroup, locked_flags, mount, CgroupLayout};
use crate::error::{io_errno, SysError, SysResult};

/// The per-mount flags a bind mount only gets from a remount.
const REMOUNT_FLAGS: u64 = libc::MS_RDONLY
    | libc::MS_NOSUID
    | libc::MS_NODEV
    | libc::MS_NOEXEC
    | libc::MS_NOATIME
    | libc::MS_NODIRATIME
    | libc::MS_RELATIME
    | libc::MS_STRICTATIME
    | libc::MS_NOSYMFOLLOW;

/// A read-only `/dev` filesystem, made read-only only once its devices,
/// symlinks and console exist (runc does the same): the fd of the mount
/// itself, so that no path is looked up for it later.
#[derive(Debug)]
pub struct DelayedReadonly {
    mnt: OwnedFd,
    shown: PathBuf,
}

impl DelayedReadonly {
    /// Makes the mount read-only.
    pub fn apply(self) -> SysResult<()> {
        set_attr(self.mnt.as_fd(), flags::readonly_attr(), false, &self.shown)
    }
}

/// Mounts `m` under `root`. `cgroups` describes the host hierarchies for a
/// `cgroup` filesystem entry; `tree`, when given, is the bind source
/// already opened as a detached mount tree ([`super::detached`]);
/// `label` is `linux.mountLabel` where SELinux is enabled (see
/// [`label_param`]).
pub fn mount_entry(
    root: &RootDir,
    m: &Mount,
    cgroups: &CgroupLayout,
    tree: Option<BorrowedFd<'_>>,
    label: Option<&str>,
) -> Result<Option<DelayedReadonly>, Error> {
    let shown = root.display(&m.destination);
    let (mnt, delayed) = match &m.kind {
        MountKind::Bind { source, recursive } => (bind(root, m, source, *recursive, tree)?, false),
        MountKind::Filesystem { fstype, .. } if fstype == "cgroup" => {
            (cgroup::mount_v1_or_v2(root, m, cgroups)?, false)
        }
        // A remount of what is already there, not a new mount: mount(2)
        // on the target, which is that mount's root.
        MountKind::Filesystem { fstype, source } if m.flags & libc::MS_REMOUNT != 0 => {
            if !m.recursive_attrs.is_empty() {
                let why = "recursive attributes (rro…) with remount";
                return Err(SysError::at(why, &shown, Errno::EINVAL).into());
            }
            return remount_legacy(root, m, fstype, source).map(|()| None);
        }
        MountKind::Filesystem { fstype, source } => filesystem(root, m, fstype, source, label)?,
    };
    set_recursive(mnt.as_fd(), m, &shown)?;
    propagate(mnt.as_fd(), &m.propagation, &shown)?;
    Ok(delayed.then_some(DelayedReadonly { mnt, shown }))
}

/// The entry's recursive attributes (`rro`, `rnosuid`…) on the mount and
/// everything below it, through the mount's own fd, as runc applies them
/// with `mount_setattr(AT_RECURSIVE)`.
fn set_recursive(mnt: BorrowedFd<'_>, m: &Mount, shown: &Path) -> SysResult<()> {
    let r = m.recursive_attrs;
    if r.is_empty() {
        return Ok(());
    }
    let attr = flags::Attr {
        set: r.set,
        clr: r.clear,
        propagation: 0,
    };
    set_attr(mnt, attr, true, shown)
}

/// A bind: the detached tree (given, or cloned from `source` now) gets
/// the entry's flags, then is attached. Returns the mount's fd.
fn bind(
    root: &RootDir,
    m: &Mount,
    source: &Path,
    recursive: bool,
    tree: Option<BorrowedFd<'_>>,
) -> SysResult<OwnedFd> {
    let shown = root.display(&m.destination);
    let tree = match tree {
        Some(fd) => fd
            .try_clone_to_owned()
            .map_err(|e| SysError::at("dup", &shown, io_errno(&e)))?,
        None => clone_tree(source, recursive)?,
    };
    let is_dir = fstat(tree.as_fd()).map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
    let create = if is_dir.unwrap_or(true) {
        Create::Dir
    } else {
        Create::File
    };
    let target = root.resolve(&m.destination, create)?;
    attach_bind(tree, m.flags, target.as_fd(), &shown)
}

/// Gives the detached `tree` the bind flags among `flags` and attaches it
/// on `target`; returns it (now the attached mount).
fn attach_bind(
    tree: OwnedFd,
    flags: u64,
    target: BorrowedFd<'_>,
    shown: &Path,
) -> SysResult<OwnedFd> {
    if flags & REMOUNT_FLAGS != 0 {
        set_flags(tree.as_fd(), flags & REMOUNT_FLAGS, shown)?;
    }
    attach(tree.as_fd(), target, shown)?;
    Ok(tree)
}

/// Gives the mount open at `mnt` exactly the per-mount `flags`, as a bind
/// remount would. In a user namespace, flags inherited from a more
/// privileged mount are locked and clearing them fails with EPERM; as runc
/// does, retry once keeping the flags the mount already has.
pub(super) fn set_flags(mnt: BorrowedFd<'_>, flags: u64, shown: &Path) -> SysResult<()> {
    match set_attr(mnt, flags::remount_attr(flags), false, shown) {
        Err(e) if e.errno == Errno::EPERM => {
            let have = nix::sys::statvfs::fstatvfs(mnt)
                .map_err(|errno| SysError::at("statvfs", shown, errno))?;
            let flags = flags | locked_flags(have.flags());
            set_attr(mnt, flags::remount_attr(flags), false, shown)
        }
        other => other,
    }
}

/// A new filesystem: made detached with its options and flags, given the
/// mode of the directory it covers (a tmpfs without `mode=`), attached.
/// Returns the mount's fd and whether its read-only flag waits (`/dev`).
fn filesystem(
    root: &RootDir,
    m: &Mount,
    fstype: &str,
    source: &str,
    label: Option<&str>,
) -> Result<(OwnedFd, bool), Error> {
    let shown = root.display(&m.destination);
    let (target, mode) = target(root, m, fstype)?;
    let delay_ro = m.destination == Path::new("/dev") && m.flags & libc::MS_RDONLY != 0;
    let flags = if delay_ro {
        m.flags & !libc::MS_RDONLY
    } else {
        m.flags
    };
    let mode = mode.map(|mode| format!("{mode:o}"));
    let mut fresh = Fresh {
        fstype,
        source,
        flags,
        params: params(&m.data),
        attrs: fresh_attrs(flags),
    };
    if let Some(mode) = &mode {
        fresh.params.push(Param::Str("mode", mode));
    }
    fresh.params.extend(label_param(fstype, label));
    let mnt = match new_mount(&fresh, &shown) {
        // sysfs belongs to a network namespace: a user namespace that does
        // not own the container's netns may not mount it. Bind the host's
        // /sys instead, as runc does.
        Err(e) if fstype == "sysfs" && e.errno() == Errno::EPERM => {
            let tree = clone_tree(Path::new("/sys"), true)?;
            return Ok((attach_bind(tree, m.flags, target.as_fd(), &shown)?, false));
        }
        other => other?,
    };
    attach(mnt.as_fd(), target.as_fd(), &shown)?;
    Ok((mnt, delay_ro))
}

/// `linux.mountLabel` as the SELinux `context=` option of a new
/// filesystem, as runc's `label.FormatMountLabel` adds it: every type but
/// proc, sysfs and cgroup, which keep the labels the policy gives them.
/// (runc relabels an mqueue mount afterwards instead; the option gives it
/// the same label without a path lookup.) One fsconfig parameter, so a
/// label's MCS categories (`s0:c1,c2`) need no quoting.
pub fn label_param<'a>(fstype: &str, label: Option<&'a str>) -> Option<Param<'a>> {
    let unlabelled = matches!(fstype, "proc" | "sysfs" | "cgroup" | "cgroup2");
    label
        .filter(|_| !unlabelled)
        .map(|l| Param::Str("context", l))
}

/// The target of a new filesystem, resolved once, and the mode it gives a
/// tmpfs without `mode=` (that of the directory it covers, when it
/// existed, as with runc). A `proc` or `sysfs` target must be a directory
/// itself, not a symlink (runc: "must be mounted on ordinary directory";
/// following the link would mount them wherever the image points).
fn target(root: &RootDir, m: &Mount, fstype: &str) -> SysResult<(OwnedFd, Option<u32>)> {
    let dest = &m.destination;
    if fstype == "proc" || fstype == "sysfs" {
        let fd = root.resolve_nofollow(dest, Create::Dir)?;
        let st = fstat(fd.as_fd()).map_err(|e| SysError::at("stat", root.display(dest), e))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(SysError::at(
                "refuse to mount proc/sysfs over symlink or non-directory",
                root.display(dest),
                Errno::ENOTDIR,
            ));
        }
        return Ok((fd, None));
    }
    let fd = match root.resolve(dest, Create::Nothing) {
        Err(e) if e.errno == Errno::ENOENT => return Ok((root.resolve(dest, Create::Dir)?, None)),
        other => other?,
    };
    if fstype != "tmpfs" || has_param(&m.data, "mode") {
        return Ok((fd, None));
    }
    // A symlink to a directory counts (runc stats through it, in the root).
    let mode = fstat(fd.as_fd())
        .ok()
        .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .map(|st| st.st_mode & 0o7777);
    Ok((fd, mode))
}

/// An entry with `remount`: mount(2) with its flags and data on the mount
/// the target resolves to (the root of the mount already there).
fn remount_legacy(root: &RootDir, m: &Mount, fstype: &str, source: &str) -> Result<(), Error> {
    let shown = root.display(&m.destination);
    let target = root.resolve(&m.destination, Create::Nothing)?;
    let here = fd_path(&target);
    let source = Some(Path::new(source));
    mount(source, &here, Some(fstype), m.flags, Some(&m.data), &shown)?;
    for &flag in &m.propagation {
        mount(None, &here, None, flag, None, &shown)?;
    }
    Ok(())
}

/// Applies each propagation flag in order on the mount open at `mnt`.
/// After attaching, not before: attaching below a shared mount makes the
/// new mount a peer, which would undo a `private` or `slave` set first.
pub(super) fn propagate(mnt: BorrowedFd<'_>, flags: &[u64], shown: &Path) -> SysResult<()> {
    flags.iter().try_for_each(|&flag| {
        let (attr, recursive) = propagation_attr(flag);
        set_attr(mnt, attr, recursive, shown)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mount_label_goes_to_new_filesystems_but_proc_sysfs_and_cgroup() {
        let label = Some("system_u:object_r:container_file_t:s0:c1,c2");
        for fstype in ["tmpfs", "devpts", "mqueue"] {
            assert_eq!(
                label_param(fstype, label),
                Some(Param::Str(
                    "context",
                    "system_u:object_r:container_file_t:s0:c1,c2"
                )),
                "{fstype}"
            );
        }
        for fstype in ["proc", "sysfs", "cgroup", "cgroup2"] {
            assert_eq!(label_param(fstype, label), None, "{fstype}");
        }
        assert_eq!(label_param("tmpfs", None), None);
    }
}
