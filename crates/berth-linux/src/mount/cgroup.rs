//! A `cgroup` entry in `mounts`: what runc mounts at `/sys/fs/cgroup`.
//!
//! On a cgroup v2 host this is a cgroup2 mount. On a v1 or hybrid host a
//! fresh `cgroup` mount without options would try to bind every controller
//! into one hierarchy and fail, so, like runc (`mountCgroupV1`), berth
//! mounts a tmpfs and binds each host v1 hierarchy's cgroup of the
//! container into it. In a user namespace without a cgroup namespace a
//! cgroup2 mount is refused, and the host's cgroup2 tree is bind-mounted.
//! Every mount is made detached and attached from fds, as in `apply.rs`.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use berth_spec::plan::Mount;

use super::apply::set_flags;
use super::detached::{attach, clone_tree, set_attr};
use super::flags::{fresh_attrs, params, readonly_attr, Param};
use super::fscontext::{new_mount, Error, Fresh};
use super::resolve::{Create, RootDir};
use crate::error::{Op, SysError, SysResult};

/// One v1 hierarchy the container sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Directory name under the cgroup mount, e.g. `cpu,cpuacct` or `systemd`.
    pub name: String,
    /// The host directory of the container's cgroup in this hierarchy.
    pub source: PathBuf,
}

/// How cgroups look on this host, as far as mounting them goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CgroupLayout {
    /// `/sys/fs/cgroup` is a cgroup2 mount.
    #[default]
    Unified,
    /// v1 (or hybrid) hierarchies.
    V1(Vec<Hierarchy>),
}

impl CgroupLayout {
    /// The host's layout and the calling process's cgroups, from the text
    /// of `/proc/self/mountinfo` and `/proc/self/cgroup`.
    pub fn parse(mountinfo: &str, cgroups: &str) -> Self {
        let mut v1 = Vec::new();
        let mut seen = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let mut right = right.split_whitespace();
            let (fstype, super_opts) = (right.next(), right.nth(1).unwrap_or(""));
            let mut left = left.split_whitespace();
            let (Some(root), Some(mountpoint)) = (left.nth(3), left.next()) else {
                continue;
            };
            match fstype {
                Some("cgroup2") if mountpoint == "/sys/fs/cgroup" => return CgroupLayout::Unified,
                // Only a hierarchy's own mount, once: a container without a
                // mount namespace puts binds of its cgroups (root = its
                // cgroup, under its rootfs) in this very table while it
                // lives, and they must not be taken for the host's.
                Some("cgroup") if root == "/" && !seen.contains(&super_opts) => {
                    seen.push(super_opts);
                    if let Some(h) = hierarchy(mountpoint, super_opts, cgroups) {
                        v1.push(h);
                    }
                }
                _ => {}
            }
        }
        CgroupLayout::V1(v1)
    }
}

/// The hierarchy mounted at `mountpoint` with these super options, and the
/// process's cgroup in it.
fn hierarchy(mountpoint: &str, super_opts: &str, cgroups: &str) -> Option<Hierarchy> {
    let opts: Vec<&str> = super_opts.split(',').collect();
    let name = Path::new(mountpoint).file_name()?.to_str()?.to_string();
    // Each controller (or name=) lives in exactly one hierarchy, so the
    // /proc/self/cgroup line whose controllers are all among this mount's
    // options is this hierarchy's.
    let own = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        (!list.is_empty() && list.split(',').all(|c| opts.contains(&c))).then(|| path.to_string())
    })?;
    let source = Path::new(mountpoint).join(own.trim_start_matches('/'));
    Some(Hierarchy { name, source })
}

/// Mounts the `cgroup` entry `m` under `root`; returns the fd of the
/// mount made at its destination.
pub(super) fn mount_v1_or_v2(
    root: &RootDir,
    m: &Mount,
    layout: &CgroupLayout,
) -> Result<OwnedFd, Error> {
    let shown = root.display(&m.destination);
    let target = root.resolve(&m.destination, Create::Dir)?;
    let hierarchies = match layout {
        CgroupLayout::Unified => return mount_v2(m, &target, &shown),
        CgroupLayout::V1(h) => h,
    };
    let tmpfs_flags = m.flags & !libc::MS_RDONLY;
    let fresh = Fresh {
        fstype: "tmpfs",
        source: "tmpfs",
        flags: tmpfs_flags,
        params: vec![Param::Str("mode", "755")],
        attrs: fresh_attrs(tmpfs_flags),
    };
    let tmpfs = new_mount(&fresh, &shown)?;
    attach(tmpfs.as_fd(), target.as_fd(), &shown)?;
    // Everything below is reached from the tmpfs's own fd, not by path.
    for h in hierarchies {
        let shown = root.display(&m.destination.join(&h.name));
        let sub = subdir(&tmpfs, &h.name, &shown)?;
        let tree = clone_tree(&h.source, true)?;
        let flags = m.flags | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        set_flags(tree.as_fd(), flags, &shown)?;
        attach(tree.as_fd(), sub.as_fd(), &shown)?;
        comount_links(&tmpfs, &h.name, &shown)?;
    }
    if m.flags & libc::MS_RDONLY != 0 {
        set_attr(tmpfs.as_fd(), readonly_attr(), false, &shown)?;
    }
    Ok(tmpfs)
}

/// The directory `name` in the tmpfs open at `dir`, made if missing.
fn subdir(dir: &OwnedFd, name: &str, shown: &Path) -> SysResult<OwnedFd> {
    match nix::sys::stat::mkdirat(dir.as_fd(), name, Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(errno) => return Err(SysError::at("mkdir", shown, errno)),
    }
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    nix::fcntl::openat(dir.as_fd(), name, flags, Mode::empty()).op_at("open", shown)
}

/// A cgroup2 mount at `target`. In a user namespace without its own cgroup
/// namespace the kernel refuses it (EPERM, EBUSY if already mounted): then,
/// as runc 1.1 does (`mountCgroupV2`), bind the host's `/sys/fs/cgroup`
/// and apply the entry's flags (read-only) to the bind before attaching.
fn mount_v2(m: &Mount, target: &OwnedFd, shown: &Path) -> Result<OwnedFd, Error> {
    let fresh = Fresh {
        fstype: "cgroup2",
        source: "cgroup2",
        flags: m.flags,
        params: params(&m.data),
        attrs: fresh_attrs(m.flags),
    };
    let mnt = match new_mount(&fresh, shown) {
        Err(e) if matches!(e.errno(), Errno::EPERM | Errno::EBUSY) => {
            let tree = clone_tree(Path::new("/sys/fs/cgroup"), true)?;
            set_flags(tree.as_fd(), m.flags, shown)?;
            tree
        }
        other => other?,
    };
    attach(mnt.as_fd(), target.as_fd(), shown)?;
    Ok(mnt)
}

/// For a co-mounted hierarchy such as `cpu,cpuacct`, the `cpu` and
/// `cpuacct` symlinks next to it in the tmpfs open at `dir`, as on the host.
fn comount_links(dir: &OwnedFd, name: &str, shown: &Path) -> SysResult<()> {
    if !name.contains(',') {
        return Ok(());
    }
    for link in name.split(',') {
        match nix::unistd::symlinkat(name, dir.as_fd(), link) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(errno) => return Err(SysError::at("symlink", shown.with_file_name(link), errno)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw
32 25 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 25 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 25 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
35 25 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host_lists_v1_hierarchies_with_own_cgroup() {
        let cgroups = "4:memory:/a/b\n1:cpu:/\n9:name=systemd:/\n0::/\n";
        let CgroupLayout::V1(h) = CgroupLayout::parse(MOUNTINFO, cgroups) else {
            panic!("v1 expected")
        };
        let got: Vec<(&str, &Path)> = h
            .iter()
            .map(|h| (h.name.as_str(), h.source.as_path()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("cpu", Path::new("/sys/fs/cgroup/cpu")),
                ("memory", Path::new("/sys/fs/cgroup/memory/a/b")),
                ("systemd", Path::new("/sys/fs/cgroup/systemd")),
            ]
        );
    }

    #[test]
    fn comounted_hierarchy_matches_its_line() {
        let info = "36 25 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let CgroupLayout::V1(h) = CgroupLayout::parse(info, "2:cpu,cpuacct:/c\n") else {
            panic!("v1 expected")
        };
        assert_eq!(
            h,
            vec![Hierarchy {
                name: "cpu,cpuacct".into(),
                source: "/sys/fs/cgroup/cpu,cpuacct/c".into()
            }]
        );
    }

    #[test]
    fn binds_of_a_hierarchy_are_not_hierarchies() {
        let info = "36 25 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            90 80 0:32 /a/b /tmp/b/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            91 80 0:32 / /tmp/c/rootfs/sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let CgroupLayout::V1(h) = CgroupLayout::parse(info, "4:memory:/a/b\n") else {
            panic!("not v1");
        };
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].source, Path::new("/sys/fs/cgroup/memory/a/b"));
    }

    #[test]
    fn unified_host_is_detected() {
        let info = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(CgroupLayout::parse(info, "0::/\n"), CgroupLayout::Unified);
    }
}
