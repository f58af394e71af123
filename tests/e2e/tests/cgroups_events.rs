//! `events` (stats once, on an interval, and `oom` when the kernel's OOM
//! killer strikes in the container) and `ps`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::wait::eventually;
use berth_test_harness::{json, require, temp_dir, unique_id, Bundle, Opts, Runtime};
use serde_json::Value;

const MIB: u64 = 1 << 20;

fn events(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn events_stats_reports_the_limits_and_usage() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "resources",
            json!({"memory": {"limit": 48 * MIB}, "pids": {"limit": 30}}),
        )
        .args(["sleep", "1000"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let out = rt.cmd(&["events", "--stats", &id]).ok();
    let ev = events(&out.stdout);
    assert_eq!(ev.len(), 1, "{out}");
    assert_eq!(ev[0]["type"], "stats");
    assert_eq!(ev[0]["id"], id.as_str());
    let data = &ev[0]["data"];
    assert_eq!(data["memory"]["usage"]["limit"], 48 * MIB, "{out}");
    assert!(
        data["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
        "{out}"
    );
    // Right after start, runc's init may still be exiting its threads.
    assert!(data["pids"]["current"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(data["pids"]["limit"], 30, "{out}");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn a_memory_hog_in_a_32_mib_container_makes_an_oom_event() {
    require!(root);
    let rt = Runtime::new();
    let shared = temp_dir("berth-e2e-oom");
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "resources",
            json!({"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}),
        )
        .mount(
            "/shared",
            "bind",
            shared.path().to_str().unwrap(),
            &["rbind", "rw"],
        )
        // The hog goes first to the OOM killer (oom_score_adj 1000), so
        // the shell lives on to be killed by the test.
        .sh("while [ ! -e /shared/go ]; do sleep 0.05; done; \
             (echo 1000 >/proc/self/oom_score_adj; head -c 300000000 /dev/zero | tail >/dev/null); \
             sleep 1000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let ev = rt.spawn_cmd(&["events", "--interval", "100ms", &id], Opts::default());
    // A stats line means events has read the OOM counter's baseline.
    eventually("a first stats event", || {
        ev.stdout_so_far().contains("\"stats\"")
    });
    std::fs::write(shared.path().join("go"), b"").unwrap();
    eventually("an oom event", || ev.stdout_so_far().contains("\"oom\""));
    // runc's events runs on after the container; berth's ends with it.
    let out = ev.kill_and_wait();
    rt.kill(&id, Some("KILL")).ok();
    let ooms: Vec<Value> = events(&out.stdout)
        .into_iter()
        .filter(|e| e["type"] == "oom")
        .collect();
    assert!(!ooms.is_empty(), "{out}");
    assert_eq!(ooms[0]["id"], id.as_str());
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn ps_lists_the_containers_processes() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().sh("sleep 1001 & sleep 1002");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let json_pids = || -> Vec<i64> {
        let out = rt.cmd(&["ps", "--format", "json", &id]).ok();
        serde_json::from_str(&out.stdout).unwrap()
    };
    // Both sleeps exec'd (until then ps may show the runtime's init).
    let table = || rt.cmd(&["ps", &id]).ok().stdout;
    eventually("both sleeps in ps", || {
        let t = table();
        t.contains("sleep 1001") && t.contains("sleep 1002")
    });
    let table = table();
    assert!(table.lines().next().unwrap().contains("PID"), "{table}");
    assert_eq!(json_pids().len(), 2, "{table}");
    assert!(!table.contains("cargo"), "a host process listed:\n{table}");
    let custom = rt.cmd(&["ps", &id, "-o", "pid,args"]).ok().stdout;
    assert!(
        custom.lines().next().unwrap().contains("COMMAND"),
        "{custom}"
    );
    assert_eq!(custom.lines().count(), json_pids().len() + 1, "{custom}");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
