//! `linux.resources` applied: each value read back from the container's
//! cgroup files on the host (v1 or v2 name, whichever the host has) and,
//! where the container sees it, from inside.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::{cgroup, json, require, skip, unique_id, Bundle, Runtime};

const MIB: u64 = 1 << 20;

/// Reads the container's v1 memory limit or v2 memory.max from inside.
const INSIDE_MEMORY: &str = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null \
                             || cat /sys/fs/cgroup/memory.max";

#[test]
fn memory_pids_and_cpu_limits_are_in_the_cgroup_files() {
    require!(root);
    let rt = Runtime::new();
    // A cgroup namespace: on cgroup v2 a cgroup2 mount then shows the
    // container's own cgroup at /sys/fs/cgroup (without one, runc and berth
    // mount the whole hierarchy there).
    let b = Bundle::busybox()
        .namespace("cgroup", None)
        .set(
            &["linux"],
            "resources",
            json!({
                "devices": [{"allow": false, "access": "rwm"}],
                "memory": {"limit": 64 * MIB, "reservation": 32 * MIB, "swap": 128 * MIB},
                "pids": {"limit": 50},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}
            }),
        )
        .sh(&format!("echo mem=$({INSIDE_MEMORY})"));
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let limit = cgroup::read(&id, &["memory.limit_in_bytes", "memory.max"]);
    assert_eq!(limit, (64 * MIB).to_string());
    let low = cgroup::read(&id, &["memory.soft_limit_in_bytes", "memory.low"]);
    assert_eq!(low, (32 * MIB).to_string());
    match cgroup::find(&id, &["memory.memsw.limit_in_bytes"]) {
        Some((_, memsw)) => assert_eq!(memsw, (128 * MIB).to_string()),
        // v2: swap alone, 128 MiB of memory+swap minus the 64 MiB limit.
        None => assert_eq!(
            cgroup::read(&id, &["memory.swap.max"]),
            (64 * MIB).to_string()
        ),
    }
    assert_eq!(cgroup::read(&id, &["pids.max"]), "50");
    match cgroup::find(&id, &["cpu.shares"]) {
        Some((_, shares)) => {
            assert_eq!(shares, "512");
            assert_eq!(cgroup::read(&id, &["cpu.cfs_quota_us"]), "50000");
            assert_eq!(cgroup::read(&id, &["cpu.cfs_period_us"]), "100000");
        }
        None => {
            // runc's conversion: 1 + (512 - 2) * 9999 / 262142.
            assert_eq!(cgroup::read(&id, &["cpu.weight"]), "20");
            assert_eq!(cgroup::read(&id, &["cpu.max"]), "50000 100000");
        }
    }
    assert_eq!(cgroup::read(&id, &["cpuset.cpus"]), "0");
    assert_eq!(cgroup::read(&id, &["cpuset.mems"]), "0");
    rt.start(&id).ok();
    let out = rt.wait_output(&id, "mem=");
    assert!(out.contains(&format!("mem={}", 64 * MIB)), "inside: {out}");
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

/// A subshell that fills its memory cgroup, first in line for the OOM
/// killer; its status is tail's.
const HOG: &str =
    "(echo 1000 >/proc/self/oom_score_adj; head -c 300000000 /dev/zero | tail >/dev/null)";

#[test]
fn a_memory_hog_is_killed_at_its_limit() {
    require!(root);
    let rt = Runtime::new();
    // No swap either (memory+swap = memory), so the hog cannot escape.
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "resources",
            json!({"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}),
        )
        // tail keeps the whole newline-free input in memory: fast, and
        // bounded at 300 MB should the limit be missing. The hog's
        // oom_score_adj of 1000 makes the OOM killer take it (or head),
        // never the container's shell, which must live to report.
        .sh(&format!("{HOG}; echo hog-exit=$?"));
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let out = rt.wait_output(&id, "hog-exit=");
    rt.wait_status(&id, "stopped");
    assert!(
        out.contains("hog-exit=137"),
        "the hog was not SIGKILLed:\n{out}"
    );
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

/// Whether hugetlb limits can be shown here with `free_pages` free 2 MiB
/// pages (0: the page size must exist); prints why not.
fn hugetlb_testable(free_pages: u64) -> bool {
    if !cgroup::has_v1("hugetlb") && !cgroup::has_v2("hugetlb") {
        skip::host_lacks("a hugetlb cgroup controller");
        return false;
    }
    let pool = std::path::Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB");
    let free = fs::read_to_string(pool.join("free_hugepages"))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match free {
        None => {
            skip::host_lacks("2 MiB huge pages");
            return false;
        }
        // Reserving some would change the whole host (vm.nr_hugepages);
        // the cgroup v2 VM reserves four (hack/vm/guest-init.sh).
        Some(n) if n < free_pages => {
            skip::host_lacks("two free 2 MiB huge pages (vm.nr_hugepages)");
            return false;
        }
        Some(_) => {}
    }
    let unified_only = !cgroup::has_v1("hugetlb") && !cgroup::is_pure_v2();
    if unified_only && !berth_test_harness::is_berth() {
        skip::berth_only(
            "runc 1.1.5 ignores hugetlb when only the unified hierarchy of a hybrid host has it",
        );
        return false;
    }
    true
}

#[test]
fn hugetlb_limit_stops_the_page_beyond_it() {
    require!(root);
    if !hugetlb_testable(2) {
        return;
    }
    let rt = Runtime::new();
    // fallocate on hugetlbfs takes a huge page at once, charged to the
    // caller's hugetlb cgroup: the first fits the 2 MiB limit, the second not.
    let b = Bundle::busybox()
        .mount("/hp", "hugetlbfs", "hugetlbfs", &["pagesize=2M"])
        .set(
            &["linux"],
            "resources",
            json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 2 * MIB}]}),
        )
        .sh("fallocate -l 2097152 /hp/a && echo first=ok; \
             fallocate -l 2097152 /hp/b && echo second=ok || echo second=refused");
    let out = rt.run_ok(&b);
    assert!(
        out.contains("first=ok"),
        "the first huge page failed: {out}"
    );
    assert!(
        out.contains("second=refused"),
        "the limit let a second page through: {out}"
    );
}

#[test]
fn hugetlb_limits_apply_wherever_the_controller_lives() {
    require!(root);
    if !hugetlb_testable(0) {
        return;
    }
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "resources",
            json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MIB}]}),
        )
        .args(["true"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let files = ["hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.max"];
    assert_eq!(cgroup::read(&id, &files), (4 * MIB).to_string());
    if let Some((path, rsvd)) = cgroup::find(&id, &["hugetlb.2MB.rsvd.max"]) {
        if berth_test_harness::is_berth() {
            assert_eq!(rsvd, (4 * MIB).to_string(), "{}", path.display());
        } else {
            skip::berth_only("runc 1.1.5 does not set hugetlb.<size>.rsvd.max (runc 1.2 does)");
        }
    }
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
