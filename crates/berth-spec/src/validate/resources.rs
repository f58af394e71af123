//! `linux.resources` -> [`Resources`]: the checks that need no kernel.
//!
//! Values the kernel would refuse with a bare EINVAL are refused here with
//! the JSON path (negative limits other than `-1`, device rules of a type
//! that is not a cgroup rule, swappiness above 100). Whether the host can
//! honour a field is the cgroup manager's question, asked at create.

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxDeviceType, LinuxMemory, LinuxResources,
    LinuxThrottleDevice,
};

use super::{Invalid, Result};
use crate::resources::{BlockIo, Cpu, DeviceRule, HugepageLimit, Memory, Resources, Throttle};

/// Converts `r`, found at JSON path `at` (`linux.resources`, or empty for
/// the document `update -r` reads).
pub(crate) fn convert(r: &LinuxResources, at: &str) -> Result<Resources> {
    let field = |name: &str| join(at, name);
    let devices = r.devices().as_deref().unwrap_or_default();
    let devices = devices
        .iter()
        .enumerate()
        .map(|(i, d)| device(d, &field(&format!("devices[{i}]"))))
        .collect::<Result<_>>()?;
    let mut hugepage_limits = Vec::new();
    for (i, h) in r.hugepage_limits().iter().flatten().enumerate() {
        let limit = non_negative(h.limit(), &field(&format!("hugepageLimits[{i}].limit")))?;
        hugepage_limits.push(HugepageLimit {
            page_size: h.page_size().clone(),
            limit,
        });
    }
    let network = r.network().as_ref();
    Ok(Resources {
        devices,
        memory: r
            .memory()
            .as_ref()
            .map(|m| memory(m, &field("memory")))
            .transpose()?
            .unwrap_or_default(),
        cpu: r
            .cpu()
            .as_ref()
            .map(|c| cpu(c, &field("cpu")))
            .transpose()?
            .unwrap_or_default(),
        pids_limit: r.pids().as_ref().map(|p| p.limit()),
        block_io: r
            .block_io()
            .as_ref()
            .map(|b| block_io(b, &field("blockIO")))
            .transpose()?
            .unwrap_or_default(),
        hugepage_limits,
        net_class_id: network.and_then(|n| n.class_id()),
        net_priorities: network
            .and_then(|n| n.priorities().as_ref())
            .into_iter()
            .flatten()
            .map(|p| (p.name().clone(), p.priority()))
            .collect(),
        rdma: r
            .rdma()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), (v.hca_handles(), v.hca_objects())))
            .collect(),
        unified: r
            .unified()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

fn device(d: &LinuxDeviceCgroup, at: &str) -> Result<DeviceRule> {
    let kind = match d.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => 'a',
        LinuxDeviceType::B => 'b',
        LinuxDeviceType::C | LinuxDeviceType::U => 'c',
        LinuxDeviceType::P => {
            return Err(Invalid::new(
                format!("{at}.type"),
                "\"p\" (fifo) is not a device cgroup type; use a, b or c",
            ))
        }
    };
    let number = |v: Option<i64>, name: &str| -> Result<Option<u32>> {
        match v {
            None | Some(-1) => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                Invalid::new(
                    format!("{at}.{name}"),
                    format!("{n} is not a device number"),
                )
            }),
        }
    };
    let access = d.access().clone().unwrap_or_else(|| "rwm".to_string());
    if access.is_empty() || access.chars().any(|c| !"rwm".contains(c)) {
        return Err(Invalid::new(
            format!("{at}.access"),
            format!("{access:?}: only r, w and m are allowed"),
        ));
    }
    let access = "rwm".chars().filter(|c| access.contains(*c)).collect();
    Ok(DeviceRule {
        allow: d.allow(),
        kind,
        major: number(d.major(), "major")?,
        minor: number(d.minor(), "minor")?,
        access,
    })
}

/// A byte limit: `-1` is unlimited, any other negative value is an error.
fn limit(v: Option<i64>, at: &str) -> Result<Option<i64>> {
    match v {
        Some(n) if n < -1 => Err(Invalid::new(at, format!("{n}: must be -1 or >= 0"))),
        other => Ok(other),
    }
}

fn non_negative(v: i64, at: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Invalid::new(at, format!("{v}: must be >= 0")))
}

fn memory(m: &LinuxMemory, at: &str) -> Result<Memory> {
    if let Some(s) = m.swappiness().filter(|&s| s > 100) {
        return Err(Invalid::new(
            format!("{at}.swappiness"),
            format!("{s}: must be 0..=100"),
        ));
    }
    if m.kernel().is_some_and(|k| k != 0) || m.kernel_tcp().is_some_and(|k| k != 0) {
        return Err(Invalid::new(
            format!("{at}.kernel"),
            "kernel memory limits are not supported (deprecated in the spec)",
        ));
    }
    Ok(Memory {
        limit: limit(m.limit(), &format!("{at}.limit"))?,
        reservation: limit(m.reservation(), &format!("{at}.reservation"))?,
        swap: limit(m.swap(), &format!("{at}.swap"))?,
        swappiness: m.swappiness(),
        disable_oom_killer: m.disable_oom_killer().unwrap_or(false),
        check_before_update: m.check_before_update().unwrap_or(false),
    })
}

fn cpu(c: &LinuxCpu, at: &str) -> Result<Cpu> {
    if let Some(i) = c.idle().filter(|&i| i != 0 && i != 1) {
        return Err(Invalid::new(
            format!("{at}.idle"),
            format!("{i}: must be 0 or 1"),
        ));
    }
    if let Some(r) = c.realtime_runtime().filter(|&r| r < -1) {
        return Err(Invalid::new(
            format!("{at}.realtimeRuntime"),
            format!("{r}: must be -1 or >= 0"),
        ));
    }
    Ok(Cpu {
        shares: c.shares(),
        // runc: 0 leaves the quota alone, any negative value is unlimited.
        quota: c.quota().filter(|&q| q != 0).map(|q| q.max(-1)),
        burst: c.burst(),
        period: c.period(),
        realtime_runtime: c.realtime_runtime(),
        realtime_period: c.realtime_period(),
        cpus: c.cpus().clone().filter(|s| !s.is_empty()),
        mems: c.mems().clone().filter(|s| !s.is_empty()),
        idle: c.idle(),
    })
}

fn block_io(b: &LinuxBlockIo, at: &str) -> Result<BlockIo> {
    let throttles = |list: &Option<Vec<LinuxThrottleDevice>>| -> Vec<Throttle> {
        list.iter()
            .flatten()
            .map(|t| Throttle {
                major: t.major(),
                minor: t.minor(),
                rate: t.rate(),
            })
            .collect()
    };
    for (name, w) in [("weight", b.weight()), ("leafWeight", b.leaf_weight())] {
        if let Some(w) = w.filter(|w| !(10..=1000).contains(w)) {
            return Err(Invalid::new(
                format!("{at}.{name}"),
                format!("{w}: must be 10..=1000"),
            ));
        }
    }
    Ok(BlockIo {
        weight: b.weight(),
        leaf_weight: b.leaf_weight(),
        weight_device: b
            .weight_device()
            .iter()
            .flatten()
            .map(|w| (w.major(), w.minor(), w.weight(), w.leaf_weight()))
            .collect(),
        read_bps: throttles(b.throttle_read_bps_device()),
        write_bps: throttles(b.throttle_write_bps_device()),
        read_iops: throttles(b.throttle_read_iops_device()),
        write_iops: throttles(b.throttle_write_iops_device()),
    })
}
