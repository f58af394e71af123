//! The OCI lifecycle: create, start, state, kill, delete, run, list.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use berth_test_harness::{berth_only, require, unique_id, Bundle, Runtime};

/// A container that prints `ready`, waits for the host to create
/// `rootfs/tmp/go`, prints `bye` and exits 0.
fn waiting_bundle() -> Bundle {
    Bundle::busybox().sh("echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo bye")
}

/// Whether `pid` is a live (non-zombie) process.
fn alive(pid: i64) -> bool {
    fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

/// A container whose pid 1 sleeps until killed.
fn sleeping_bundle() -> Bundle {
    Bundle::busybox().args(["sleep", "1000"])
}

#[test]
fn create_start_state_delete() {
    require!(root);
    let rt = Runtime::new();
    let b = waiting_bundle();
    let id = unique_id();

    rt.create(&id, &b, &[]).ok();
    let st = rt.state(&id);
    assert_eq!(st["id"], id.as_str(), "{st}");
    assert_eq!(st["status"], "created", "{st}");
    assert!(
        st["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "{st}"
    );
    let bundle = st["bundle"].as_str().expect("state.bundle");
    assert_eq!(Path::new(bundle), b.path(), "{st}");
    let pid = st["pid"].as_i64().expect("state.pid");
    assert!(pid > 0, "{st}");
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} of a created container is not alive"
    );
    // The user process must not run before start.
    assert!(
        !rt.container_stdout(&id).contains("ready"),
        "process ran before start"
    );

    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    let st = rt.state(&id);
    assert_eq!(st["status"], "running", "{st}");
    assert_eq!(
        st["pid"].as_i64(),
        Some(pid),
        "pid changed across start: {st}"
    );

    fs::write(b.rootfs().join("tmp/go"), "").unwrap();
    rt.wait_status(&id, "stopped");
    assert!(rt.container_stdout(&id).contains("bye"));

    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    rt.cmd(&["state", &id]).fails();
}

#[test]
fn start_only_a_created_container() {
    require!(root);
    let rt = Runtime::new();
    let b = waiting_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    rt.start(&id).fails();
    assert_eq!(rt.status(&id), "running");
    assert_eq!(
        rt.container_stdout(&id).matches("ready").count(),
        1,
        "process ran twice"
    );
    fs::write(b.rootfs().join("tmp/go"), "").unwrap();
    rt.wait_status(&id, "stopped");
    rt.start(&id).fails();
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn run_returns_the_exit_code() {
    require!(root);
    let rt = Runtime::new();
    for code in [0, 3, 42] {
        let b = Bundle::busybox().sh(&format!("echo out; echo err >&2; exit {code}"));
        let id = unique_id();
        let out = rt.run(&id, &b).exits_with(code);
        assert_eq!(out.stdout, "out\n", "{out}");
        assert!(out.stderr.contains("err"), "{out}");
        rt.assert_no_residue(&id);
    }
}

#[test]
fn run_reports_128_plus_signal() {
    require!(root);
    let rt = Runtime::new();
    // Without a pid namespace the shell is not an init and can die of its
    // own signal (a namespace init ignores signals it has no handler for).
    let b = Bundle::busybox()
        .without_namespace("pid")
        .sh("kill -USR1 $$; sleep 5");
    let id = unique_id();
    rt.run(&id, &b).exits_with(128 + 10);
    rt.assert_no_residue(&id);
}

#[test]
fn run_killed_from_outside_reports_137() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    let running = rt.spawn_run(&id, &b, &[], Default::default());
    rt.wait_status(&id, "running");
    rt.kill(&id, Some("KILL")).ok();
    running.wait().exits_with(128 + 9);
    rt.assert_no_residue(&id);
}

#[test]
fn kill_accepts_names_with_and_without_sig_and_numbers() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    for sig in ["KILL", "SIGKILL", "9"] {
        let id = unique_id();
        rt.create(&id, &b, &[]).ok();
        rt.start(&id).ok();
        rt.wait_status(&id, "running");
        let pid = rt.state(&id)["pid"].as_i64().unwrap();
        rt.kill(&id, Some(sig)).ok();
        rt.wait_status(&id, "stopped");
        assert!(!alive(pid), "pid {pid} survived kill {sig}");
        rt.delete(&id, false).ok();
        rt.assert_no_residue(&id);
    }
}

#[test]
fn kill_defaults_to_sigterm() {
    require!(root);
    let rt = Runtime::new();
    // pid 1 of a pid namespace only receives signals it handles: trap TERM,
    // and only TERM, so the output proves which signal came.
    let b =
        Bundle::busybox().sh("trap 'echo got-TERM; exit 0' TERM; echo ready; sleep 1000 & wait");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    rt.kill(&id, None).ok();
    rt.wait_status(&id, "stopped");
    assert!(
        rt.container_stdout(&id).contains("got-TERM"),
        "{}",
        rt.container_stdout(&id)
    );
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn kill_of_a_created_container_works() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.kill(&id, Some("KILL")).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn delete_refuses_a_running_container_without_force() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let pid = rt.state(&id)["pid"].clone();
    rt.delete(&id, false).fails();
    let st = rt.state(&id);
    assert_eq!(
        st["status"], "running",
        "delete without --force touched it: {st}"
    );
    assert_eq!(st["pid"], pid);
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn delete_refuses_a_created_container_without_force() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    berth_only!(
        "runc 1.1.5 deletes a created container; runtime-spec says delete MUST fail unless stopped"
    );
    rt.delete(&id, false).fails();
    let st = rt.state(&id);
    assert_eq!(
        st["status"], "created",
        "delete without --force touched it: {st}"
    );
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn delete_force_removes_a_created_container() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn list_shows_containers_as_table_json_and_ids() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let (created, running) = (unique_id(), unique_id());
    rt.create(&created, &b, &[]).ok();
    rt.create(&running, &b, &[]).ok();
    rt.start(&running).ok();
    rt.wait_status(&running, "running");

    let table = rt.list(&[]).ok();
    let header = table.stdout.lines().next().unwrap_or_default().to_string();
    for col in ["ID", "PID", "STATUS", "BUNDLE"] {
        assert!(header.contains(col), "no {col} column:\n{table}");
    }
    for (id, status) in [(&created, "created"), (&running, "running")] {
        let row = table
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id.as_str()));
        let row = row.unwrap_or_else(|| panic!("{id} not listed:\n{table}"));
        assert!(
            row.split_whitespace().any(|w| w == status),
            "{id} not {status}: {row}"
        );
        assert!(
            row.contains(&*b.path().to_string_lossy()),
            "no bundle in {row}"
        );
    }

    let json = rt.list(&["--format", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("list json");
    let entries = v.as_array().expect("list --format json is an array");
    assert_eq!(entries.len(), 2, "{v}");
    for (id, status) in [(&created, "created"), (&running, "running")] {
        let e = entries
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id}: {v}"));
        assert_eq!(e["status"], status, "{e}");
        assert!(e["pid"].as_i64().is_some_and(|p| p > 0), "{e}");
        assert_eq!(e["bundle"].as_str().map(Path::new), Some(b.path()), "{e}");
    }

    let quiet = rt.list(&["-q"]).ok();
    let mut ids = quiet.lines();
    ids.sort_unstable();
    let mut want = vec![created.as_str(), running.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "{quiet}");

    rt.delete(&created, true).ok();
    rt.delete(&running, true).ok();
    rt.assert_gone(&created);
    rt.assert_no_residue(&running);
    assert!(rt.list(&["-q"]).ok().lines().is_empty());
}

#[test]
fn commands_on_an_unknown_container_fail() {
    require!(root);
    let rt = Runtime::new();
    let id = unique_id();
    rt.cmd(&["state", &id]).fails();
    rt.start(&id).fails();
    rt.kill(&id, Some("KILL")).fails();
    rt.delete(&id, false).fails();
    rt.assert_root_empty();
}

#[test]
fn second_create_of_one_id_fails_and_leaves_the_first_alone() {
    require!(root);
    let rt = Runtime::new();
    let first = Bundle::busybox().sh("echo first");
    let second = Bundle::busybox().sh("echo second");
    let id = unique_id();
    rt.create(&id, &first, &[]).ok();
    let before = rt.state(&id);
    rt.create(&id, &second, &[]).fails();
    let after = rt.state(&id);
    assert_eq!(after["status"], "created", "{after}");
    assert_eq!(after["pid"], before["pid"], "{after}");
    assert_eq!(after["bundle"], before["bundle"], "{after}");
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    let out = rt.container_stdout(&id);
    assert!(
        !out.contains("second"),
        "the second create's process ran: {out:?}"
    );
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn hundred_create_start_delete_cycles_leave_nothing() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let mut ids = Vec::new();
    for _ in 0..100 {
        let id = unique_id();
        rt.create(&id, &b, &[]).ok();
        rt.start(&id).ok();
        rt.wait_status(&id, "stopped");
        rt.delete(&id, false).ok();
        rt.assert_root_empty();
        ids.push(id);
    }
    for id in &ids {
        rt.assert_gone(id);
    }
}

#[test]
fn pid_file_holds_the_container_pid() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    let dir = berth_test_harness::temp_dir("berth-e2e-pidfile-");
    let pid_file = dir.path().join("pid");
    rt.create(&id, &b, &["--pid-file", &pid_file.to_string_lossy()])
        .ok();
    let written = fs::read_to_string(&pid_file).expect("pid file written");
    let pid: i64 = written
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{written:?}: {e}"));
    assert_eq!(Some(pid), rt.state(&id)["pid"].as_i64());
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn run_detach_leaves_the_container_running() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let id = unique_id();
    rt.run_with(&id, &b, &["--detach"], Default::default()).ok();
    assert_eq!(rt.status(&id), "running");
    rt.kill(&id, Some("KILL")).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn run_keep_leaves_the_stopped_container() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let id = unique_id();
    rt.run_with(&id, &b, &["--keep"], Default::default()).ok();
    assert_eq!(rt.status(&id), "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn no_pivot_builds_the_same_container() {
    require!(root);
    let rt = Runtime::new();
    // MS_MOVE + chroot instead of pivot_root: the rootfs, its mounts and
    // the hostname must look the same from inside. This guards the move
    // path against breaking; it cannot tell the two apart (nothing inside
    // the container, nor /proc/<pid>/mountinfo or setns from the host,
    // shows which switch was made: both end with the rootfs on top at /).
    let b = Bundle::busybox().hostname("nopivot").sh(
        "hostname; cat /etc/passwd | head -1; awk '$5 == \"/proc\" {n++} END {print n}' /proc/self/mountinfo; \
         awk '$5 == \"/\" {print \"root-mount\"}' /proc/self/mountinfo",
    );
    let id = unique_id();
    let out = rt
        .run_with(&id, &b, &["--no-pivot"], Default::default())
        .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "nopivot",
            "root:x:0:0:root:/root:/bin/sh",
            "1",
            "root-mount"
        ],
        "{out}"
    );
    rt.assert_no_residue(&id);
}

#[test]
fn spec_writes_a_starter_config_once() {
    require!(root);
    let rt = Runtime::new();
    let dir = berth_test_harness::temp_dir("berth-e2e-spec");
    let bundle = dir.path().to_string_lossy().into_owned();
    rt.cmd(&["spec", "--bundle", &bundle]).ok();
    let text = fs::read_to_string(dir.path().join("config.json")).expect("config.json written");
    let cfg: serde_json::Value = serde_json::from_str(&text).expect("config.json is JSON");
    assert!(
        cfg["ociVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("1.")),
        "{cfg}"
    );
    assert_eq!(cfg["root"]["path"], "rootfs", "{cfg}");
    assert!(
        cfg["process"]["args"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{cfg}"
    );
    // An existing config is never overwritten.
    rt.cmd(&["spec", "--bundle", &bundle]).fails();
    assert_eq!(
        fs::read_to_string(dir.path().join("config.json")).expect("still there"),
        text
    );
}

#[test]
fn create_without_process_succeeds_and_start_refuses() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().unset(&[], "process");
    let id = unique_id();
    let out = rt.create(&id, &b, &[]);
    berth_only!("runc 1.1.5 requires process at create; config.md: only start needs it");
    out.ok();
    assert_eq!(rt.status(&id), "created");
    let err = rt.start(&id).fails();
    assert!(
        err.stderr.contains("has no process"),
        "start of a process-less container: {}",
        err.stderr
    );
    assert_eq!(
        rt.status(&id),
        "created",
        "a refused start changed the container"
    );
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

/// A `delete --force` racing a `run -d` of the same id, sent at offsets
/// stepping through the run's first 2 ms: the run either claims the id first,
/// and the delete then waits for it and removes the container, or the
/// delete finds nothing. The run never fails, and nothing is left.
#[test]
fn delete_force_racing_a_create_of_the_same_id() {
    require!(root);
    berth_only!(
        "runc 1.1.5's delete removes a state directory without state.json, which its create \
         writes last: most racing runs fail (\"unable to store init state\")"
    );
    let rt = Runtime::new();
    let b = sleeping_bundle();
    let mut failed = Vec::new();
    // The window where a bare directory could be seen is microseconds
    // wide: the offsets step by 7 us.
    for i in 0..300u64 {
        let id = unique_id();
        let run = rt.spawn_run(&id, &b, &["-d"], berth_test_harness::Opts::default());
        std::thread::sleep(std::time::Duration::from_micros(i * 7));
        rt.delete(&id, true).ok();
        let out = run.wait();
        if out.code() != Some(0) {
            failed.push(format!("{:?}: {}", out.code(), out.stderr.trim()));
        }
        rt.delete(&id, true).ok();
        rt.assert_no_residue(&id);
    }
    assert!(failed.is_empty(), "runs failed:\n{}", failed.join("\n"));
}
