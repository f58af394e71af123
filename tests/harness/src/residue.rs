//! What a container may leave behind, seen from the host: processes, mounts
//! and cgroup directories. Used after a delete and after a failed create.

use std::fs;
use std::path::{Path, PathBuf};

use crate::parse::{mountinfo, MountInfo};

/// Whether `hay` contains `needle` as a whole token: the characters around
/// it are not ones a container id or path component could continue with.
/// (`c-1` must not match inside `c-12`.)
pub fn mentions(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    if n.is_empty() || hay.len() < n.len() {
        return false;
    }
    let cont = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+');
    (0..=hay.len() - n.len()).any(|i| {
        &hay[i..i + n.len()] == n
            && (i == 0 || !cont(hay[i - 1]) || !cont(n[0]))
            && hay
                .get(i + n.len())
                .is_none_or(|&b| !cont(b) || !cont(n[n.len() - 1]))
    })
}

/// A process found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    /// Its pid in the test's pid namespace.
    pub pid: i32,
    /// Its command line, NULs turned into spaces.
    pub cmdline: String,
}

/// Processes (other than this one) whose command line or environment
/// mentions `needle`. Zombies have neither, so they never match; unreadable
/// entries (a process that just exited) are skipped.
pub fn processes_mentioning(needle: &str) -> Vec<Proc> {
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if u32::try_from(pid).is_ok_and(|p| p == me) {
            continue;
        }
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let environ = fs::read(entry.path().join("environ")).unwrap_or_default();
        if mentions(&cmdline, needle) || mentions(&environ, needle) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push(Proc { pid, cmdline });
        }
    }
    found
}

/// The host's mount table (this process's mount namespace).
pub fn host_mounts() -> Vec<MountInfo> {
    mountinfo(&fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// Mounts in this mount namespace whose mount point or source lies at or
/// under `path`.
pub fn mounts_under(path: &Path) -> Vec<MountInfo> {
    let p = path.to_string_lossy();
    let p = p.trim_end_matches('/');
    let under = |s: &str| s == p || s.strip_prefix(p).is_some_and(|r| r.starts_with('/'));
    host_mounts()
        .into_iter()
        .filter(|m| under(&m.mount_point) || under(&m.source))
        .collect()
}

/// cgroup (v1) and cgroup2 mounts of this mount namespace.
pub fn cgroup_mounts() -> Vec<MountInfo> {
    host_mounts()
        .into_iter()
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .collect()
}

/// Where a relative `cgroupsPath` lands in every hierarchy: runc nests it
/// under the creating process's own cgroup (its `/proc/self/cgroup` line for
/// that hierarchy; on cgroup v2 that cgroup's parent), so we compute the
/// same from this process, which is the
/// runtime's parent and shares its cgroups. For an absolute path, the path
/// under each hierarchy's mount point.
pub fn cgroup_dirs(cgroups_path: &str) -> Vec<PathBuf> {
    let mounts = cgroup_mounts();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut dirs = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(hier), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let matching = mounts.iter().filter(|m| {
            if hier == "0" && ctrls.is_empty() {
                m.fstype == "cgroup2"
            } else {
                m.fstype == "cgroup"
                    && ctrls
                        .split(',')
                        .all(|c| m.super_options.iter().any(|o| o == c))
            }
        });
        for m in matching {
            let base = if cgroups_path.starts_with('/') {
                String::new()
            } else {
                // The mount may expose only a subtree (its root field).
                let inner = path
                    .strip_prefix(m.root.trim_end_matches('/'))
                    .unwrap_or(path);
                let inner = inner.trim_matches('/');
                if m.fstype == "cgroup2" {
                    // runc (fs2 defaultDirPath) and berth nest under the
                    // parent of their own v2 cgroup (no internal processes).
                    inner
                        .rsplit_once('/')
                        .map_or("", |(head, _)| head)
                        .to_string()
                } else {
                    inner.to_string()
                }
            };
            let mut d = PathBuf::from(&m.mount_point);
            if !base.is_empty() {
                d.push(base);
            }
            d.push(cgroups_path.trim_start_matches('/'));
            dirs.push(d);
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The cgroup directories named by `cgroups_path` that exist.
pub fn existing_cgroup_dirs(cgroups_path: &str) -> Vec<PathBuf> {
    cgroup_dirs(cgroups_path)
        .into_iter()
        .filter(|d| d.exists())
        .collect()
}

/// Pids in the cgroup directories named by `cgroups_path` (and below).
pub fn cgroup_pids(cgroups_path: &str) -> Vec<i32> {
    let mut dirs = existing_cgroup_dirs(cgroups_path);
    let mut children = Vec::new();
    for d in &dirs {
        collect_dirs(d, &mut children);
    }
    dirs.extend(children);
    let mut pids: Vec<i32> = dirs
        .iter()
        .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<_>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Removes the (empty) cgroup directories named by `cgroups_path`, deepest
/// first; used by `Drop` after a failed test so the host stays clean. Only
/// the directories the test itself named are touched.
pub fn remove_cgroup_dirs(cgroups_path: &str) {
    for d in existing_cgroup_dirs(cgroups_path) {
        let mut children: Vec<PathBuf> = Vec::new();
        collect_dirs(&d, &mut children);
        children.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        for c in children {
            let _ = fs::remove_dir(&c);
        }
        let _ = fs::remove_dir(&d);
    }
}

fn collect_dirs(d: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(e.path());
                collect_dirs(&e.path(), out);
            }
        }
    }
}

/// Entries left in a state root directory.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_tokens_only() {
        assert!(mentions(b"runc\0--root\0/x\0create\0c-1\0", "c-1"));
        assert!(mentions(b"BERTH_E2E_ID=c-1\0", "c-1"));
        assert!(!mentions(b"create\0c-12\0", "c-1"));
        assert!(!mentions(b"xc-1", "c-1"));
        assert!(mentions(b"/tmp/b/rootfs", "/tmp/b"));
        assert!(!mentions(b"/tmp/bc/rootfs", "/tmp/b"));
    }

    #[test]
    fn cgroup_dirs_follow_own_cgroup() {
        let dirs = cgroup_dirs("berth-e2e-unit");
        let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        if !cgroup_mounts().is_empty() && !own.is_empty() {
            assert!(!dirs.is_empty(), "no candidate cgroup dirs");
        }
        for d in &dirs {
            assert!(d.ends_with("berth-e2e-unit"), "{}", d.display());
            assert!(!d.exists(), "{} exists", d.display());
        }
        // An absolute path lands right under each mount point.
        for d in cgroup_dirs("/berth-e2e-abs") {
            let parent = d.parent().map(Path::to_path_buf).unwrap_or_default();
            assert!(cgroup_mounts()
                .iter()
                .any(|m| Path::new(&m.mount_point) == parent));
        }
    }
}
