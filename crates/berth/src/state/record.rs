//! `state.json`: what berth remembers about a container between commands.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_spec::plan::{Hook, Process, Seccomp};
use serde::{Deserialize, Serialize};

/// How far `create` got. Later statuses (running, stopped) are never
/// stored: they are read off the live process (see [`super::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// init is being set up.
    Creating,
    /// init is built and waits on the exec fifo (or has been started).
    Created,
}

/// The contents of `<root>/<id>/state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Container id.
    pub id: String,
    /// Pid of init in the host pid namespace.
    pub pid: i32,
    /// init's start time (field 22 of /proc/<pid>/stat): with the pid, it
    /// identifies the process even after the pid is reused.
    pub start_time: u64,
    /// How far create got.
    pub phase: Phase,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Name (or uid) of the user who created the container.
    pub owner: String,
    /// `ociVersion` of the config.
    pub oci_version: String,
    /// The config's annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The container shares berth's mount namespace (none in the config),
    /// so its mounts under the rootfs outlive its processes and `delete`
    /// must remove them.
    #[serde(default)]
    pub host_mounts: bool,
    /// The record's format: 1 (no field; before cgroups), 2 (with
    /// `cgroups`).
    #[serde(default = "version_one")]
    pub version: u32,
    /// The container's cgroup directories; `None` in version 1 records.
    #[serde(default)]
    pub cgroups: Option<berth_cgroups::path::Dirs>,
    /// `linux.resources.devices` at create (`update` cannot change them).
    #[serde(default)]
    pub device_rules: Vec<berth_spec::resources::DeviceRule>,
    /// The config has no `process`: `start` must refuse (config.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_process: bool,
    /// The hooks later commands run or wait for.
    #[serde(default, skip_serializing_if = "LaterHooks::is_empty")]
    pub hooks: LaterHooks,
    /// What `exec` needs of the config as it was at create; absent in
    /// records of a berth without exec.
    #[serde(default)]
    pub exec: Option<ExecConfig>,
}

/// The hooks of the config that run after `create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaterHooks {
    /// init runs `startContainer` hooks after `start` releases it: `start`
    /// then waits for the exec to report their failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_container: bool,
    /// `poststart`, run by `start` once init has exec'd the process.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststart: Vec<Hook>,
    /// `poststop`, run by `delete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststop: Vec<Hook>,
}

impl LaterHooks {
    /// No hook after `create`.
    pub fn is_empty(&self) -> bool {
        !self.start_container && self.poststart.is_empty() && self.poststop.is_empty()
    }
}

/// The parts of the config `exec` starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecConfig {
    /// `process`: the defaults of an exec given a command (env, cwd, user,
    /// capabilities, rlimits, no_new_privs, labels), and the rlimits of
    /// one given a process.json without any.
    pub process: Process,
    /// `linux.seccomp`: every process of the container runs under it.
    pub seccomp: Option<Seccomp>,
}

/// The format `create` writes.
pub const VERSION: u32 = 2;

fn version_one() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_one_record_still_loads() {
        let v1 = r#"{"id":"c","pid":1,"start_time":2,"phase":"created","bundle":"/b",
            "rootfs":"/b/r","created":"t","owner":"root","oci_version":"1.2.0"}"#;
        let r: Record = serde_json::from_str(v1).expect("v1 record");
        assert_eq!((r.version, r.cgroups, r.device_rules.len()), (1, None, 0));
    }
}
