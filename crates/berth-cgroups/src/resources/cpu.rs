//! cpu and cpuset. v1: `cpu.shares`, `cpu.cfs_*`, `cpu.rt_*`; v2:
//! `cpu.weight` (runc's conversion from shares), `cpu.max`.

use berth_spec::resources::Cpu;

use super::{Version, Write};
use crate::error::{Error, Result};

/// `cpuset.cpus` and `cpuset.mems` (same files on both versions).
pub(super) fn cpuset(c: &Cpu) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(cpus) = &c.cpus {
        out.push(Write::new("cpuset.cpus", cpus, "cpu.cpus"));
    }
    if let Some(mems) = &c.mems {
        out.push(Write::new("cpuset.mems", mems, "cpu.mems"));
    }
    out
}

/// The cpu controller's writes.
pub(super) fn writes(c: &Cpu, v: Version) -> Result<Vec<Write>> {
    match v {
        Version::V1 => Ok(v1(c)),
        Version::V2 => v2(c),
    }
}

fn v1(c: &Cpu) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(s) = c.shares.filter(|&s| s != 0) {
        out.push(Write::new("cpu.shares", s, "cpu.shares"));
    }
    // The period first: a quota is checked against the current period.
    if let Some(p) = c.period.filter(|&p| p != 0) {
        out.push(Write::new("cpu.cfs_period_us", p, "cpu.period"));
    }
    if let Some(q) = c.quota {
        out.push(Write::new("cpu.cfs_quota_us", q, "cpu.quota"));
    }
    if let Some(b) = c.burst {
        out.push(Write::new("cpu.cfs_burst_us", b, "cpu.burst"));
    }
    if let Some(p) = c.realtime_period.filter(|&p| p != 0) {
        out.push(Write::new("cpu.rt_period_us", p, "cpu.realtimePeriod"));
    }
    if let Some(r) = c.realtime_runtime {
        out.push(Write::new("cpu.rt_runtime_us", r, "cpu.realtimeRuntime"));
    }
    if let Some(i) = c.idle {
        out.push(Write::new("cpu.idle", i, "cpu.idle"));
    }
    out
}

/// runc's `ConvertCPUSharesToCgroupV2Value`: [2, 262144] onto [1, 10000].
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

fn v2(c: &Cpu) -> Result<Vec<Write>> {
    if c.realtime_runtime.is_some() || c.realtime_period.is_some() {
        return Err(Error::Unsupported {
            field: "linux.resources.cpu.realtimeRuntime".into(),
            reason: "cgroup v2 has no realtime cpu limits".into(),
        });
    }
    let mut out = Vec::new();
    if let Some(s) = c.shares.filter(|&s| s != 0) {
        out.push(Write::new("cpu.weight", shares_to_weight(s), "cpu.shares"));
    }
    if c.quota.is_some() || c.period.is_some_and(|p| p != 0) {
        let quota = match c.quota {
            Some(q) if q > 0 => q.to_string(),
            _ => "max".to_string(),
        };
        let value = match c.period.filter(|&p| p != 0) {
            Some(p) => format!("{quota} {p}"),
            None => quota,
        };
        out.push(Write::new("cpu.max", value, "cpu.quota"));
    }
    if let Some(b) = c.burst {
        out.push(Write::new("cpu.max.burst", b, "cpu.burst"));
    }
    if let Some(i) = c.idle {
        out.push(Write::new("cpu.idle", i, "cpu.idle"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(w: &[Write]) -> Vec<(String, String)> {
        w.iter()
            .map(|w| (w.file.clone(), w.value.clone()))
            .collect()
    }

    #[test]
    fn weight_conversion_matches_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(0), 0);
    }

    #[test]
    fn v1_and_v2_files() {
        let c = Cpu {
            shares: Some(512),
            quota: Some(50_000),
            period: Some(100_000),
            burst: Some(1000),
            idle: Some(1),
            cpus: Some("0".into()),
            ..Cpu::default()
        };
        let v1 = pairs(&writes(&c, Version::V1).unwrap());
        assert_eq!(v1[0], ("cpu.shares".into(), "512".into()));
        assert_eq!(v1[1].0, "cpu.cfs_period_us");
        assert_eq!(v1[2], ("cpu.cfs_quota_us".into(), "50000".into()));
        let v2 = pairs(&writes(&c, Version::V2).unwrap());
        assert_eq!(
            v2,
            [
                ("cpu.weight".into(), "20".into()),
                ("cpu.max".into(), "50000 100000".into()),
                ("cpu.max.burst".into(), "1000".into()),
                ("cpu.idle".into(), "1".into()),
            ]
        );
        assert_eq!(pairs(&cpuset(&c)), [("cpuset.cpus".into(), "0".into())]);
    }

    #[test]
    fn v2_refuses_realtime() {
        let c = Cpu {
            realtime_runtime: Some(10),
            ..Cpu::default()
        };
        assert!(writes(&c, Version::V2).is_err());
        let v1 = writes(&c, Version::V1).unwrap();
        assert_eq!(v1[0].file, "cpu.rt_runtime_us");
    }
}
