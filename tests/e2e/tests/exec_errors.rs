//! `exec` with bad input: a missing, stopped or paused container, an
//! unreadable or invalid process.json, a label the host cannot apply. Each
//! fails with a clear error and leaves the container as it was.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::PathBuf;

use berth_test_harness::wait::eventually_with;
use berth_test_harness::{
    berth_only, cgroup, json, require, temp_dir, unique_id, Bundle, Output, Runtime,
};

fn sleeper() -> Bundle {
    Bundle::busybox().sh("echo ready; exec sleep 100000")
}

fn running(rt: &Runtime, b: &Bundle) -> String {
    let id = unique_id();
    rt.create(&id, b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    id
}

/// The container still runs and still takes an exec.
#[track_caller]
fn still_fine(rt: &Runtime, id: &str) {
    assert_eq!(rt.status(id), "running");
    let out = rt.exec(&[id, "echo", "still-fine"]).ok();
    assert_eq!(out.stdout, "still-fine\n", "{out}");
}

/// One error line on stderr that contains `needle` (berth only).
#[track_caller]
fn says(out: &Output, needle: &str) {
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one error line:\n{out}");
    assert!(lines[0].contains(needle), "expected {needle:?}:\n{out}");
}

#[test]
fn exec_into_a_missing_container_fails() {
    require!(root);
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.exec(&[&id, "true"]).fails();
    rt.assert_root_empty();
    berth_only!("runc words it \"container does not exist\"");
    says(&out, &format!("container {id} does not exist"));
}

#[test]
fn exec_into_a_stopped_container_fails_and_changes_nothing() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    let out = rt.exec(&[&id, "echo", "must-not-run"]).fails();
    assert!(!out.stdout.contains("must-not-run"), "{out}");
    assert_eq!(rt.status(&id), "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc words it \"cannot exec in a stopped container\"");
    says(&out, "it is stopped");
}

#[test]
fn exec_with_a_bad_process_json_names_the_path_and_changes_nothing() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let dir = temp_dir("berth-e2e-exec-");
    let missing = dir.path().join("missing.json");
    let out_missing = rt
        .exec(&["--process", missing.to_str().unwrap(), &id])
        .fails();
    let write = |name: &str, v: serde_json::Value| -> PathBuf {
        let p = dir.path().join(name);
        fs::write(&p, v.to_string()).unwrap();
        p
    };
    let user = json!({"uid": 0, "gid": 0});
    let empty_args = write("empty.json", json!({"args": [], "cwd": "/", "user": user}));
    let out_empty = rt.exec(&["-p", empty_args.to_str().unwrap(), &id]).fails();
    let bad_type = write(
        "type.json",
        json!({"args": ["true"], "cwd": "/", "user": {"uid": "root", "gid": 0}}),
    );
    let out_type = rt.exec(&["-p", bad_type.to_str().unwrap(), &id]).fails();
    fs::write(dir.path().join("syntax.json"), "{\"args\": [").unwrap();
    let syntax = dir.path().join("syntax.json");
    let out_syntax = rt.exec(&["-p", syntax.to_str().unwrap(), &id]).fails();
    still_fine(&rt, &id);
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc's messages name no JSON path");
    says(&out_missing, &format!("read {}", missing.display()));
    says(&out_empty, "empty.json: args: must not be empty");
    says(&out_type, "type.json: user.uid: invalid type");
    says(&out_syntax, "syntax.json: line 1 column 10");
}

#[test]
fn exec_with_a_bad_command_or_cwd_fails_and_changes_nothing() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let nosuch = rt.exec(&[&id, "/bin/nosuch"]).fails();
    let cwd = rt.exec(&["--cwd", "/nonexistent", &id, "true"]).fails();
    still_fine(&rt, &id);
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc words these differently");
    says(&nosuch, "exec /bin/nosuch: No such file or directory");
    says(&cwd, "process.cwd");
}

#[test]
fn exec_with_a_label_the_host_cannot_apply_fails() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    // No such profile can be loaded anywhere; without AppArmor at all the
    // profile is refused too.
    let apparmor = rt
        .exec(&["--apparmor", "berth-e2e-no-such-profile", &id, "true"])
        .fails();
    // An SELinux label where SELinux is disabled is ignored with a warning
    // (runc's label package; runc 1.1.5 refuses it instead), as at create.
    let selinux_off = !std::path::Path::new("/sys/fs/selinux/enforce").exists();
    let selinux = (berth_test_harness::is_berth() && selinux_off)
        .then(|| rt.exec(&["--process-label", "berth_e2e_u:no_such_r:t:s0", &id, "true"]));
    still_fine(&rt, &id);
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc words this differently, and refuses an SELinux label where SELinux is off");
    says(
        &apparmor,
        "process.apparmorProfile \"berth-e2e-no-such-profile\"",
    );
    if let Some(selinux) = selinux {
        let selinux = selinux.ok();
        assert!(
            selinux
                .stderr
                .contains("process.selinuxLabel: SELinux is disabled on this host; ignored"),
            "{selinux}"
        );
    }
}

/// The container's own freezer on the host, if the runtime gave the
/// container cgroups of its own (named after its cgroupsPath): its cgroup
/// directory, the file that freezes it, and the frozen and thawed values
/// (the v1 freezer, else `cgroup.freeze` on a pure v2 host).
fn own_freezer(
    rt: &Runtime,
    id: &str,
) -> Option<(PathBuf, &'static str, &'static str, &'static str)> {
    let pid = rt.state(id)["pid"].as_i64().unwrap();
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let own = |path: &str| path.ends_with(&format!("berth-e2e-{id}"));
    let under = |root: &str, path: &str| PathBuf::from(root).join(path.trim_start_matches('/'));
    if let Some(path) = text
        .lines()
        .find_map(|l| l.split_once(":freezer:").map(|(_, p)| p))
    {
        let dir = under("/sys/fs/cgroup/freezer", path);
        return own(path).then_some((dir, "freezer.state", "FROZEN", "THAWED"));
    }
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let v2 = cgroup::is_pure_v2() && own(path);
    v2.then(|| (under("/sys/fs/cgroup", path), "cgroup.freeze", "1", "0"))
}

#[test]
fn exec_into_a_paused_container_fails_unless_ignore_paused() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    // Freezing a cgroup the container shared would freeze others.
    let (freezer, file, frozen, thawed) =
        own_freezer(&rt, &id).unwrap_or_else(|| panic!("container {id}: no freezer of its own"));
    let state = freezer.join(file);
    fs::write(&state, frozen).unwrap();
    let out = rt.exec(&[&id, "echo", "must-not-run"]).fails();
    assert!(!out.stdout.contains("must-not-run"), "{out}");
    // With --ignore-paused the process starts (frozen, like the rest of
    // the container) and finishes once the container is thawed.
    let args = ["exec", "--ignore-paused", &id, "echo", "ran-after-thaw"];
    let bg = rt.spawn_cmd(&args, Default::default());
    // Thaw only once the exec got past the check: its process (frozen,
    // like the rest of the container) has joined the cgroup.
    let procs = freezer.join("cgroup.procs");
    eventually_with(
        "the exec's process to join the frozen cgroup",
        || {
            fs::read_to_string(&procs)
                .unwrap_or_default()
                .lines()
                .count()
        },
        |n| *n > 1,
    );
    fs::write(&state, thawed).unwrap();
    let after = bg.wait().ok();
    assert!(after.stdout.contains("ran-after-thaw"), "{after}");
    still_fine(&rt, &id);
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc words it differently");
    says(&out, "it is paused");
}
