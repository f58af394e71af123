//! `linux.resources`, validated: what the cgroup manager applies.
//!
//! Every `Option` means "leave the kernel's value alone". Values keep the
//! spec's units (bytes, microseconds, runc's cpu shares); the cgroup crate
//! converts them for the hierarchy that holds each controller.

use std::collections::BTreeMap;

/// `linux.resources`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// `devices`: device cgroup rules in config order.
    pub devices: Vec<DeviceRule>,
    /// `memory`.
    pub memory: Memory,
    /// `cpu`.
    pub cpu: Cpu,
    /// `pids.limit`; `-1` (or `0` in runc's reading) is unlimited.
    pub pids_limit: Option<i64>,
    /// `blockIO`.
    pub block_io: BlockIo,
    /// `hugepageLimits`, one per page size (`2MB`, `1GB`…).
    pub hugepage_limits: Vec<HugepageLimit>,
    /// `network.classID`.
    pub net_class_id: Option<u32>,
    /// `network.priorities`: (interface, priority).
    pub net_priorities: Vec<(String, u32)>,
    /// `rdma`: device name -> (hcaHandles, hcaObjects).
    pub rdma: BTreeMap<String, (Option<u32>, Option<u32>)>,
    /// `unified`: cgroup v2 file -> value.
    pub unified: BTreeMap<String, String>,
}

/// One `devices` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRule {
    /// `allow`.
    pub allow: bool,
    /// `type`: `'a'` (all), `'b'` or `'c'`.
    pub kind: char,
    /// `major`; `None` is the wildcard.
    pub major: Option<u32>,
    /// `minor`; `None` is the wildcard.
    pub minor: Option<u32>,
    /// `access`: a subset of "rwm", in that order; never empty.
    pub access: String,
}

/// `memory`. Limits are bytes, `-1` unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// `limit`.
    pub limit: Option<i64>,
    /// `reservation`.
    pub reservation: Option<i64>,
    /// `swap`: memory plus swap, as in runc.
    pub swap: Option<i64>,
    /// `swappiness` (0..=100).
    pub swappiness: Option<u64>,
    /// `disableOOMKiller`.
    pub disable_oom_killer: bool,
    /// `checkBeforeUpdate`.
    pub check_before_update: bool,
}

/// `cpu`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cpu {
    /// `shares` (v1 units, 2..=262144).
    pub shares: Option<u64>,
    /// `quota` in µs per period; `-1` unlimited.
    pub quota: Option<i64>,
    /// `burst` in µs.
    pub burst: Option<u64>,
    /// `period` in µs.
    pub period: Option<u64>,
    /// `realtimeRuntime` in µs.
    pub realtime_runtime: Option<i64>,
    /// `realtimePeriod` in µs.
    pub realtime_period: Option<u64>,
    /// `cpus`, a cpuset list.
    pub cpus: Option<String>,
    /// `mems`, a cpuset list.
    pub mems: Option<String>,
    /// `idle` (0 or 1).
    pub idle: Option<i64>,
}

/// `blockIO`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockIo {
    /// `weight` (10..=1000).
    pub weight: Option<u16>,
    /// `leafWeight`.
    pub leaf_weight: Option<u16>,
    /// `weightDevice`: (major, minor, weight, leafWeight).
    pub weight_device: Vec<(i64, i64, Option<u16>, Option<u16>)>,
    /// `throttleReadBpsDevice`.
    pub read_bps: Vec<Throttle>,
    /// `throttleWriteBpsDevice`.
    pub write_bps: Vec<Throttle>,
    /// `throttleReadIOPSDevice`.
    pub read_iops: Vec<Throttle>,
    /// `throttleWriteIOPSDevice`.
    pub write_iops: Vec<Throttle>,
}

impl BlockIo {
    /// Whether any field is set.
    pub fn is_empty(&self) -> bool {
        *self == BlockIo::default()
    }
}

/// One throttle entry: a device and its rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Device major.
    pub major: i64,
    /// Device minor.
    pub minor: i64,
    /// Bytes or operations per second.
    pub rate: u64,
}

/// One `hugepageLimits` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HugepageLimit {
    /// `pageSize` as the kernel names it (`2MB`).
    pub page_size: String,
    /// `limit` in bytes.
    pub limit: u64,
}

/// Parses the resources document `update -r` reads (runc's
/// `specs.LinuxResources` JSON); errors name the JSON path from its root.
pub fn from_json(text: &str) -> Result<Resources, crate::Error> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let parsed: oci_spec::runtime::LinuxResources =
        serde_path_to_error::deserialize(de).map_err(|e| crate::Error::Parse {
            file: "resources".into(),
            path: e.path().to_string(),
            msg: e.inner().to_string(),
        })?;
    crate::validate::resources::convert(&parsed, "").map_err(|e| crate::Error::Invalid {
        file: "resources".into(),
        path: e.path,
        msg: e.msg,
    })
}
