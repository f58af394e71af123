//! `events`: usage statistics in runc's `types.Stats` shape (the parts
//! both versions have) and the OOM-kill counter.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::fs;
use crate::manager::Manager;
use crate::resources::Version;

/// runc's `stats` event data (cpu, memory, pids).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// CPU time.
    pub cpu: Cpu,
    /// Memory use.
    pub memory: Memory,
    /// Processes.
    pub pids: Pids,
}

/// `cpu` of runc's stats.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Cpu {
    /// `usage`.
    pub usage: CpuUsage,
}

/// `cpu.usage`, nanoseconds.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct CpuUsage {
    /// All CPU time.
    pub total: u64,
    /// In user mode.
    pub user: u64,
    /// In kernel mode.
    pub kernel: u64,
}

/// `memory` of runc's stats.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Memory {
    /// `usage`.
    pub usage: MemoryUsage,
}

/// `memory.usage`, bytes.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Current use.
    pub usage: u64,
    /// Highest use seen (v1 only; 0 on v2 kernels without `memory.peak`).
    pub max: u64,
    /// The limit (`u64::MAX` when unlimited, as runc reports).
    pub limit: u64,
    /// Times the limit was hit.
    pub failcnt: u64,
}

/// `pids` of runc's stats.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Pids {
    /// Processes now.
    pub current: u64,
    /// The limit (0 when unlimited, as runc reports).
    pub limit: u64,
}

/// A number in a cgroup file; `max` and a missing file read as `dflt`.
fn num(dir: &Path, file: &str, dflt: u64) -> Result<u64> {
    let path = dir.join(file);
    if !path.exists() {
        return Ok(dflt);
    }
    Ok(fs::read(&path)?.parse().unwrap_or(dflt))
}

/// The value of `key` in a flat-keyed file (`memory.events`, `cpu.stat`).
fn keyed(dir: &Path, file: &str, key: &str) -> Result<u64> {
    let path = dir.join(file);
    if !path.exists() {
        return Ok(0);
    }
    let text = fs::read(&path)?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0))
}

impl Manager {
    /// The container's usage now.
    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        if let Ok((dir, v)) = self.locate("memory") {
            let u = &mut s.memory.usage;
            (u.usage, u.max, u.limit, u.failcnt) = match v {
                Version::V1 => (
                    num(dir, "memory.usage_in_bytes", 0)?,
                    num(dir, "memory.max_usage_in_bytes", 0)?,
                    num(dir, "memory.limit_in_bytes", u64::MAX)?,
                    num(dir, "memory.failcnt", 0)?,
                ),
                Version::V2 => (
                    num(dir, "memory.current", 0)?,
                    num(dir, "memory.peak", 0)?,
                    num(dir, "memory.max", u64::MAX)?,
                    keyed(dir, "memory.events", "max")?,
                ),
            };
        }
        if let Ok((dir, v)) = self.locate("cpuacct").or_else(|_| self.locate("cpu")) {
            let u = &mut s.cpu.usage;
            if v == Version::V1 {
                u.total = num(dir, "cpuacct.usage", 0)?;
                u.user = num(dir, "cpuacct.usage_user", 0)?;
                u.kernel = num(dir, "cpuacct.usage_sys", 0)?;
            } else {
                u.total = keyed(dir, "cpu.stat", "usage_usec")? * 1000;
                u.user = keyed(dir, "cpu.stat", "user_usec")? * 1000;
                u.kernel = keyed(dir, "cpu.stat", "system_usec")? * 1000;
            }
        }
        if let Ok((dir, _)) = self.locate("pids") {
            s.pids.current = num(dir, "pids.current", 0)?;
            s.pids.limit = num(dir, "pids.max", 0)?;
        }
        Ok(s)
    }

    /// How many times the kernel's OOM killer has killed in the cgroup
    /// (v1 `memory.oom_control` `oom_kill`, v2 `memory.events` `oom_kill`).
    pub fn oom_kills(&self) -> Result<u64> {
        match self.locate("memory") {
            Ok((dir, Version::V1)) => keyed(dir, "memory.oom_control", "oom_kill"),
            Ok((dir, Version::V2)) => keyed(dir, "memory.events", "oom_kill"),
            Err(_) => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::path::{resolve, OwnCgroups};

    #[test]
    fn v2_stats_and_oom_count_from_files() {
        let tmp = tempfile::tempdir().unwrap();
        let info = format!(
            "1 0 0:1 / {} rw - cgroup2 cgroup2 rw\n",
            tmp.path().display()
        );
        std::fs::write(tmp.path().join("cgroup.controllers"), "cpu memory pids").unwrap();
        let layout = Layout::parse(&info);
        let dirs = resolve(&layout, &OwnCgroups::parse("0::/\n"), Some("c"), "id").unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        let files = [
            ("memory.current", "4096"),
            ("memory.max", "max"),
            ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"),
            ("cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n"),
            ("pids.current", "2"),
            ("pids.max", "max"),
        ];
        for (f, v) in files {
            std::fs::write(dir.join(f), v).unwrap();
        }
        let m = Manager::new(layout, dirs);
        let s = m.stats().unwrap();
        assert_eq!(s.memory.usage.usage, 4096);
        assert_eq!(s.memory.usage.limit, u64::MAX);
        assert_eq!(s.memory.usage.failcnt, 3);
        assert_eq!(s.cpu.usage.total, 10_000);
        assert_eq!(s.pids.current, 2);
        assert_eq!(s.pids.limit, 0);
        assert_eq!(m.oom_kills().unwrap(), 2);
    }
}
