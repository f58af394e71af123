//! One container's cgroups: a directory in every hierarchy, each
//! resource written where its controller lives.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use berth_spec::resources::{DeviceRule, Resources};

use crate::error::{io, Error, Result};
use crate::fs;
use crate::layout::{Kind, Layout};
use crate::path::Dirs;
use crate::resources::{self, Insn, Version, Write};

/// Loads and attaches a `BPF_PROG_TYPE_CGROUP_DEVICE` program to a v2
/// cgroup directory (a system call: supplied by the caller, so this
/// crate stays free of `unsafe`).
pub trait DeviceFilter {
    /// Attaches `prog` to the cgroup at `dir`.
    fn attach(&self, dir: &Path, prog: &[Insn]) -> std::io::Result<()>;
}

/// A container's cgroups.
#[derive(Debug, Clone)]
pub struct Manager {
    layout: Layout,
    dirs: Dirs,
    /// The v2 hierarchy's controllers, read once when first needed.
    offered: OnceCell<Vec<String>>,
}

impl Manager {
    /// The manager of the cgroups at `dirs` on a host laid out as `layout`.
    pub fn new(layout: Layout, dirs: Dirs) -> Manager {
        Manager {
            layout,
            dirs,
            offered: OnceCell::new(),
        }
    }

    /// The host's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The container's directories.
    pub fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// Every directory, v1 ones first.
    pub fn all_dirs(&self) -> impl Iterator<Item = &Path> {
        let v1 = self.dirs.v1.iter().map(|(_, d)| d.as_path());
        v1.chain(self.dirs.unified.as_deref())
    }

    /// Where `controller` lives: its directory and the version of that
    /// hierarchy, or why the host cannot honour its fields.
    pub fn locate(&self, controller: &str) -> Result<(&Path, Version)> {
        if let Some(dir) = self
            .dirs
            .v1
            .iter()
            .find(|(c, _)| c.iter().any(|c| c == controller))
            .map(|(_, d)| d)
        {
            return Ok((dir, Version::V1));
        }
        let v2 = resources::v2_name(controller);
        match (&self.layout.unified, &self.dirs.unified) {
            (Some((mnt, _)), Some(dir)) if self.available(mnt)?.iter().any(|c| c == v2) => {
                Ok((dir, Version::V2))
            }
            _ => Err(Error::Unsupported {
                field: resources::field_of(controller).to_string(),
                reason: format!("the host has no {controller} cgroup controller"),
            }),
        }
    }

    /// The controllers the v2 hierarchy at `mnt` offers (its root's
    /// `cgroup.controllers`), read on first use: `create` asks for each
    /// resource.
    fn available(&self, mnt: &Path) -> Result<&[String]> {
        if let Some(have) = self.offered.get() {
            return Ok(have);
        }
        let text = fs::read(&mnt.join("cgroup.controllers"))?;
        let have = text.split_whitespace().map(str::to_string).collect();
        Ok(self.offered.get_or_init(|| have))
    }

    /// Makes the directories, then applies `r` and the device rules
    /// (`rules`: the config's `configured` rules, then the defaults). On
    /// error the caller removes what exists with [`Manager::destroy`].
    pub fn create(
        &self,
        r: &Resources,
        rules: &[DeviceRule],
        configured: usize,
        filter: &dyn DeviceFilter,
    ) -> Result<()> {
        self.check(r)?;
        for (ctrls, dir) in &self.dirs.v1 {
            let made = fs::mkdir_all(dir)?;
            if ctrls.iter().any(|c| c == "cpuset") {
                made.iter().try_for_each(|d| inherit_cpuset(d))?;
            }
        }
        if let (Some((mnt, _)), Some(dir)) = (&self.layout.unified, &self.dirs.unified) {
            fs::mkdir_all(dir)?;
            let wanted = self.v2_controllers(r)?;
            enable_controllers(mnt, dir, &wanted)?;
        }
        self.apply(r)?;
        self.apply_devices(rules, configured, filter)
    }

    /// Refuses what the layout cannot do before anything is made.
    fn check(&self, r: &Resources) -> Result<()> {
        for c in resources::CONTROLLERS {
            if !resources::writes(c, r, Version::V1)?.is_empty() {
                self.locate(c)?;
            }
        }
        if !r.unified.is_empty() && self.layout.unified.is_none() {
            return Err(Error::Unsupported {
                field: "linux.resources.unified".into(),
                reason: "the host has no cgroup v2 hierarchy".into(),
            });
        }
        Ok(())
    }

    /// The v2 controllers to enable on the way down: all the host has on
    /// a pure v2 host (as runc), else those `r` needs in v2.
    fn v2_controllers(&self, r: &Resources) -> Result<Vec<String>> {
        let Some((mnt, _)) = &self.layout.unified else {
            return Ok(Vec::new());
        };
        let have = self.available(mnt)?;
        if self.layout.kind() == Kind::V2 {
            return Ok(have.to_vec());
        }
        let mut wanted: Vec<String> = Vec::new();
        for c in resources::CONTROLLERS {
            let v2 = resources::v2_name(c).to_string();
            let used = !resources::writes(c, r, Version::V1)?.is_empty();
            if used && matches!(self.locate(c), Ok((_, Version::V2))) && !wanted.contains(&v2) {
                wanted.push(v2);
            }
        }
        for key in r.unified.keys() {
            if let Some((c, _)) = key.split_once('.') {
                if have.iter().any(|h| h == c) && !wanted.iter().any(|w| w == c) {
                    wanted.push(c.to_string());
                }
            }
        }
        Ok(wanted)
    }

    /// Writes every resource field of `r` (create and `update`).
    pub fn apply(&self, r: &Resources) -> Result<()> {
        for c in resources::CONTROLLERS {
            let (dir, v) = match self.locate(c) {
                Ok(found) => found,
                Err(e) if !resources::writes(c, r, Version::V1)?.is_empty() => return Err(e),
                Err(_) => continue,
            };
            for w in resources::writes(c, r, v)? {
                fs::write(dir, &w)?;
                if c == "hugetlb" && v == Version::V2 {
                    rsvd(dir, &w)?;
                }
            }
        }
        self.apply_unified(r)
    }

    /// `linux.resources.unified`: each key a file of the v2 cgroup.
    fn apply_unified(&self, r: &Resources) -> Result<()> {
        if r.unified.is_empty() {
            return Ok(());
        }
        let dir = self
            .dirs
            .unified
            .as_ref()
            .ok_or_else(|| Error::Unsupported {
                field: "linux.resources.unified".into(),
                reason: "the host has no cgroup v2 hierarchy".into(),
            })?;
        let mnt = self.layout.unified.as_ref().map(|(m, _)| m.as_path());
        let have = mnt
            .map(|m| self.available(m))
            .transpose()?
            .unwrap_or_default();
        for (key, value) in &r.unified {
            let field = format!("linux.resources.unified.{key}");
            let ctrl = key.split_once('.').map_or("", |(c, _)| c);
            if ctrl != "cgroup" && !ctrl.is_empty() && !have.iter().any(|h| h == ctrl) {
                return Err(Error::Unsupported {
                    field,
                    reason: format!("this host's cgroup v2 hierarchy has no {ctrl} controller"),
                });
            }
            if key.contains('/') || !key.contains('.') || !dir.join(key).is_file() {
                return Err(Error::Invalid {
                    field,
                    msg: format!(
                        "unknown cgroup v2 file {key:?} (or its controller is not enabled)"
                    ),
                });
            }
            let w = Write {
                file: key.clone(),
                value: value.clone(),
                field,
            };
            fs::write(dir, &w)?;
        }
        Ok(())
    }

    /// v1 `devices.deny`/`allow`, or the v2 eBPF program.
    fn apply_devices(
        &self,
        rules: &[DeviceRule],
        configured: usize,
        filter: &dyn DeviceFilter,
    ) -> Result<()> {
        match self.locate("devices") {
            Ok((dir, Version::V1)) => {
                let mut writer = fs::Writer::new(dir);
                resources::device_writes(rules, configured)
                    .iter()
                    .try_for_each(|w| writer.write(w))
            }
            _ => {
                let dir = self
                    .dirs
                    .unified
                    .as_ref()
                    .ok_or_else(|| Error::Unsupported {
                        field: "linux.resources.devices".into(),
                        reason: "the host has neither a devices cgroup nor cgroup v2".into(),
                    })?;
                let prog = resources::ebpf_program(rules);
                filter.attach(dir, &prog).map_err(|source| Error::Write {
                    file: dir.clone(),
                    value: format!("BPF_PROG_TYPE_CGROUP_DEVICE ({} insns)", prog.len()),
                    field: "linux.resources.devices".into(),
                    errno: source,
                })
            }
        }
    }

    /// Moves `pid` into the container's cgroup in every hierarchy.
    pub fn add_pid(&self, pid: i32) -> Result<()> {
        self.add_pid_v1(pid)?;
        self.add_pid_unified(pid)
    }

    /// Moves `pid` into the container's cgroup in every v1 hierarchy.
    pub fn add_pid_v1(&self, pid: i32) -> Result<()> {
        self.dirs.v1.iter().try_for_each(|(_, d)| add_to(d, pid))
    }

    /// Moves `pid` into the container's cgroup in the v2 hierarchy.
    pub fn add_pid_unified(&self, pid: i32) -> Result<()> {
        self.dirs
            .unified
            .iter()
            .try_for_each(|dir| add_to(dir, pid))
    }

    /// The directory that lists the container's processes: the v2 one on
    /// a v2 host, else the first v1 one (every hierarchy holds them all).
    fn procs_dir(&self) -> Option<&Path> {
        match self.layout.kind() {
            Kind::V2 => self.dirs.unified.as_deref(),
            _ => self.dirs.v1.first().map(|(_, d)| d.as_path()),
        }
    }

    /// The pids in the container's cgroup (see `procs_dir`), and in the
    /// cgroups below it.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let Some(dir) = self.procs_dir() else {
            return Ok(Vec::new());
        };
        let mut pids = Vec::new();
        // The cgroups below it too (exec --cgroup, or made by the container).
        for d in fs::tree(dir) {
            let path = d.join("cgroup.procs");
            match std::fs::read_to_string(&path) {
                Ok(text) => pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("read", path)(e)),
            }
        }
        Ok(pids)
    }

    /// Removes the directory [`Manager::pids`] reads if no process and no
    /// cgroup is left in it; whether it is gone. One `rmdir` answers what
    /// reading `cgroup.procs` would, and right after the last process
    /// exited that read stalls in the kernel (~0.1 ms on the development
    /// VM, v1 and v2 alike) while the `rmdir` does not. `false` too when
    /// the `rmdir` fails for another reason: [`Manager::pids`] then tells.
    pub fn remove_if_unused(&self) -> bool {
        let Some(dir) = self.procs_dir() else {
            return true;
        };
        match std::fs::remove_dir(dir) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        }
    }

    /// Removes the directory and the cgroups below it in every hierarchy
    /// (parents made for it are left: other containers may share them).
    pub fn destroy(&self) -> Result<()> {
        let mut first_err = None;
        for dir in self.all_dirs() {
            if let Err(e) = fs::rmdir_tree(dir) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// Writes `pid` to `dir`'s `cgroup.procs`.
fn add_to(dir: &Path, pid: i32) -> Result<()> {
    let w = Write {
        file: "cgroup.procs".into(),
        value: pid.to_string(),
        field: "linux.cgroupsPath".into(),
    };
    fs::write(dir, &w)
}

/// Enables `wanted` in `cgroup.subtree_control` of every cgroup from the
/// mount point down to `dir`'s parent.
fn enable_controllers(mnt: &Path, dir: &Path, wanted: &[String]) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let mut ancestors: Vec<PathBuf> = dir
        .ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(mnt))
        .map(Path::to_path_buf)
        .collect();
    ancestors.reverse();
    for a in ancestors {
        let have = fs::read(&a.join("cgroup.controllers"))?;
        let on = fs::read(&a.join("cgroup.subtree_control"))?;
        for c in wanted {
            let listed = |text: &str| text.split_whitespace().any(|x| x == c);
            if listed(&have) && !listed(&on) {
                let w = Write {
                    file: "cgroup.subtree_control".into(),
                    value: format!("+{c}"),
                    field: format!("linux.cgroupsPath (enable {c})"),
                };
                fs::write(&a, &w)?;
            }
        }
    }
    Ok(())
}

/// A new v1 cpuset cgroup has no cpus or mems, and nothing can join it:
/// copy its parent's (as runc does).
fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        if fs::read(&dir.join(file))?.is_empty() {
            let value = fs::read(&parent.join(file))?;
            let w = Write {
                file: file.into(),
                value,
                field: "linux.cgroupsPath (cpuset of the parent)".into(),
            };
            fs::write(dir, &w)?;
        }
    }
    Ok(())
}

/// On v2 the `hugetlb.<size>.rsvd.max` twin (where the kernel has it)
/// gets the same limit: the spec means reservations.
fn rsvd(dir: &Path, w: &Write) -> Result<()> {
    let Some(stem) = w.file.strip_suffix(".max") else {
        return Ok(());
    };
    let file = format!("{stem}.rsvd.max");
    if dir.join(&file).exists() {
        let twin = Write { file, ..w.clone() };
        fs::write(dir, &twin)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
