//! The cgroup through the lifecycle: pause/resume freeze and thaw every
//! process, `kill --all` reaches processes init does not know, and delete
//! leaves no cgroup directory in any hierarchy.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::residue::cgroup_pids;
use berth_test_harness::wait::eventually;
use berth_test_harness::{cgroup, require, temp_dir, unique_id, Bundle, Runtime};

#[test]
fn pause_stops_a_counter_and_resume_restarts_it() {
    require!(root);
    let rt = Runtime::new();
    let shared = temp_dir("berth-e2e-counter");
    let b = Bundle::busybox()
        .mount("/shared", "bind", shared.path().to_str().unwrap(), &["rbind", "rw"])
        .sh("i=0; while true; do i=$((i+1)); echo $i > /shared/n.tmp; mv /shared/n.tmp /shared/n; done");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let count = || fs::read_to_string(shared.path().join("n")).unwrap_or_default();
    eventually("the counter to start", || !count().is_empty());

    rt.cmd(&["pause", &id]).ok();
    assert_eq!(rt.status(&id), "paused");
    let frozen = cgroup::read(&id, &["freezer.state", "cgroup.freeze"]);
    assert!(frozen == "FROZEN" || frozen == "1", "freezer says {frozen}");
    let before = count();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(count(), before, "the counter moved while paused");
    rt.cmd(&["pause", &id]).fails();

    rt.cmd(&["resume", &id]).ok();
    assert_eq!(rt.status(&id), "running");
    eventually("the counter to move again", || count() != before);
    rt.cmd(&["resume", &id]).fails();

    rt.kill(&id, Some("KILL")).ok();
    rt.wait_status(&id, "stopped");
    rt.cmd(&["pause", &id]).fails();
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn delete_force_kills_a_paused_container() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.cmd(&["pause", &id]).ok();
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn kill_all_reaches_a_process_in_a_new_session_and_succeeds_when_stopped() {
    require!(root);
    let rt = Runtime::new();
    // No pid namespace: init's death would not take the others with it.
    let b = Bundle::busybox()
        .without_namespace("pid")
        .sh("setsid sleep 1000 & sleep 1000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let path = cgroup::path_of(&id);
    eventually("both sleeps in the cgroup", || {
        cgroup_pids(&path).len() >= 2
    });
    rt.cmd(&["kill", "--all", &id, "KILL"]).ok();
    eventually("every process of the cgroup to die", || {
        cgroup_pids(&path).is_empty()
    });
    rt.wait_status(&id, "stopped");
    // containerd's CRI plugin does this after every exit.
    rt.cmd(&["kill", "--all", &id, "KILL"]).ok();
    rt.kill(&id, Some("KILL")).fails();
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn delete_kills_what_is_left_in_the_cgroup() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .without_namespace("pid")
        .sh("setsid sleep 1000 & exec sleep 1000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let path = cgroup::path_of(&id);
    eventually("both sleeps in the cgroup", || {
        cgroup_pids(&path).len() >= 2
    });
    rt.delete(&id, true).ok();
    assert!(
        cgroup_pids(&path).is_empty(),
        "delete -f left {:?}",
        cgroup_pids(&path)
    );
    rt.assert_no_residue(&id);
}
