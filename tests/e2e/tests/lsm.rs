//! LSM labels: `process.apparmorProfile` is applied where AppArmor is
//! enabled and refused where it is not (never a silent no-op);
//! `process.selinuxLabel` and `linux.mountLabel` are ignored with a
//! warning where SELinux is disabled (runc's label package); with SELinux
//! the mount label is each new filesystem's `context=`.
//!
//! The AppArmor-enabled test needs a kernel with AppArmor and
//! `apparmor_parser` (the QEMU VM of the cgroups suite): it runs when
//! `BERTH_E2E_APPARMOR=1` is set and prints a SKIP otherwise.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use berth_test_harness::{berth_only, json, require, skip, temp_dir, unique_id, Bundle, Runtime};

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

#[test]
fn apparmor_profile_without_apparmor_is_refused() {
    require!(root);
    if apparmor_enabled() {
        skip::host_lacks("AppArmor is enabled here: the refusal cannot be seen");
        return;
    }
    let b = Bundle::busybox().args(["true"]).set(
        &["process"],
        "apparmorProfile",
        json!("berth-e2e-profile"),
    );
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently");
    assert!(
        out.stderr
            .contains("process.apparmorProfile: AppArmor is not enabled on this host"),
        "{out}"
    );
}

#[test]
fn apparmor_profile_is_applied_where_apparmor_is_enabled() {
    require!(root);
    if std::env::var("BERTH_E2E_APPARMOR").as_deref() != Ok("1") {
        skip::host_lacks("set BERTH_E2E_APPARMOR=1 on a host with AppArmor and apparmor_parser");
        return;
    }
    assert!(
        apparmor_enabled(),
        "BERTH_E2E_APPARMOR=1 but AppArmor is not enabled"
    );
    let name = format!("berth-e2e-{}", std::process::id());
    let dir = temp_dir("berth-e2e-apparmor");
    let profile = dir.path().join("profile");
    std::fs::write(
        &profile,
        format!(
            "profile {name} flags=(attach_disconnected,mediate_deleted) {{\n  file,\n  capability,\n  network,\n  unix,\n  signal,\n  mount,\n  umount,\n  pivot_root,\n  ptrace,\n  deny /berth-e2e-denied r,\n}}\n"
        ),
    )
    .unwrap();
    let load = Command::new("apparmor_parser")
        .arg("-r")
        .arg(&profile)
        .status()
        .expect("apparmor_parser");
    assert!(load.success(), "apparmor_parser -r failed");
    let b = Bundle::busybox()
        .set(&["process"], "apparmorProfile", json!(name))
        .sh("cat /proc/self/attr/current; cat /berth-e2e-denied || echo denied");
    std::fs::write(b.rootfs().join("berth-e2e-denied"), "secret\n").unwrap();
    let out = Runtime::new().run_ok(&b);
    let unload = Command::new("apparmor_parser")
        .arg("-R")
        .arg(&profile)
        .status();
    assert!(
        unload.is_ok_and(|s| s.success()),
        "apparmor_parser -R failed"
    );
    assert!(out.starts_with(&format!("{name} (enforce)")), "{out}");
    assert!(out.contains("denied") && !out.contains("secret"), "{out}");
}

#[test]
fn selinux_label_without_selinux_is_ignored_with_a_warning() {
    require!(root);
    if Path::new("/sys/fs/selinux/enforce").exists() {
        skip::host_lacks("SELinux is enabled here: the warning path cannot be seen");
        return;
    }
    berth_only!("runc 1.1.5 refuses a selinuxLabel when SELinux is disabled");
    let b = Bundle::busybox()
        .set(
            &["process"],
            "selinuxLabel",
            json!("system_u:system_r:container_t:s0"),
        )
        .sh("echo ran");
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert_eq!(out.stdout, "ran\n");
    assert!(
        out.stderr
            .contains("process.selinuxLabel: SELinux is disabled on this host; ignored"),
        "{out}"
    );
}

const MOUNT_LABEL: &str = "system_u:object_r:container_file_t:s0:c1,c2";

#[test]
fn mount_label_without_selinux_is_ignored_with_a_warning() {
    require!(root);
    if Path::new("/sys/fs/selinux/enforce").exists() {
        skip::host_lacks("SELinux is enabled here: the warning path cannot be seen");
        return;
    }
    berth_only!(
        "runc 1.1.5 hands the label to mount(2) even without SELinux: its /dev tmpfs fails (EINVAL)"
    );
    let b = Bundle::busybox()
        .set(&["linux"], "mountLabel", json!(MOUNT_LABEL))
        .sh("grep -c context= /proc/self/mountinfo; echo ran");
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert_eq!(out.stdout, "0\nran\n", "{out}");
    assert!(
        out.stderr
            .contains("linux.mountLabel: SELinux is disabled on this host; ignored"),
        "{out}"
    );
}

#[test]
fn mount_label_is_the_context_of_new_filesystems_where_selinux_is_enabled() {
    require!(root);
    if !Path::new("/sys/fs/selinux/enforce").exists() {
        skip::host_lacks("SELinux (no machine of this kind has it; the VM boots without)");
        return;
    }
    let b = Bundle::busybox()
        .set(&["linux"], "mountLabel", json!(MOUNT_LABEL))
        .sh("grep ' /dev/shm ' /proc/self/mountinfo");
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert!(
        out.stdout.contains(&format!("context={MOUNT_LABEL}"))
            || out.stdout.contains(&format!("context=\"{MOUNT_LABEL}\"")),
        "{out}"
    );
}
