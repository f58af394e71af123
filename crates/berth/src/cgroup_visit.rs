//! Cloning a process born in a container's v1 cgroups, for `create` and
//! `exec` alike: the calling thread moves itself, alone, into them (`0` to
//! each `tasks` file), clones, and goes home.
//!
//! A pid written to `cgroup.procs` makes the kernel take its global
//! `cgroup_threadgroup_rwsem` for writing, which waits for an RCU grace
//! period (5 to 12 ms on the test machines, more than the rest of a
//! `berth run`); a thread moving itself is spared that lock (0.15 ms for
//! nine hierarchies). See docs/architecture.md, *cgroups*. The v2
//! hierarchy has no such move: `CLONE_INTO_CGROUP` covers it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_linux::cgroup_member;

use crate::host_cgroups::HostCgroups;

/// What [`clone_inside`] did.
#[derive(Debug)]
pub struct Visit<T> {
    /// The clone, made inside the cgroups (an error if the thread could
    /// not enter them all or the clone failed there: clone from outside).
    pub cloned: anyhow::Result<T>,
    /// Whether the thread got home; if not, the caller must fail (and
    /// clean up what `cloned` made).
    pub left: anyhow::Result<()>,
}

/// Runs `clone` with the calling thread in the v1 cgroups at `dirs`.
/// `None`, with nothing done, when there are none, or when the thread's
/// own cgroups are not all visible (a cgroup namespace): it could not get
/// home then. The caller must not visit a frozen cgroup (the thread would
/// freeze with it).
pub fn clone_inside<T>(
    host: &HostCgroups,
    dirs: &[&Path],
    clone: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<Visit<T>>> {
    if dirs.is_empty() {
        return Ok(None);
    }
    let home: Vec<PathBuf> = host
        .this_thread()?
        .into_iter()
        .filter(|m| !m.is_unified())
        .map(|m| m.dir)
        .collect();
    if home.len() < dirs.len() || !home.iter().all(|d| d.is_dir()) {
        return Ok(None);
    }
    let entered = dirs
        .iter()
        .try_for_each(|d| cgroup_member::move_this_thread(d))
        .context("enter the container's cgroups");
    let cloned = entered.and_then(|()| clone());
    let left = home
        .iter()
        .try_for_each(|d| cgroup_member::move_this_thread(d))
        .context("leave the container's cgroups");
    Ok(Some(Visit { cloned, left }))
}
