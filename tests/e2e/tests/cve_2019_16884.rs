//! CVE-2019-16884 / CVE-2025-52881: a `mounts` entry that puts something
//! other than a fresh procfs on `/proc` (a directory whose `self/fd/*` or
//! `self/attr/*` are symlinks to a decoy, or a tmpfs) lets the runtime's
//! later writes to `/proc` land in the decoy: LSM labels, sysctls, the
//! read-only remount of the rootfs. Such entries are refused, and so is
//! anything but sysfs on `/sys`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::{berth_only, require, temp_dir, unique_id, Bundle, Runtime};

/// `create` fails, leaves nothing, and (berth) names the entry.
fn refused(b: &Bundle, needle: &str) {
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.create(&id, b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently");
    assert!(out.stderr.contains(needle), "expected {needle:?}:\n{out}");
}

#[test]
fn a_bind_mount_over_proc_is_refused() {
    require!(root);
    // A fake /proc whose self/fd entries point at a decoy file.
    let fake = temp_dir("berth-e2e-fakeproc");
    fs::create_dir_all(fake.path().join("self/fd")).unwrap();
    fs::write(fake.path().join("decoy"), "").unwrap();
    for n in 0..16 {
        std::os::unix::fs::symlink(
            fake.path().join("decoy"),
            fake.path().join(format!("self/fd/{n}")),
        )
        .unwrap();
    }
    let mut b = Bundle::busybox().args(["true"]);
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let proc_entry = mounts.iter_mut().find(|m| m["destination"] == "/proc");
    *proc_entry.expect("default config mounts /proc") = serde_json::json!({
        "destination": "/proc", "type": "bind",
        "source": fake.path(), "options": ["rbind", "rw"]
    });
    refused(&b, "mounts[0] /proc: only a new proc filesystem");
}

#[test]
fn a_bind_mount_inside_proc_is_refused() {
    require!(root);
    let dir = temp_dir("berth-e2e-notproc");
    fs::write(dir.path().join("attr"), "").unwrap();
    let b = Bundle::busybox().args(["true"]).mount(
        "/proc/self/attr/exec",
        "bind",
        dir.path().join("attr").to_str().unwrap(),
        &["bind"],
    );
    refused(&b, "nothing may be mounted inside /proc");
}

#[test]
fn a_tmpfs_on_proc_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 mounts a tmpfs on /proc without checking it");
    let mut b = Bundle::busybox().args(["true"]);
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let proc_entry = mounts.iter_mut().find(|m| m["destination"] == "/proc");
    *proc_entry.expect("default config mounts /proc") = serde_json::json!({
        "destination": "/proc", "type": "tmpfs", "source": "tmpfs", "options": []
    });
    refused(&b, "only a new proc filesystem");
}

#[test]
fn a_tmpfs_on_sys_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 mounts a tmpfs on /sys without checking it");
    let mut b = Bundle::busybox().args(["true"]);
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let sys_entry = mounts.iter_mut().find(|m| m["destination"] == "/sys");
    *sys_entry.expect("default config mounts /sys") = serde_json::json!({
        "destination": "/sys", "type": "tmpfs", "source": "tmpfs", "options": []
    });
    refused(&b, "only sysfs may be mounted on /sys");
}

#[test]
fn a_bind_of_the_hosts_sysfs_on_sys_is_accepted() {
    require!(root);
    // What rootless engines do when the container shares the host's
    // network: a bind of /sys, checked to be a sysfs.
    let mut b = Bundle::busybox().sh("ls /sys/kernel >/dev/null && echo ok");
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let sys_entry = mounts.iter_mut().find(|m| m["destination"] == "/sys");
    *sys_entry.expect("default config mounts /sys") = serde_json::json!({
        "destination": "/sys", "type": "bind", "source": "/sys",
        "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]
    });
    let rt = Runtime::new();
    assert_eq!(rt.run_ok(&b), "ok\n");
}
