//! runc compatibility that engines rely on: `spec --rootless`, the global
//! `--rootless` and `--systemd-cgroup` flags, `create --pidfd-socket`, and
//! the binary invoked through a symlink named `runc`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

use berth_test_harness::{
    berth_only, json, require, temp_dir, unique_id, Bundle, ConsoleSocket, Runtime,
};
use serde_json::Value;

#[test]
fn spec_rootless_writes_a_user_namespace_config_that_runs() {
    require!(root);
    let rt = Runtime::new();
    let dir = temp_dir("berth-e2e-spec-");
    let bundle = dir.path().to_str().unwrap();
    rt.cmd(&["spec", "--rootless", "--bundle", bundle]).ok();
    let text = fs::read_to_string(dir.path().join("config.json")).unwrap();
    let cfg: Value = serde_json::from_str(&text).unwrap();
    let types: Vec<&str> = cfg["linux"]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"user") && !types.contains(&"network"),
        "{types:?}"
    );
    // /proc/self belongs to our effective uid.
    let euid = fs::metadata("/proc/self").unwrap().uid();
    assert_eq!(cfg["linux"]["uidMappings"][0]["hostID"], euid, "{cfg}");
    assert_eq!(cfg["linux"]["uidMappings"][0]["size"], 1, "{cfg}");
    assert!(
        !text.contains("gid=5"),
        "uid=/gid= options must go:\n{text}"
    );

    // The template runs (as root here), with a non-interactive process.
    let mut b = Bundle::busybox();
    *b.config_mut() = cfg;
    let b = b
        .set(&["process"], "terminal", json!(false))
        .sh("cat /proc/self/uid_map; ls /sys/kernel >/dev/null && echo sys-ok");
    let out = rt.run_ok(&b);
    let map: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(map, ["0", &euid.to_string(), "1"], "{out}");
    assert!(out.contains("sys-ok"), "{out}");
}

#[test]
fn spec_and_features_work_for_a_user_whose_state_root_is_not_theirs() {
    require!(root);
    // As uid 1000 with no XDG_RUNTIME_DIR, the default state root is one
    // this user does not own; neither command touches it (runc's neither).
    let dir = temp_dir("berth-e2e-spec-user-");
    std::os::unix::fs::chown(dir.path(), Some(1000), Some(1000)).unwrap();
    let bin = berth_test_harness::runtime::runtime_bin();
    for args in [&["spec", "--rootless"][..], &["features"]] {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid", "1000", "--regid", "1000", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .current_dir(dir.path())
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?} as uid 1000: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cfg: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["linux"]["uidMappings"][0]["hostID"], 1000, "{cfg}");
}

#[test]
fn the_global_rootless_flag_takes_runcs_values() {
    require!(root);
    let rt = Runtime::new();
    for value in ["true", "false", "auto"] {
        rt.cmd(&[&format!("--rootless={value}"), "list"]).ok();
    }
}

#[test]
fn systemd_cgroup_is_a_clear_error() {
    require!(root);
    let rt = Runtime::new();
    berth_only!("runc 1.1.5 implements the systemd cgroup driver");
    let b = Bundle::busybox().args(["true"]);
    let id = unique_id();
    // A global flag, before the command, as containerd and conmon pass it.
    let bundle = b.path().to_string_lossy();
    let out = rt
        .cmd(&["--systemd-cgroup", "create", "--bundle", &bundle, &id])
        .fails();
    rt.assert_no_residue(&id);
    assert!(out.stderr.contains("--systemd-cgroup"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}

#[test]
fn pidfd_socket_receives_a_pidfd_of_init() {
    require!(root);
    let rt = Runtime::new();
    berth_only!("--pidfd-socket arrived in runc 1.2");
    let sock = ConsoleSocket::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let id = unique_id();
    let path = sock.path().to_str().unwrap().to_string();
    rt.create(&id, &b, &["--pidfd-socket", &path]).ok();
    let fd = sock.receive_fd();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
    let fd_pid = info
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .unwrap_or_else(|| panic!("not a pidfd:\n{info}"));
    assert_eq!(fd_pid.trim(), pid.to_string(), "{info}");
    let kind = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    assert_eq!(kind.to_str(), Some("anon_inode:[pidfd]"));
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn a_symlink_named_runc_behaves_the_same() {
    require!(root);
    let dir = temp_dir("berth-e2e-runc-link-");
    let link = dir.path().join("runc");
    std::os::unix::fs::symlink(Runtime::new().bin(), &link).unwrap();
    let rt = Runtime::with_bin(link);
    let out = rt.run_ok(&Bundle::busybox().sh("echo via-runc-link"));
    assert_eq!(out, "via-runc-link\n");
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    assert_eq!(rt.status(&id), "created");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
