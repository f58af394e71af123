//! Reading a container's cgroup files from the host, on whichever layout
//! the host has (v1, hybrid, or pure v2): a test names the v1 file and the
//! v2 file of a value, and gets whichever exists in the container's cgroup.

use std::fs;
use std::path::PathBuf;

use crate::residue;

/// The `cgroupsPath` the harness gives container `id` (see `Bundle`).
pub fn path_of(id: &str) -> String {
    format!("berth-e2e-{id}")
}

/// The first of `files` that exists in one of the container's cgroup
/// directories: (its path, its contents trimmed).
pub fn find(id: &str, files: &[&str]) -> Option<(PathBuf, String)> {
    let dirs = residue::existing_cgroup_dirs(&path_of(id));
    files.iter().find_map(|f| {
        dirs.iter()
            .map(|d| d.join(f))
            .find(|p| p.is_file())
            .map(|p| {
                let text = fs::read_to_string(&p).unwrap_or_default();
                (p, text.trim().to_string())
            })
    })
}

/// Like [`find`], panicking with the files tried when none exists.
#[track_caller]
pub fn read(id: &str, files: &[&str]) -> String {
    find(id, files)
        .unwrap_or_else(|| panic!("container {id}: none of {files:?} in its cgroups"))
        .1
}

/// Whether the host has a cgroup2 hierarchy mounted at /sys/fs/cgroup
/// (pure v2).
pub fn is_pure_v2() -> bool {
    residue::cgroup_mounts()
        .iter()
        .any(|m| m.fstype == "cgroup2" && m.mount_point == "/sys/fs/cgroup")
}

/// Whether a v1 hierarchy with `controller` is mounted.
pub fn has_v1(controller: &str) -> bool {
    residue::cgroup_mounts()
        .iter()
        .any(|m| m.fstype == "cgroup" && m.super_options.iter().any(|o| o == controller))
}

/// Whether the host's cgroup2 hierarchy offers `controller`.
pub fn has_v2(controller: &str) -> bool {
    residue::cgroup_mounts()
        .iter()
        .filter(|m| m.fstype == "cgroup2" && m.root == "/")
        .any(|m| {
            let path = PathBuf::from(&m.mount_point).join("cgroup.controllers");
            fs::read_to_string(path)
                .unwrap_or_default()
                .split_whitespace()
                .any(|c| c == controller)
        })
}
