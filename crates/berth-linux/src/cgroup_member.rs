//! Which cgroups a process is in, as host directories, and joining them:
//! what `exec` needs to put its process where the container's init is.
//!
//! `/proc/<pid>/cgroup` has one line per hierarchy, `ID:CONTROLLERS:PATH`
//! (`0::PATH` for the unified one), with paths relative to the reader's
//! cgroup namespace; `/proc/self/mountinfo` says where each hierarchy is
//! mounted. Both are parsed as text so the mapping is unit-tested without
//! touching the host.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::error::{Op, SysResult};

/// A process's cgroup in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The controllers of a v1 hierarchy as listed (`cpu,cpuacct`,
    /// `name=systemd`); empty for the unified (v2) hierarchy.
    pub controllers: String,
    /// The cgroup's directory on the host.
    pub dir: PathBuf,
}

impl Membership {
    /// Whether this is the unified (cgroup v2) hierarchy.
    pub fn is_unified(&self) -> bool {
        self.controllers.is_empty()
    }

    /// Whether `name` (`memory`, `name=systemd`) is one of its controllers.
    pub fn has_controller(&self, name: &str) -> bool {
        self.controllers.split(',').any(|c| c == name)
    }
}

/// The cgroups of `pid`, each as a directory under this process's view of
/// the cgroup mounts. Hierarchies that are not mounted are left out.
pub fn of(pid: Pid) -> SysResult<Vec<Membership>> {
    of_file(PathBuf::from(format!("/proc/{pid}/cgroup")))
}

fn of_file(cgroup_path: PathBuf) -> SysResult<Vec<Membership>> {
    let cgroups = std::fs::read_to_string(&cgroup_path).op_at("read", &cgroup_path)?;
    let mountinfo_path = Path::new("/proc/self/mountinfo");
    let mountinfo = std::fs::read_to_string(mountinfo_path).op_at("read", mountinfo_path)?;
    Ok(parse(&mountinfo, &cgroups))
}

/// [`of`] on given file contents.
pub fn parse(mountinfo: &str, cgroups: &str) -> Vec<Membership> {
    let mounts = cgroup_mounts(mountinfo);
    cgroups
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let (mountpoint, root) = mounts.iter().find_map(|(fstype, opts, mp, root)| {
                let fits = if controllers.is_empty() {
                    *fstype == "cgroup2"
                } else {
                    *fstype == "cgroup"
                        && controllers
                            .split(',')
                            .all(|c| opts.split(',').any(|o| o == c))
                };
                fits.then_some((*mp, *root))
            })?;
            // A mount of a sub-tree (mount root not "/") shows only what
            // lies below its root.
            let inner = Path::new(path).strip_prefix(root).ok()?;
            Some(Membership {
                controllers: controllers.to_string(),
                dir: Path::new(mountpoint).join(inner),
            })
        })
        .collect()
}

/// (fstype, super options, mount point, root) of each cgroup mount.
fn cgroup_mounts(mountinfo: &str) -> Vec<(&str, &str, &str, &str)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mut left = left.split_whitespace();
            let root = left.nth(3)?;
            let mountpoint = left.next()?;
            let mut right = right.split_whitespace();
            let fstype = right.next()?;
            let opts = right.nth(1).unwrap_or("");
            matches!(fstype, "cgroup" | "cgroup2").then_some((fstype, opts, mountpoint, root))
        })
        .collect()
}

/// Moves process `pid` into the cgroup at `dir` (writes `cgroup.procs`).
pub fn join(dir: &Path, pid: Pid) -> SysResult<()> {
    let procs = dir.join("cgroup.procs");
    std::fs::write(&procs, pid.to_string()).op_at("write", &procs)
}

/// Moves the calling thread, alone, into the v1 cgroup at `dir` (writes
/// `0` to `tasks`). Unlike a pid written to `cgroup.procs`, this spares
/// the kernel's global threadgroup lock and the RCU grace period it
/// waits for (5 to 12 ms on the test machines): a thread that visits the
/// container's cgroups and clones there gives a child born in them.
pub fn move_this_thread(dir: &Path) -> SysResult<()> {
    let tasks = dir.join("tasks");
    std::fs::write(&tasks, "0").op_at("write", &tasks)
}

/// Opens the cgroup directory at `dir`, for `CLONE_INTO_CGROUP`.
pub fn open_dir(dir: &Path) -> SysResult<OwnedFd> {
    open(
        dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .op_at("open", dir)
}

/// Whether the cgroup is frozen: `freezer.state` is `FROZEN` (or
/// `FREEZING`) in a v1 freezer hierarchy, or `cgroup.freeze` is 1 in the
/// unified one. A missing file means not frozen.
pub fn is_frozen(m: &Membership) -> bool {
    let read = |name: &str| std::fs::read_to_string(m.dir.join(name)).unwrap_or_default();
    if m.is_unified() {
        read("cgroup.freeze").trim() == "1"
    } else if m.has_controller("freezer") {
        matches!(read("freezer.state").trim(), "FROZEN" | "FREEZING")
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 1 0:22 / /sys rw - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 /sub /mnt/freezer rw - cgroup cgroup rw,freezer
";

    #[test]
    fn hybrid_host_maps_every_hierarchy_to_its_mount() {
        let cgroups = "\
5:freezer:/sub/c1
4:name=systemd:/
3:cpu,cpuacct:/a/c1
2:memory:/a/c1
1:blkio:/a/c1
0::/a/c1
";
        let got = parse(MOUNTINFO, cgroups);
        let dirs: Vec<(&str, &Path)> = got
            .iter()
            .map(|m| (m.controllers.as_str(), m.dir.as_path()))
            .collect();
        assert_eq!(
            dirs,
            [
                ("freezer", Path::new("/mnt/freezer/c1")),
                ("name=systemd", Path::new("/sys/fs/cgroup/systemd")),
                ("cpu,cpuacct", Path::new("/sys/fs/cgroup/cpu,cpuacct/a/c1")),
                ("memory", Path::new("/sys/fs/cgroup/memory/a/c1")),
                ("", Path::new("/sys/fs/cgroup/unified/a/c1")),
            ],
            "blkio is not mounted, so it is left out"
        );
        assert!(got[4].is_unified() && got[2].has_controller("cpuacct"));
    }

    #[test]
    fn frozen_is_read_from_the_freezer_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v1 = Membership {
            controllers: "freezer".into(),
            dir: dir.path().to_path_buf(),
        };
        let v2 = Membership {
            controllers: String::new(),
            dir: dir.path().to_path_buf(),
        };
        assert!(!is_frozen(&v1) && !is_frozen(&v2), "no files: not frozen");
        std::fs::write(dir.path().join("freezer.state"), "FROZEN\n").expect("write");
        std::fs::write(dir.path().join("cgroup.freeze"), "1\n").expect("write");
        assert!(is_frozen(&v1) && is_frozen(&v2));
        std::fs::write(dir.path().join("freezer.state"), "THAWED\n").expect("write");
        assert!(!is_frozen(&v1));
    }
}
