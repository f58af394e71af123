//! The cgroup through the lifecycle: pause/resume freeze and thaw every
//! process, `kill --all` reaches processes init does not know, and delete
//! leaves no cgroup directory in any hierarchy.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::residue::{cgroup_pids, existing_cgroup_dirs};
use berth_test_harness::wait::eventually;
use berth_test_harness::{cgroup, require, skip, temp_dir, unique_id, Bundle, Runtime};

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

#[test]
fn delete_removes_cgroups_made_below_the_container() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().sh("exec sleep 1000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let dirs = existing_cgroup_dirs(&cgroup::path_of(&id));
    assert!(!dirs.is_empty(), "container {id} has no cgroup directory");
    // What `exec --cgroup` users and nested managers leave: two levels.
    for d in &dirs {
        fs::create_dir_all(d.join("sub/inner")).unwrap();
    }
    rt.delete(&id, true).ok();
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    assert!(left.is_empty(), "delete left {left:?}");
    rt.assert_no_residue(&id);
}

/// Each line of `/proc/<pid>/cgroup` (v1 ones, and with `unified` the
/// `0::` one too) ends in the container's cgroup path.
fn in_container_cgroups(pid: i32, id: &str, unified: bool) -> Result<(), String> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).map_err(|e| e.to_string())?;
    let want = cgroup::path_of(id);
    let lines = text.lines().filter(|l| unified || !l.starts_with("0::"));
    match lines
        .into_iter()
        .find(|l| !l.ends_with(&format!("/{want}")))
    {
        None => Ok(()),
        Some(line) => Err(format!("pid {pid}: {line} (all of {text:?})")),
    }
}

#[test]
fn init_and_exec_are_in_the_cgroups_and_the_runtime_is_not() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let id = unique_id();
    // `run` stays in the foreground, as does `exec`: neither runtime
    // process may be left in the container's cgroups.
    let run = rt.spawn_run(&id, &b, &[], Default::default());
    let path = cgroup::path_of(&id);
    // runc moves init into the cgroup before it writes the state.
    eventually("init in the cgroup and the state written", || {
        cgroup_pids(&path).len() == 1 && rt.try_state(&id).is_some()
    });
    let init = i32::try_from(rt.state(&id)["pid"].as_i64().unwrap()).unwrap();
    in_container_cgroups(init, &id, false).unwrap();
    let exec = rt.spawn_cmd(&["exec", &id, "sleep", "1000"], Default::default());
    // While it clones, berth's thread visits the cgroups (as runc's own
    // `runc init` sits in them); by the time the process runs it has left.
    // (berth's exec child, which clones the process and exits, may still be
    // listed for a moment; only the sleeps are checked.)
    let sleeps = || {
        let comm = |p: &i32| fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let pids = cgroup_pids(&path).into_iter();
        pids.filter(|p| comm(p).trim() == "sleep")
            .collect::<Vec<i32>>()
    };
    eventually("the exec'd process in the cgroup", || sleeps().len() == 2);
    let pids = cgroup_pids(&path);
    let sleeping = sleeps();
    for p in &sleeping {
        in_container_cgroups(*p, &id, false).unwrap();
    }
    assert!(
        !pids.contains(&run.pid()),
        "berth run {} is in {pids:?}",
        run.pid()
    );
    assert!(
        !pids.contains(&exec.pid()),
        "berth exec {} is in {pids:?}",
        exec.pid()
    );
    if cgroup::is_pure_v2() || berth_test_harness::is_berth() {
        for p in &sleeping {
            in_container_cgroups(*p, &id, true).unwrap();
        }
    } else {
        skip::berth_only("runc 1.1.5 leaves a hybrid host's unified hierarchy alone");
    }
    rt.kill(&id, Some("KILL")).ok();
    exec.kill_and_wait();
    run.wait();
    rt.assert_no_residue(&id);
}

#[test]
fn a_pids_limit_of_one_leaves_room_for_init() {
    require!(root);
    let rt = Runtime::new();
    // No pid namespace: init is the only process the container needs.
    let b = Bundle::busybox()
        .without_namespace("pid")
        .set(
            &["linux"],
            "resources",
            serde_json::json!({"pids": {"limit": 1}}),
        )
        .args(["cat", "/proc/self/cgroup"]);
    let id = unique_id();
    let out = rt.run(&id, &b).ok().stdout;
    let path = format!("/{}", cgroup::path_of(&id));
    let pids_line = |l: &&str| l.contains(":pids:") || l.starts_with("0::");
    let line = out.lines().find(|l| pids_line(l) && l.ends_with(&path));
    assert!(
        line.is_some(),
        "no pids cgroup line ending in {path}: {out}"
    );
    rt.assert_no_residue(&id);
}
