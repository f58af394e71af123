//! Bad `linux.resources`: create exits non-zero, names the field (berth),
//! and leaves nothing behind — no state dir, process, or cgroup directory
//! in any hierarchy.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::{berth_only, cgroup, json, require, unique_id, Bundle, Output, Runtime};

fn with_resources(r: serde_json::Value) -> Bundle {
    Bundle::busybox()
        .set(&["linux"], "resources", r)
        .args(["true"])
}

/// create fails and leaves nothing; returns its output.
#[track_caller]
fn create_fails(rt: &Runtime, b: &Bundle) -> Output {
    let id = unique_id();
    let out = rt.create(&id, b, &[]).fails();
    rt.assert_no_residue(&id);
    out
}

/// berth's error line names `field`.
#[track_caller]
fn names(out: &Output, field: &str) {
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("level=warning"))
        .collect();
    assert_eq!(errors.len(), 1, "want one error line:\n{out}");
    assert!(
        errors[0].contains(field),
        "error does not name {field}:\n{out}"
    );
}

/// Refused by both runtimes; berth names the field.
macro_rules! refused {
    ($name:ident, $resources:expr, $field:expr) => {
        #[test]
        fn $name() {
            require!(root);
            let rt = Runtime::new();
            let out = create_fails(&rt, &with_resources($resources));
            berth_only!("runc's messages name the cgroup file, not the field");
            names(&out, $field);
        }
    };
}

refused!(
    negative_memory_limit,
    json!({"memory": {"limit": -5}}),
    "linux.resources.memory.limit"
);

refused!(
    malformed_memory_limit,
    json!({"memory": {"limit": "64m"}}),
    "linux.resources.memory.limit"
);

refused!(
    negative_cpu_shares,
    json!({"cpu": {"shares": -5}}),
    "linux.resources.cpu.shares"
);

refused!(
    bad_cpuset,
    json!({"cpu": {"cpus": "0-nope"}}),
    "linux.resources.cpu.cpus"
);

refused!(
    bad_device_type,
    json!({"devices": [{"allow": true, "type": "x", "access": "rwm"}]}),
    "linux.resources.devices[0].type"
);

refused!(
    unknown_unified_key,
    json!({"unified": {"memory.bogus": "1"}}),
    "linux.resources.unified"
);

#[test]
fn a_controller_the_host_lacks_is_an_error_not_a_silent_no_op() {
    require!(root);
    if cgroup::has_v1("net_cls") {
        berth_test_harness::skip::host_lacks("a host without net_cls (this one has it)");
        return;
    }
    berth_only!("runc 1.1.5 silently ignores network.classID when net_cls is not mounted");
    let rt = Runtime::new();
    let out = create_fails(
        &rt,
        &with_resources(json!({"network": {"classID": 1048577}})),
    );
    names(&out, "linux.resources.network.classID");
}

#[test]
fn blkio_weight_without_a_weight_file_is_an_error() {
    require!(root);
    if cgroup::is_pure_v2() || !cgroup::has_v1("blkio") {
        berth_test_harness::skip::host_lacks("a v1 blkio hierarchy");
        return;
    }
    let weight = std::path::Path::new("/sys/fs/cgroup/blkio/blkio.weight");
    if weight.exists() {
        berth_test_harness::skip::host_lacks("a blkio hierarchy without blkio.weight");
        return;
    }
    let rt = Runtime::new();
    let out = create_fails(&rt, &with_resources(json!({"blockIO": {"weight": 500}})));
    berth_only!("runc's messages name the cgroup file, not the field");
    names(&out, "linux.resources.blockIO.weight");
}

#[test]
fn unified_on_a_host_without_cgroup2_for_it_is_an_error() {
    require!(root);
    if cgroup::is_pure_v2() {
        berth_test_harness::skip::host_lacks("cgroup v1 (this host is pure v2)");
        return;
    }
    let rt = Runtime::new();
    let out = create_fails(
        &rt,
        &with_resources(json!({"unified": {"memory.max": "1000000"}})),
    );
    berth_only!("runc's messages name the cgroup file, not the field");
    names(&out, "linux.resources.unified");
}
