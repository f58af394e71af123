//! Moving the calling thread itself into a container's v1 cgroups, so
//! that the process it clones is born there.
//!
//! Writing a pid to `cgroup.procs` (or to `tasks`) makes the kernel take
//! its global `cgroup_threadgroup_rwsem` for writing, and that waits for
//! an RCU grace period: 5 to 12 ms on the 2-CPU test machines, more than
//! everything else `berth run` does (see docs/performance.md). A thread
//! that writes `0` to a v1 `tasks` file moves only itself, and the kernel
//! skips that lock for it (`cgroup_procs_write_start`): the same nine
//! hierarchies take about 0.15 ms. The thread then clones init, which
//! inherits the thread's cgroups, and goes home the same way.
//!
//! The v2 hierarchy has no such file (a thread of a domain cgroup cannot
//! move alone); `CLONE_INTO_CGROUP` places the child there instead.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fs;
use crate::layout::Layout;
use crate::path::{self, OwnCgroups};
use crate::resources::Write;
use crate::Manager;

/// The calling thread, moved into the container's v1 cgroups; it goes
/// back to its own with [`Visit::leave`] (or, failing that, on drop).
#[derive(Debug)]
pub struct Visit {
    /// The thread's own cgroup in each hierarchy it left.
    home: Vec<PathBuf>,
}

impl Manager {
    /// Moves the calling thread into the container's cgroup in every v1
    /// hierarchy. `own` is the thread's `/proc/thread-self/cgroup`.
    /// `None` when there is no v1 hierarchy, or when the thread's own
    /// cgroup is not visible in one of them (a cgroup namespace): the
    /// caller then writes the child's pid instead.
    pub fn visit_v1(&self, own: &OwnCgroups) -> Result<Option<Visit>> {
        let Some(home) = homes(self.layout(), own) else {
            return Ok(None);
        };
        if home.is_empty() {
            return Ok(None);
        }
        let mut visit = Visit { home: Vec::new() };
        for ((_, dir), home) in self.dirs().v1.iter().zip(home) {
            move_self(dir)?;
            visit.home.push(home);
        }
        Ok(Some(visit))
    }
}

impl Visit {
    /// Moves the thread back into its own cgroups.
    pub fn leave(mut self) -> Result<()> {
        self.go_home()
    }

    fn go_home(&mut self) -> Result<()> {
        while let Some(home) = self.home.pop() {
            move_self(&home)?;
        }
        Ok(())
    }
}

impl Drop for Visit {
    fn drop(&mut self) {
        if let Err(e) = self.go_home() {
            tracing::warn!("leaving the container's cgroups: {e}");
        }
    }
}

/// The thread's own directory in each v1 hierarchy of `layout`, in layout
/// order; `None` if one is not visible under its mount.
fn homes(layout: &Layout, own: &OwnCgroups) -> Option<Vec<PathBuf>> {
    layout
        .v1
        .iter()
        .map(|m| {
            let mine = own.v1_path(&m.controllers)?;
            let dir = path::under(&m.mountpoint, &m.root, mine, "");
            dir.is_dir().then_some(dir)
        })
        .collect()
}

/// Moves the calling thread (alone) into the cgroup at `dir`.
fn move_self(dir: &Path) -> Result<()> {
    fs::write(
        dir,
        &Write {
            file: "tasks".into(),
            value: "0".into(),
            field: "linux.cgroupsPath".into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory and a cpu hierarchy mounted under `cg`.
    fn layout_in(cg: &Path) -> Layout {
        Layout::parse(&format!(
            "1 0 0:1 / {0}/memory rw - cgroup cgroup rw,memory\n\
             2 0 0:2 / {0}/cpu rw - cgroup cgroup rw,cpu\n",
            cg.display()
        ))
    }

    #[test]
    fn homes_follow_the_layout_and_need_every_hierarchy() {
        let tmp = tempfile::tempdir().unwrap();
        let cg = tmp.path();
        std::fs::create_dir_all(cg.join("memory/m/x")).unwrap();
        std::fs::create_dir_all(cg.join("cpu/c")).unwrap();
        let layout = layout_in(cg);
        let own = OwnCgroups::parse("4:memory:/m/x\n1:cpu:/c\n0::/\n");
        let got = homes(&layout, &own).unwrap();
        assert_eq!(got, vec![cg.join("memory/m/x"), cg.join("cpu/c")]);
        let elsewhere = OwnCgroups::parse("4:memory:/m/x\n1:cpu:/gone\n");
        assert_eq!(homes(&layout, &elsewhere), None);
    }

    #[test]
    fn visit_writes_zero_to_tasks_and_leave_goes_home() {
        let tmp = tempfile::tempdir().unwrap();
        let cg = tmp.path();
        for d in ["memory/home", "memory/ctr", "cpu/home", "cpu/ctr"] {
            std::fs::create_dir_all(cg.join(d)).unwrap();
            std::fs::write(cg.join(d).join("tasks"), "").unwrap();
        }
        let layout = layout_in(cg);
        let own = OwnCgroups::parse("4:memory:/home\n1:cpu:/home\n");
        let dirs = path::resolve(
            &layout,
            &OwnCgroups::parse("4:memory:/\n1:cpu:/\n"),
            Some("ctr"),
            "id",
        )
        .unwrap();
        let m = Manager::new(layout, dirs);
        let visit = m.visit_v1(&own).unwrap().expect("a visit");
        for h in ["memory", "cpu"] {
            assert_eq!(
                std::fs::read_to_string(cg.join(h).join("ctr/tasks")).unwrap(),
                "0"
            );
            assert_eq!(
                std::fs::read_to_string(cg.join(h).join("home/tasks")).unwrap(),
                ""
            );
        }
        visit.leave().unwrap();
        for h in ["memory", "cpu"] {
            assert_eq!(
                std::fs::read_to_string(cg.join(h).join("home/tasks")).unwrap(),
                "0"
            );
        }
    }
}
