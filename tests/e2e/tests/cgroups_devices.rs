//! The device cgroup: with CAP_MKNOD a container can make any node (runc's
//! default allow-list grants mknod), but only the allowed devices open.
//! v1: `devices.deny a` + allow-list; v2: an eBPF program on the cgroup.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::{cgroup, json, require, unique_id, Bundle, Runtime};

/// A bundle whose process has CAP_MKNOD on top of the defaults.
fn with_mknod() -> Bundle {
    let caps = json!([
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_MKNOD"
    ]);
    Bundle::busybox().set(
        &["process"],
        "capabilities",
        json!({"bounding": caps, "effective": caps, "permitted": caps}),
    )
}

#[test]
fn a_denied_block_device_made_with_mknod_cannot_be_opened() {
    require!(root);
    let rt = Runtime::new();
    // The config denies everything (the harness default); /dev/loop0's
    // numbers (7:0) and /dev/kvm's (10:232) are not on the allow-list.
    // Unprotected, opening them succeeds or fails with ENXIO/ENOENT,
    // never with EPERM.
    let b = with_mknod().sh("mknod /dev/blk b 7 0 && echo mknod-blk-ok; \
         mknod /dev/chr c 10 232 && echo mknod-chr-ok; \
         head -c1 /dev/blk >/dev/null 2>/dev/blkerr && echo blk-opened; \
         head -c1 /dev/chr >/dev/null 2>/dev/chrerr && echo chr-opened; \
         echo blk: $(cat /dev/blkerr); echo chr: $(cat /dev/chrerr); \
         echo x >/dev/null && echo null-ok; \
         head -c4 /dev/zero | wc -c | sed 's/^/zero-/'; \
         head -c4 /dev/urandom | wc -c | sed 's/^/urandom-/'");
    let out = rt.run_ok(&b);
    for want in [
        "mknod-blk-ok",
        "mknod-chr-ok",
        "null-ok",
        "zero-4",
        "urandom-4",
    ] {
        assert!(out.contains(want), "missing {want}:\n{out}");
    }
    assert!(!out.contains("opened"), "a denied device opened:\n{out}");
    for line in out
        .lines()
        .filter(|l| l.starts_with("blk:") || l.starts_with("chr:"))
    {
        assert!(
            line.contains("Operation not permitted"),
            "expected EPERM from the device cgroup, got {line:?}:\n{out}"
        );
    }
}

#[test]
fn an_allow_rule_opens_its_device_and_no_other() {
    require!(root);
    let rt = Runtime::new();
    // 10:232 (/dev/kvm's numbers) allowed; 10:231 not. Without a driver
    // the allowed one fails with ENXIO/ENODEV, never EPERM.
    let b = with_mknod()
        .set(
            &["linux"],
            "resources",
            json!({"devices": [
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 232, "access": "rw"}
            ]}),
        )
        .sh(
            "mknod /dev/yes c 10 232 && mknod /dev/no c 10 231 && echo made; \
             echo yes: $(head -c0 /dev/yes 2>&1 && echo opened); \
             echo no: $(head -c0 /dev/no 2>&1 && echo opened)",
        );
    let out = rt.run_ok(&b);
    assert!(out.contains("made"), "{out}");
    let line = |p: &str| {
        out.lines()
            .find(|l| l.starts_with(p))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        !line("yes:").contains("Operation not permitted"),
        "allowed device refused:\n{out}"
    );
    assert!(
        line("no:").contains("Operation not permitted"),
        "denied device opened:\n{out}"
    );
}

#[test]
fn the_v1_device_cgroup_holds_the_allow_list() {
    require!(root);
    if !cgroup::has_v1("devices") {
        berth_test_harness::skip::host_lacks("a v1 devices hierarchy (v2 uses eBPF)");
        return;
    }
    let rt = Runtime::new();
    let id = unique_id();
    let b = Bundle::busybox().args(["true"]);
    rt.create(&id, &b, &[]).ok();
    let list = cgroup::read(&id, &["devices.list"]);
    let lines: Vec<&str> = list.lines().collect();
    for rule in [
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 136:* rwm",
        "c *:* m",
        "b *:* m",
    ] {
        assert!(
            lines.contains(&rule),
            "{rule} missing from devices.list:\n{list}"
        );
    }
    assert!(!lines.contains(&"a *:* rwm"), "everything allowed:\n{list}");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
