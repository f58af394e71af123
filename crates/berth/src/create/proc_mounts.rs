//! What may be mounted on `/proc` and `/sys` (runc `checkProcMount`).
//!
//! init's later steps trust that `/proc` is a procfs and `/sys` a sysfs:
//! masked paths, read-only paths and the kernel's own files live there. A
//! `mounts` entry that puts anything else on them (a tmpfs, or a bind of a
//! directory whose `self/fd/*` are symlinks to a decoy) could turn those
//! steps into no-ops (CVE-2019-16884, CVE-2025-52881), so it is refused:
//! - `/proc`: only a new `proc` filesystem;
//! - below `/proc`: only a bind of a file that is itself on procfs, or of
//!   one of the files lxcfs emulates (runc's list);
//! - `/sys`: a new `sysfs`, or a bind of a directory on sysfs.

use std::path::Path;

use anyhow::bail;
use berth_spec::plan::{Mount, MountKind, Plan};
use nix::sys::statfs::{statfs, FsType, PROC_SUPER_MAGIC, SYSFS_MAGIC};

/// The files below `/proc` that may be bind-mounted from elsewhere:
/// those lxcfs emulates (runc `validProcMounts`).
const LXCFS_FILES: [&str; 10] = [
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
];

/// Checks every entry of `mounts`.
pub fn check(plan: &Plan) -> anyhow::Result<()> {
    let fs_of = |p: &Path| statfs(p).ok().map(|s| s.filesystem_type());
    for (i, m) in plan.mounts.iter().enumerate() {
        check_one(m, &fs_of)
            .map_err(|e| anyhow::anyhow!("mounts[{i}] {}: {e}", m.destination.display()))?;
    }
    Ok(())
}

/// One entry; `fs_of` says which filesystem a host path is on.
fn check_one(m: &Mount, fs_of: &dyn Fn(&Path) -> Option<FsType>) -> anyhow::Result<()> {
    let dst = m.destination.as_path();
    let (fstype, bind_source) = match &m.kind {
        MountKind::Filesystem { fstype, .. } => (fstype.as_str(), None),
        MountKind::Bind { source, .. } => ("bind", Some(source.as_path())),
    };
    let bind_on = |magic: FsType| bind_source.is_some_and(|s| fs_of(s) == Some(magic));
    if dst == Path::new("/proc") {
        if fstype != "proc" {
            bail!("only a new proc filesystem may be mounted on /proc, not {fstype}");
        }
    } else if dst.starts_with("/proc") {
        let listed = LXCFS_FILES.iter().any(|f| dst == Path::new(f));
        if !(listed && bind_source.is_some() || bind_on(PROC_SUPER_MAGIC)) {
            bail!("nothing may be mounted inside /proc but a bind of a procfs file or of a file lxcfs emulates");
        }
    } else if dst == Path::new("/sys") && fstype != "sysfs" && !bind_on(SYSFS_MAGIC) {
        bail!("only sysfs may be mounted on /sys, not {fstype}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fs(dst: &str, fstype: &str) -> Mount {
        Mount {
            destination: dst.into(),
            kind: MountKind::Filesystem {
                fstype: fstype.into(),
                source: fstype.into(),
            },
            flags: 0,
            propagation: vec![],
            data: String::new(),
            recursive_attrs: Default::default(),
        }
    }

    fn bind(dst: &str, src: &str) -> Mount {
        Mount {
            kind: MountKind::Bind {
                source: PathBuf::from(src),
                recursive: true,
            },
            ..fs(dst, "bind")
        }
    }

    /// Host paths under /hostproc are "on procfs", under /hostsys "on sysfs".
    fn fake_fs(p: &Path) -> Option<FsType> {
        if p.starts_with("/hostproc") {
            Some(PROC_SUPER_MAGIC)
        } else if p.starts_with("/hostsys") {
            Some(SYSFS_MAGIC)
        } else {
            None
        }
    }

    #[test]
    fn proc_and_sys_take_only_their_filesystems() {
        let ok = [
            fs("/proc", "proc"),
            fs("/sys", "sysfs"),
            bind("/sys", "/hostsys"),
            bind("/proc/sys/kernel/ns_last_pid", "/var/lib/lxcfs/x"),
            bind("/proc/meminfo", "/var/lib/lxcfs/proc/meminfo"),
            bind("/proc/1/status", "/hostproc/1/status"),
            fs("/dev", "tmpfs"),
            bind("/procfoo", "/tmp/x"),
        ];
        for m in &ok {
            assert!(check_one(m, &fake_fs).is_ok(), "{m:?}");
        }
        let refused = [
            fs("/proc", "tmpfs"),
            bind("/proc", "/tmp/fakeproc"),
            bind("/proc", "/hostproc"),
            fs("/proc/sys", "tmpfs"),
            bind("/proc/self", "/tmp/decoy"),
            fs("/sys", "tmpfs"),
            bind("/sys", "/tmp/fakesys"),
        ];
        for m in &refused {
            assert!(check_one(m, &fake_fs).is_err(), "{m:?}");
        }
    }
}
