//! The resource logic both backends share: each controller's fields
//! turned into (file, value) writes for the cgroup version of the
//! hierarchy that holds the controller. Pure: unit tests assert the
//! writes; the manager performs them.

mod blkio;
mod cpu;
mod devices;
mod memory;
mod misc;

pub use blkio::blkio_to_io_weight;
pub use cpu::shares_to_weight;
pub use devices::{default_rules, ebpf_program, v1_writes as device_writes, Insn};

use berth_spec::resources::Resources;

use crate::error::Result;

/// The cgroup version of the hierarchy a controller lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// A v1 hierarchy.
    V1,
    /// The cgroup2 hierarchy.
    V2,
}

/// One write to a cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The file, e.g. `memory.max`.
    pub file: String,
    /// The value.
    pub value: String,
    /// The config field it came from, e.g. `linux.resources.memory.limit`.
    pub field: String,
}

impl Write {
    pub(crate) fn new(file: impl Into<String>, value: impl ToString, field: &str) -> Write {
        Write {
            file: file.into(),
            value: value.to_string(),
            field: format!("linux.resources.{field}"),
        }
    }
}

/// The controllers berth writes to, each with its writer.
pub const CONTROLLERS: [&str; 9] = [
    "cpuset", "cpu", "memory", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "rdma",
];

/// The writes for `controller` (one of [`CONTROLLERS`]) on version `v`;
/// empty when `r` sets none of its fields. On v2, `blkio` is `io`.
pub fn writes(controller: &str, r: &Resources, v: Version) -> Result<Vec<Write>> {
    match controller {
        "cpuset" => Ok(cpu::cpuset(&r.cpu)),
        "cpu" => cpu::writes(&r.cpu, v),
        "memory" => memory::writes(&r.memory, v),
        "pids" => Ok(misc::pids(r.pids_limit)),
        "blkio" => blkio::writes(&r.block_io, v),
        "hugetlb" => Ok(misc::hugetlb(&r.hugepage_limits, v)),
        "net_cls" => Ok(misc::net_cls(r.net_class_id)),
        "net_prio" => Ok(misc::net_prio(&r.net_priorities)),
        "rdma" => Ok(misc::rdma(&r.rdma)),
        _ => Ok(Vec::new()),
    }
}

/// The name of `controller` in the v2 hierarchy.
pub fn v2_name(controller: &str) -> &str {
    match controller {
        "blkio" => "io",
        other => other,
    }
}

/// The config field a controller's fields live under, for "the host has
/// no such controller" errors.
pub fn field_of(controller: &str) -> &'static str {
    match controller {
        "cpuset" | "cpu" => "linux.resources.cpu",
        "memory" => "linux.resources.memory",
        "pids" => "linux.resources.pids",
        "blkio" => "linux.resources.blockIO",
        "hugetlb" => "linux.resources.hugepageLimits",
        "net_cls" => "linux.resources.network.classID",
        "net_prio" => "linux.resources.network.priorities",
        "rdma" => "linux.resources.rdma",
        _ => "linux.resources",
    }
}
