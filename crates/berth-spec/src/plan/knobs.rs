//! The process knobs and security labels of a [`super::Plan`]: scheduler,
//! I/O priority, CPU affinity, personality, LSM labels, Intel RDT.

/// `process.scheduler` as the fields of `struct sched_attr`
/// (sched_setattr(2)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scheduler {
    /// `SCHED_*` policy number.
    pub policy: u32,
    /// `SCHED_FLAG_*` bits.
    pub flags: u64,
    /// `nice` (SCHED_OTHER, SCHED_BATCH).
    pub nice: i32,
    /// `priority` (SCHED_FIFO, SCHED_RR).
    pub priority: u32,
    /// `runtime` in ns (SCHED_DEADLINE).
    pub runtime: u64,
    /// `deadline` in ns (SCHED_DEADLINE).
    pub deadline: u64,
    /// `period` in ns (SCHED_DEADLINE).
    pub period: u64,
}

/// Everything in this file, gathered from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Knobs {
    /// `process.scheduler`.
    pub scheduler: Option<Scheduler>,
    /// `process.ioPriority` as the ioprio_set(2) value (class << 13 | level).
    pub io_priority: Option<u16>,
    /// `process.execCPUAffinity.initial`: CPU numbers.
    pub cpu_affinity_initial: Option<Vec<usize>>,
    /// `process.execCPUAffinity.final`: CPU numbers.
    pub cpu_affinity_final: Option<Vec<usize>>,
    /// `linux.personality` as the personality(2) value.
    pub personality: Option<u64>,
    /// `linux.mountLabel` (non-empty).
    pub mount_label: Option<String>,
    /// Whether `linux.intelRdt` is present.
    pub intel_rdt: bool,
}
