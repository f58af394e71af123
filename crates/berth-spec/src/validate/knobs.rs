//! `process.scheduler`, `process.ioPriority`, `process.execCPUAffinity`,
//! `linux.personality`, the LSM labels and `linux.intelRdt`: checked the
//! way the kernel would check them, so a bad value fails before any
//! process exists, naming the field.

use oci_spec::runtime::{
    IOPriorityClass, LinuxPersonalityDomain, LinuxSchedulerFlag as Flag,
    LinuxSchedulerPolicy as Policy, Spec,
};

use super::{Invalid, Result};
use crate::plan::knobs::{Knobs, Scheduler};

/// Highest CPU number sched_setaffinity(2) takes with a glibc `cpu_set_t`.
const MAX_CPU: usize = 1023;

/// Reads and checks every knob.
pub(super) fn convert(spec: &Spec) -> Result<Knobs> {
    let process = spec.process().as_ref();
    let linux = spec.linux().as_ref();
    let label = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
    let affinity = process.and_then(|p| p.exec_cpu_affinity().as_ref());
    let cpus = |field: &str, v: Option<&String>| {
        v.map(|list| cpu_list(list).map_err(|m| Invalid::new(field, m)))
            .transpose()
    };
    Ok(Knobs {
        scheduler: process
            .and_then(|p| p.scheduler().as_ref())
            .map(scheduler)
            .transpose()?,
        io_priority: process
            .and_then(|p| p.io_priority().as_ref())
            .map(|io| io_priority(io.class(), io.priority()))
            .transpose()?,
        cpu_affinity_initial: cpus(
            "process.execCPUAffinity.initial",
            affinity.and_then(|a| a.initial().as_ref()),
        )?,
        cpu_affinity_final: cpus(
            "process.execCPUAffinity.final",
            affinity.and_then(|a| a.cpu_affinity_final().as_ref()),
        )?,
        personality: linux
            .and_then(|l| l.personality().as_ref())
            .map(|p| personality(p.domain(), p.flags().as_deref().unwrap_or_default()))
            .transpose()?,
        mount_label: label(linux.and_then(|l| l.mount_label().as_ref())),
        intel_rdt: linux.is_some_and(|l| l.intel_rdt().is_some()),
    })
}

/// sched(7) and sched_setattr(2)'s rules for each policy.
fn scheduler(s: &oci_spec::runtime::Scheduler) -> Result<Scheduler> {
    let field = |f: &str| format!("process.scheduler.{f}");
    let policy = match s.policy() {
        Policy::SchedOther => libc::SCHED_OTHER,
        Policy::SchedFifo => libc::SCHED_FIFO,
        Policy::SchedRr => libc::SCHED_RR,
        Policy::SchedBatch => libc::SCHED_BATCH,
        Policy::SchedIdle => libc::SCHED_IDLE,
        Policy::SchedDeadline => 6, // SCHED_DEADLINE, absent from libc's list
        Policy::SchedIso => {
            return Err(Invalid::new(
                field("policy"),
                "SCHED_ISO is not implemented by Linux",
            ))
        }
    };
    let realtime = matches!(s.policy(), Policy::SchedFifo | Policy::SchedRr);
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(Invalid::new(
            field("nice"),
            format!("{nice} is outside -20..19"),
        ));
    }
    let priority = s.priority().unwrap_or(0);
    match (realtime, priority) {
        (true, 1..=99) | (false, 0) => {}
        (true, p) => {
            return Err(Invalid::new(
                field("priority"),
                format!("{p} is outside 1..99 for {:?}", s.policy()),
            ))
        }
        (false, p) => {
            return Err(Invalid::new(
                field("priority"),
                format!("{p}: only SCHED_FIFO and SCHED_RR take a priority"),
            ))
        }
    }
    let (runtime, deadline, period) = (
        s.runtime().unwrap_or(0),
        s.deadline().unwrap_or(0),
        s.period().unwrap_or(0),
    );
    if policy == 6 && !(runtime > 0 && runtime <= deadline && (period == 0 || deadline <= period)) {
        return Err(Invalid::new(
            field("runtime"),
            "SCHED_DEADLINE needs 0 < runtime <= deadline <= period",
        ));
    }
    let flags = s.flags().iter().flatten().fold(0u64, |acc, f| {
        acc | match f {
            Flag::SchedResetOnFork => 0x01,
            Flag::SchedFlagReclaim => 0x02,
            Flag::SchedFlagDLOverrun => 0x04,
            Flag::SchedFlagKeepPolicy => 0x08,
            Flag::SchedFlagKeepParams => 0x10,
            Flag::SchedFlagUtilClampMin => 0x20,
            Flag::SchedFlagUtilClampMax => 0x40,
        }
    });
    Ok(Scheduler {
        policy: policy.unsigned_abs(),
        flags,
        nice,
        priority: priority.unsigned_abs(),
        runtime,
        deadline,
        period,
    })
}

/// ioprio_set(2): class in the top 3 bits, level 0..7 below.
fn io_priority(class: IOPriorityClass, level: i64) -> Result<u16> {
    let class: u16 = match class {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let level = u16::try_from(level)
        .ok()
        .filter(|l| *l <= 7)
        .ok_or_else(|| {
            Invalid::new(
                "process.ioPriority.priority",
                format!("{level} is outside 0..7"),
            )
        })?;
    Ok(class << 13 | level)
}

/// personality(2): PER_LINUX or PER_LINUX32; no flags (none is defined
/// by the spec).
fn personality(domain: LinuxPersonalityDomain, flags: &[String]) -> Result<u64> {
    if let Some(flag) = flags.first() {
        return Err(Invalid::new(
            "linux.personality.flags",
            format!("{flag:?}: no personality flags are supported"),
        ));
    }
    Ok(match domain {
        LinuxPersonalityDomain::PerLinux => 0,
        LinuxPersonalityDomain::PerLinux32 => 8,
    })
}

/// A cpuset list: `0-3,7`.
fn cpu_list(text: &str) -> std::result::Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim) {
        let num = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| format!("{text:?}: bad CPU list"))
        };
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if lo > hi || hi > MAX_CPU {
            return Err(format!("{text:?}: bad range {part:?}"));
        }
        cpus.extend(lo..=hi);
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::validate::testutil::{err, invalid, minimal, plan};

    #[test]
    fn knobs_become_kernel_values() {
        let mut c = minimal();
        c["process"]["scheduler"] =
            json!({"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_RESET_ON_FORK"]});
        c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 5});
        c["process"]["execCPUAffinity"] = json!({"initial": "0", "final": "0-1,3"});
        c["linux"] = json!({"personality": {"domain": "LINUX32"}, "mountLabel": ""});
        let k = plan(&c).knobs;
        let s = k.scheduler.expect("scheduler");
        assert_eq!((s.policy, s.priority, s.flags), (1, 10, 1));
        assert_eq!(k.io_priority, Some(3 << 13 | 5));
        assert_eq!(k.cpu_affinity_initial, Some(vec![0]));
        assert_eq!(k.cpu_affinity_final, Some(vec![0, 1, 3]));
        assert_eq!(k.personality, Some(8));
        assert_eq!(k.mount_label, None);
    }

    #[test]
    fn bad_knobs_name_their_field() {
        let cases = [
            (
                json!({"scheduler": {"policy": "SCHED_ISO"}}),
                "process.scheduler.policy",
            ),
            (
                json!({"scheduler": {"policy": "SCHED_OTHER", "priority": 5}}),
                "process.scheduler.priority",
            ),
            (
                json!({"scheduler": {"policy": "SCHED_RR"}}),
                "process.scheduler.priority",
            ),
            (
                json!({"scheduler": {"policy": "SCHED_OTHER", "nice": 40}}),
                "process.scheduler.nice",
            ),
            (
                json!({"scheduler": {"policy": "SCHED_DEADLINE", "runtime": 10, "deadline": 5}}),
                "process.scheduler.runtime",
            ),
            (
                json!({"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}}),
                "process.ioPriority.priority",
            ),
            (
                json!({"execCPUAffinity": {"final": "3-1"}}),
                "process.execCPUAffinity.final",
            ),
        ];
        for (process, path) in cases {
            let mut c = minimal();
            for (k, v) in process.as_object().expect("object") {
                c["process"][k] = v.clone();
            }
            assert_eq!(invalid(&c).0, path, "{process}");
        }
        let mut c = minimal();
        c["linux"] = json!({"personality": {"domain": "LINUX", "flags": ["x"]}});
        assert_eq!(invalid(&c).0, err("linux.personality.flags", "").0);
    }
}
