//! `update`: runc's flags and `-r FILE|-` change a live container's
//! cgroup; what is not given stays; bad values leave it as it was.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::{cgroup, json, require, temp_dir, unique_id, Bundle, Opts, Runtime};

const MIB: u64 = 1 << 20;

fn limited() -> Bundle {
    Bundle::busybox()
        .set(
            &["linux"],
            "resources",
            json!({
                "devices": [{"allow": false, "access": "rwm"}],
                "memory": {"limit": 64 * MIB},
                "pids": {"limit": 40},
                "cpu": {"shares": 1024}
            }),
        )
        .args(["sleep", "1000"])
}

fn memory_limit(id: &str) -> String {
    cgroup::read(id, &["memory.limit_in_bytes", "memory.max"])
}

#[test]
fn update_flags_change_limits_live() {
    require!(root);
    let rt = Runtime::new();
    let b = limited();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.cmd(&["update", "--memory", "128m", "--pids-limit", "20", &id])
        .ok();
    assert_eq!(memory_limit(&id), (128 * MIB).to_string());
    assert_eq!(cgroup::read(&id, &["pids.max"]), "20");
    // Not given: unchanged.
    let shares = cgroup::find(&id, &["cpu.shares"]).map(|(_, s)| s);
    if let Some(shares) = shares {
        assert_eq!(shares, "1024");
    }
    rt.cmd(&[
        "update",
        "--cpu-quota",
        "20000",
        "--cpu-period",
        "100000",
        &id,
    ])
    .ok();
    let quota = cgroup::find(&id, &["cpu.cfs_quota_us"]).map(|(_, q)| q);
    let quota = quota.unwrap_or_else(|| cgroup::read(&id, &["cpu.max"]));
    assert!(quota == "20000" || quota == "20000 100000", "quota {quota}");
    // A bad value: an error, and the limit stays.
    rt.cmd(&["update", "--memory", "lots", &id]).fails();
    assert_eq!(memory_limit(&id), (128 * MIB).to_string());
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn update_reads_resources_json_from_a_file_and_stdin() {
    require!(root);
    let rt = Runtime::new();
    let b = limited();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let dir = temp_dir("berth-e2e-update");
    let file = dir.path().join("r.json");
    std::fs::write(&file, json!({"memory": {"limit": 96 * MIB}}).to_string()).unwrap();
    rt.cmd(&["update", "-r", file.to_str().unwrap(), &id]).ok();
    assert_eq!(memory_limit(&id), (96 * MIB).to_string());
    std::fs::write(&file, json!({"pids": {"limit": 33}}).to_string()).unwrap();
    let opts = Opts {
        stdin: Some(file.clone()),
        ..Opts::default()
    };
    rt.cmd_with(&["update", "-r", "-", &id], opts).ok();
    assert_eq!(cgroup::read(&id, &["pids.max"]), "33");
    assert_eq!(memory_limit(&id), (96 * MIB).to_string());
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn update_of_a_stopped_container_fails() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    rt.cmd(&["update", "--pids-limit", "10", &id]).fails();
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}
