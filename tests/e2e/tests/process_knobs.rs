//! Process knobs seen from inside the container: `process.scheduler`,
//! `process.ioPriority`, `process.execCPUAffinity`, `linux.personality`,
//! and `linux.intelRdt` refused where resctrl is absent.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Runtime};

/// Field `n` (1-based) of the container's `/proc/self/stat`, as `sh` sees
/// itself (fields after the command name counted from 3).
fn stat_fields(b: Bundle) -> Vec<String> {
    let b = b.sh("read -r line </proc/self/stat; echo \"${line##*) }\"");
    let out = Runtime::new().run_ok(&b);
    out.split_whitespace().map(String::from).collect()
}

#[test]
fn scheduler_fifo_with_priority_is_applied() {
    require!(root);
    berth_only!("runc 1.1.5 ignores process.scheduler (added in runc 1.2)");
    let mut b = Bundle::busybox().set(
        &["process"],
        "scheduler",
        json!({"policy": "SCHED_FIFO", "priority": 7}),
    );
    // With RT group scheduling (v1 `cpu.rt_runtime_us`), a cgroup of its
    // own has no real-time budget until the config gives it one: the
    // kernel refuses SCHED_FIFO there (EPERM), for runc too.
    let rt_groups = ["cpu", "cpu,cpuacct"]
        .iter()
        .any(|h| std::path::Path::new(&format!("/sys/fs/cgroup/{h}/cpu.rt_runtime_us")).exists());
    if rt_groups {
        b = b.set(
            &["linux", "resources"],
            "cpu",
            json!({"realtimeRuntime": 10000, "realtimePeriod": 1000000}),
        );
    }
    // After ")": field 3 is index 0, so rt_priority (40) is 37, policy (41) 38.
    let f = stat_fields(b);
    assert_eq!((f[37].as_str(), f[38].as_str()), ("7", "1"), "{f:?}");
}

#[test]
fn scheduler_batch_with_nice_is_applied() {
    require!(root);
    berth_only!("runc 1.1.5 ignores process.scheduler (added in runc 1.2)");
    let b = Bundle::busybox().set(
        &["process"],
        "scheduler",
        json!({"policy": "SCHED_BATCH", "nice": 7}),
    );
    // nice is field 19 (index 16), policy field 41 (index 38).
    let f = stat_fields(b);
    assert_eq!((f[16].as_str(), f[38].as_str()), ("7", "3"), "{f:?}");
}

#[test]
fn io_priority_is_applied() {
    require!(root);
    berth_only!("runc 1.1.5 ignores process.ioPriority (added in runc 1.2)");
    let b = Bundle::busybox()
        .set(
            &["process"],
            "ioPriority",
            json!({"class": "IOPRIO_CLASS_BE", "priority": 6}),
        )
        .sh("ionice -p $$");
    let out = Runtime::new().run_ok(&b);
    assert_eq!(out.trim(), "best-effort: prio 6", "{out}");
}

#[test]
fn exec_cpu_affinity_final_is_applied() {
    require!(root);
    berth_only!("runc 1.1.5 ignores process.execCPUAffinity (added in runc 1.2)");
    let b = Bundle::busybox()
        .set(
            &["process"],
            "execCPUAffinity",
            json!({"initial": "0", "final": "0"}),
        )
        .sh("grep Cpus_allowed_list /proc/self/status");
    let out = Runtime::new().run_ok(&b);
    assert_eq!(out.split_whitespace().nth(1), Some("0"), "{out}");
}

#[test]
fn personality_linux32_is_applied() {
    require!(root);
    berth_only!("runc 1.1.5 ignores linux.personality (added in runc 1.2)");
    let b = Bundle::busybox()
        .set(&["linux"], "personality", json!({"domain": "LINUX32"}))
        .sh("cat /proc/self/personality; uname -m");
    let out = Runtime::new().run_ok(&b);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("00000008"), "{out}");
    assert_ne!(lines.next(), Some("x86_64"), "{out}");
}

#[test]
fn intel_rdt_without_resctrl_is_refused() {
    require!(root);
    if std::path::Path::new("/sys/fs/resctrl/info").exists() {
        berth_test_harness::skip::host_lacks("resctrl is mounted: the refusal cannot be seen");
        return;
    }
    berth_only!("runc 1.1.5 accepts linux.intelRdt with only a closID where resctrl is absent");
    let b = Bundle::busybox().args(["true"]).set(
        &["linux"],
        "intelRdt",
        json!({"closID": "berth-e2e"}),
    );
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    assert!(
        out.stderr
            .contains("linux.intelRdt: resctrl is not mounted on this host"),
        "{out}"
    );
}
