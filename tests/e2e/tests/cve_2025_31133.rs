//! CVE-2025-31133: masking a file binds `/dev/null` over it. When that is
//! the container's own `/dev/null`, the image decides what it is: a
//! symlink into `/proc/sys` turns a masked path into a writable window onto
//! a sysctl. The runtime must bind the host's real `/dev/null` instead.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::{berth_only, require, unique_id, Bundle, Runtime};

#[test]
fn a_dev_null_symlink_into_proc_sys_does_not_unmask() {
    require!(root);
    // A bind-mounted /dev (so no device nodes are made in it) whose `null`
    // points at a sysctl of the container's own UTS namespace.
    let mut b = Bundle::busybox().set(
        &["linux"],
        "maskedPaths",
        // Two files: the second is masked with a clone of the first's mount.
        serde_json::json!(["/proc/timer_list", "/proc/keys", "/proc/acpi"]),
    );
    let dev = b.path().join("hostile-dev");
    fs::create_dir(&dev).unwrap();
    std::os::unix::fs::symlink("/proc/sys/kernel/domainname", dev.join("null")).unwrap();
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let entry = mounts.iter_mut().find(|m| m["destination"] == "/dev");
    *entry.expect("default config mounts /dev") = serde_json::json!({
        "destination": "/dev", "type": "bind",
        "source": dev, "options": ["rbind", "rw"]
    });
    // No redirection to /dev/null in the script: it is the hostile one.
    let b = b.sh("echo masked=$(wc -c < /proc/timer_list); \
         echo keys=$(wc -c < /proc/keys); \
         echo pwned > /proc/timer_list; echo pwned > /proc/keys; \
         echo domainname=$(cat /proc/sys/kernel/domainname)");
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert!(out.stdout.contains("domainname="), "{out}");
    berth_only!("runc 1.1.5 is vulnerable to CVE-2025-31133");
    assert!(
        out.stdout.contains("masked=0\n") && out.stdout.contains("keys=0\n"),
        "masked file shows content: {out}"
    );
    assert!(
        out.stdout.contains("domainname=(none)\n"),
        "a write to the masked file reached the sysctl: {out}"
    );
}
