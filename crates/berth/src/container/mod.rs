//! A container opened by id: its lock, its record, its status (with
//! `paused`, read from the freezer) and its cgroups. Commands are glue
//! over this; the transitions they may make are one table
//! ([`transition::check`]).

pub mod transition;

use std::path::Path;

use anyhow::Context;
use berth_cgroups::{Layout, Manager};
use berth_spec::state::Status;

use crate::state::{status, Locked, Record, Store};

/// A locked container.
#[derive(Debug)]
pub struct Container {
    /// Its directory, locked for the life of this value.
    pub locked: Locked,
    /// Its record.
    pub record: Record,
}

impl Container {
    /// Locks container `id` and reads its record.
    pub fn open(store: &Store, id: &str) -> anyhow::Result<Container> {
        let locked = store.lock(id)?;
        let record = locked.record()?;
        Ok(Container { locked, record })
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// Its status, `paused` included.
    pub fn status(&self) -> Status {
        derive(&self.record, &self.locked.fifo_path())
    }

    /// Its cgroups; `None` for a record written before berth managed
    /// cgroups.
    pub fn cgroup(&self) -> anyhow::Result<Option<Manager>> {
        cgroup_of(&self.record)
    }

    /// Freezes (`true`) or thaws it, after checking the transition.
    pub fn set_frozen(&self, frozen: bool) -> anyhow::Result<()> {
        let op = if frozen { "pause" } else { "resume" };
        transition::check(op, self.id(), self.status())?;
        let cgroup = self
            .cgroup()?
            .with_context(|| format!("container {}: it has no cgroup", self.id()))?;
        cgroup
            .freeze(frozen)
            .with_context(|| format!("container {}", self.id()))
    }

    /// Sends `signal` to every process in its cgroup (thawing a frozen
    /// container afterwards so a SIGKILL lands); none is no error.
    pub fn signal_all(&self, signal: i32) -> anyhow::Result<()> {
        let Some(cgroup) = self.cgroup()? else {
            return Ok(());
        };
        for pid in cgroup.pids()? {
            // A pid that has gone meanwhile is fine: it is what we wanted.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::try_from(signal).ok(),
            );
        }
        if signal == libc::SIGKILL && cgroup.is_frozen().unwrap_or(false) {
            cgroup.freeze(false)?;
        }
        Ok(())
    }

    /// SIGKILLs every process of the cgroup until it is empty (bounded),
    /// then removes it in every hierarchy.
    pub fn destroy_cgroup(&self) -> anyhow::Result<()> {
        let Some(cgroup) = self.cgroup()? else {
            return Ok(());
        };
        // Usually every process is gone, which one rmdir shows.
        if !cgroup.remove_if_unused() {
            for _ in 0..500 {
                if cgroup.pids()?.is_empty() {
                    break;
                }
                self.signal_all(libc::SIGKILL)?;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        cgroup
            .destroy()
            .with_context(|| format!("container {}", self.id()))
    }
}

/// The cgroups recorded in `record`, on this host's layout.
pub fn cgroup_of(record: &Record) -> anyhow::Result<Option<Manager>> {
    match &record.cgroups {
        Some(dirs) => Ok(Some(Manager::new(Layout::detect()?, dirs.clone()))),
        None => Ok(None),
    }
}

/// The status of `record` (exec fifo at `fifo`): the live process's
/// status, `paused` when its cgroup is frozen.
pub fn derive(record: &Record, fifo: &Path) -> Status {
    let status = status::derive(record, fifo);
    if !matches!(status, Status::Created | Status::Running) {
        return status;
    }
    match cgroup_of(record) {
        Ok(Some(cgroup)) if cgroup.is_frozen().unwrap_or(false) => Status::Paused,
        _ => status,
    }
}
