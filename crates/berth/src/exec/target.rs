//! The container `exec` enters, seen from the host: its init (pinned by a
//! pidfd), the namespaces it is in, its root, and its cgroups.

use std::os::fd::OwnedFd;
use std::path::{Component, Path};

use anyhow::{bail, Context};
use berth_linux::cgroup_member::{self, Membership};
use berth_linux::{namespace, pidfd, proc};
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::state::Record;

/// What the exec child joins.
#[derive(Debug)]
pub struct Target {
    /// The container's init.
    pub pidfd: OwnedFd,
    /// The `CLONE_NEW*` flags of init's namespaces that are not ours.
    pub ns_flags: u64,
    /// init's root directory (`/proc/<pid>/root`).
    pub root: OwnedFd,
    /// init's cgroups, with `--cgroup` sub-cgroups applied.
    pub cgroups: Vec<Membership>,
    /// Whether setgroups(2) is allowed in init's user namespace.
    pub setgroups_allowed: bool,
}

/// The error of an exec into a container whose init is gone.
pub fn stopped(id: &str) -> anyhow::Error {
    anyhow::anyhow!("cannot exec in container {id}: it is stopped")
}

/// `err`, or [`stopped`] when the container's init has ended meanwhile:
/// then the failure (`/proc/<pid>/root` gone, setns ESRCH…) means that,
/// not the system call that noticed it.
pub fn stopped_or(record: &Record, err: anyhow::Error) -> anyhow::Error {
    match proc::has_ended(Pid::from_raw(record.pid), record.start_time) {
        true => stopped(&record.id),
        false => err,
    }
}

/// Pins the container's init and reads what the child must join.
/// `sub_cgroups` are `--cgroup` values (`[controller:]path`).
pub fn open_target(record: &Record, sub_cgroups: &[String]) -> anyhow::Result<Target> {
    let pid = Pid::from_raw(record.pid);
    let pidfd = pidfd::open(pid).map_err(|_| stopped(&record.id))?;
    // Only now that the pidfd pins it is the start time worth checking.
    if !proc::is_same_live_process(pid, record.start_time)? {
        return Err(stopped(&record.id));
    }
    read_target(pid, pidfd, sub_cgroups).map_err(|err| stopped_or(record, err))
}

/// What `/proc/<pid>` says the child joins.
fn read_target(pid: Pid, pidfd: OwnedFd, sub_cgroups: &[String]) -> anyhow::Result<Target> {
    let root_path = format!("/proc/{pid}/root");
    let root = open(
        root_path.as_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open {root_path}"))?;
    let setgroups = std::fs::read_to_string(format!("/proc/{pid}/setgroups")).unwrap_or_default();
    let mut cgroups = cgroup_member::of(pid)?;
    for spec in sub_cgroups {
        apply_sub_cgroup(&mut cgroups, spec)?;
    }
    Ok(Target {
        pidfd,
        ns_flags: namespace::differing(pid)?,
        root,
        cgroups,
        setgroups_allowed: setgroups.trim() != "deny",
    })
}

/// Whether any of the container's cgroups is frozen.
pub fn is_paused(target: &Target) -> bool {
    target.cgroups.iter().any(cgroup_member::is_frozen)
}

/// `--cgroup [controller:]path`: an existing sub-cgroup of the container's,
/// in every hierarchy, or in the one(s) with that controller.
fn apply_sub_cgroup(cgroups: &mut [Membership], spec: &str) -> anyhow::Result<()> {
    let (controller, sub) = match spec.split_once(':') {
        Some((c, p)) => (Some(c), p),
        None => (None, spec),
    };
    let inner = Path::new(sub.trim_start_matches('/'));
    if sub.is_empty()
        || inner
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        bail!("--cgroup {spec:?}: the path must name a sub-cgroup, without \"..\"");
    }
    let mut found = false;
    for m in cgroups.iter_mut() {
        let matches = match controller {
            None => true,
            Some(c) => m.has_controller(c) || (m.is_unified() && c.is_empty()),
        };
        if !matches {
            continue;
        }
        let dir = m.dir.join(inner);
        if !dir.is_dir() {
            bail!("--cgroup {spec:?}: {} does not exist", dir.display());
        }
        m.dir = dir;
        found = true;
    }
    if !found {
        bail!("--cgroup {spec:?}: the container has no cgroup with that controller");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_cgroups_must_exist_and_stay_below() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("mem/sub")).expect("mkdir");
        std::fs::create_dir_all(tmp.path().join("uni")).expect("mkdir");
        let mut cgroups = vec![
            Membership {
                controllers: "memory".into(),
                dir: tmp.path().join("mem"),
            },
            Membership {
                controllers: String::new(),
                dir: tmp.path().join("uni"),
            },
        ];
        apply_sub_cgroup(&mut cgroups, "memory:sub").expect("exists");
        assert_eq!(cgroups[0].dir, tmp.path().join("mem/sub"));
        assert_eq!(
            cgroups[1].dir,
            tmp.path().join("uni"),
            "other hierarchy untouched"
        );
        let err = apply_sub_cgroup(&mut cgroups, "nope").expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = apply_sub_cgroup(&mut cgroups, "memory:../x").expect_err("escape");
        assert!(err.to_string().contains("without \"..\""), "{err}");
        let err = apply_sub_cgroup(&mut cgroups, "pids:sub").expect_err("no pids");
        assert!(err.to_string().contains("no cgroup with that"), "{err}");
    }
}
