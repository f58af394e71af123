//! A runtime killed while the container is still being built must not
//! leave its init behind, blocked and unreaped, in `creating`: berth's init
//! dies with its parent (`PR_SET_PDEATHSIG`, re-checked after setting it).
//! Nor may it leave anything that `delete -f` does not remove.
//!
//! To stop init at a known point before it reports ready, its seccomp
//! filter notifies `umask` (which init calls after loading the filter) to a
//! listener that never answers.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::notify::NotifyListener;
use berth_test_harness::residue::processes_mentioning;
use berth_test_harness::wait::eventually;
use std::time::Duration;

use berth_test_harness::{berth_only, json, require, temp_dir, unique_id, Bundle, Opts, Runtime};

#[test]
fn init_dies_with_a_killed_runtime() {
    require!(root);
    berth_only!("runc 1.1.5's init outlives a killed `runc run` while it waits before ready");
    let dir = temp_dir("berth-e2e-orphan");
    let listener = NotifyListener::silent(dir.path());
    let b = Bundle::busybox().args(["true"]).set(
        &["linux"],
        "seccomp",
        json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": listener.path(),
            "syscalls": [{"names": ["umask"], "action": "SCMP_ACT_NOTIFY"}]
        }),
    );
    let rt = Runtime::new();
    let id = unique_id();
    let mut running = rt.spawn_run(&id, &b, &[], Opts::default());
    // The notify fd arrived: init has loaded its filter and is about to
    // block in umask, before it reports ready.
    listener.state();
    running.kill();
    running.wait();
    eventually("the container's processes die with the runtime", || {
        processes_mentioning(&id).is_empty()
    });
    rt.delete(&id, true);
    rt.assert_no_residue(&id);
}

#[test]
fn a_run_killed_at_any_moment_leaves_nothing_after_delete_force() {
    require!(root);
    berth_only!("runc 1.1.5 leaves the cgroups of a create killed before it saved its state");
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    // A `run -d` takes a few milliseconds here: kill it every 0.1 ms of
    // that span, from before it has read the config to after it returned.
    for step in 0..80u64 {
        let id = unique_id();
        let mut running = rt.spawn_run(&id, &b, &["-d"], Opts::default());
        std::thread::sleep(Duration::from_micros(100 * step));
        running.kill();
        running.wait();
        // An init still alive (still the runtime: its command line) must
        // belong to a container recorded as created; any other dies with
        // the killed runtime.
        eventually(
            "the killed run's init to die unless recorded as created",
            || {
                let alive = processes_mentioning(&id)
                    .iter()
                    .any(|p| p.cmdline.contains(" run "));
                let status = rt.try_state(&id).map(|s| s["status"].clone());
                !alive || status == Some(json!("created")) || status == Some(json!("running"))
            },
        );
        rt.delete(&id, true).ok();
        rt.assert_no_residue(&id);
    }
}

#[test]
fn an_exec_killed_at_any_moment_leaves_no_runtime_process() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().sh("echo ready; exec sleep 100000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    // An exec takes a few milliseconds: kill it every 0.15 ms of that span.
    for step in 0..30u64 {
        let mut running = rt.spawn_cmd(&["exec", &id, "true"], Opts::default());
        std::thread::sleep(Duration::from_micros(150 * step));
        running.kill();
        running.wait();
    }
    // What is left of a killed exec carries the runtime's command line.
    let runtime_left = || {
        processes_mentioning(&id)
            .into_iter()
            .filter(|p| p.cmdline.contains(" exec "))
            .map(|p| format!("{} {}", p.pid, p.cmdline))
            .collect::<Vec<_>>()
    };
    eventually("the processes of the killed execs to exit", || {
        runtime_left().is_empty()
    });
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
