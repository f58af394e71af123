//! The OCI state of a container, as `berth state` prints it.
//!
//! The fields are those of runtime-spec `runtime.md` "State", plus the ones
//! runc adds (`rootfs`, `created`, `owner`) that engines read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A container's status (runtime-spec "State", `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `create` is still building the container.
    Creating,
    /// Built; init waits for `start`.
    Created,
    /// The user process has been started and is alive.
    Running,
    /// Its cgroup is frozen (`pause`).
    Paused,
    /// The container's init has exited.
    Stopped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// The state document of runtime-spec `runtime.md`, with runc's extras.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The runtime-spec version the state complies with.
    pub oci_version: String,
    /// The container id.
    pub id: String,
    /// The container's status.
    pub status: Status,
    /// The pid of the container's init as seen from the host; 0 once stopped.
    pub pid: i32,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    /// Absolute path of the rootfs (runc extra).
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339 (runc extra).
    pub created: String,
    /// The config's annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The user who created the container (runc extra).
    pub owner: String,
}
