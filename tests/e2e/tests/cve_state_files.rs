//! Files the runtime writes on the host for its caller: a planted symlink
//! at the `--pid-file`'s temp name must not be written through, and a
//! `--root` that is a symlink, someone else's, or writable by others is
//! refused before anything is read from or written to it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use berth_test_harness::{berth_only, require, temp_dir, unique_id, Bundle, Runtime};

#[test]
fn a_planted_symlink_at_the_pid_file_temp_name_is_not_followed() {
    require!(root);
    let dir = temp_dir("berth-e2e-pidfile");
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    // berth's temp name; runc 1.1.5 uses ".pid" and makes it O_EXCL.
    std::os::unix::fs::symlink(&victim, dir.path().join(".pid.tmp")).unwrap();
    let pid_file = dir.path().join("pid");
    let rt = Runtime::new();
    let id = unique_id();
    let b = Bundle::busybox().args(["true"]);
    rt.create(&id, &b, &["--pid-file", pid_file.to_str().unwrap()])
        .ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

/// `state` with `--root ROOT` fails and (berth) says why.
fn root_refused(root: &std::path::Path, needle: &str) {
    let out = Command::new(Runtime::new().bin())
        .args(["--root", root.to_str().unwrap(), "list"])
        .output()
        .expect("run runtime");
    berth_only!("runc 1.1.5 does not check --root");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "list accepted --root {root:?}");
    assert!(stderr.contains(needle), "expected {needle:?}: {stderr}");
}

#[test]
fn a_symlinked_state_root_is_refused() {
    require!(root);
    let dir = temp_dir("berth-e2e-root");
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    root_refused(&link, "is a symlink");
}

#[test]
fn a_world_writable_state_root_is_refused() {
    require!(root);
    let dir = temp_dir("berth-e2e-root");
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
    root_refused(&root, "writable by group or others");
}

#[test]
fn a_state_root_owned_by_someone_else_is_refused() {
    require!(root);
    let dir = temp_dir("berth-e2e-root");
    let root = dir.path().join("root");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&root, Some(65534), Some(65534)).unwrap();
    root_refused(&root, "owned by uid 65534");
}
