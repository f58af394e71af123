//! `SCMP_ACT_NOTIFY`: the notify fd reaches `linux.seccomp.listenerPath`
//! with the container's state and `listenerMetadata`, and the listener's
//! answer is what the container's system call returns.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::notify::NotifyListener;
use berth_test_harness::{json, require, temp_dir, unique_id, Bundle, Runtime};

#[test]
fn a_listener_answers_a_notified_syscall() {
    require!(root);
    notified(true);
}

#[test]
fn a_listener_answers_without_no_new_privileges() {
    require!(root);
    // The filter is then loaded before the capabilities are dropped.
    notified(false);
}

fn notified(no_new_privileges: bool) {
    let dir = temp_dir("berth-e2e-notify");
    let listener = NotifyListener::start(dir.path(), libc_exdev());
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "seccomp",
            json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "listenerPath": listener.path(),
                "listenerMetadata": "berth-e2e-meta",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
            }),
        )
        .set(&["process"], "noNewPrivileges", json!(no_new_privileges))
        .sh("mkdir /notified 2>&1; echo rc=$?; [ -e /notified ] || echo absent");
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert!(
        out.stdout.contains("Invalid cross-device link")
            && out.stdout.contains("rc=1")
            && out.stdout.contains("absent"),
        "the listener's EXDEV did not reach mkdir:\n{out}"
    );
    let state = listener.state();
    assert_eq!(state["metadata"], "berth-e2e-meta", "{state}");
    assert_eq!(state["fds"], json!(["seccompFd"]), "{state}");
    assert_eq!(state["state"]["id"], id.as_str(), "{state}");
    assert!(state["pid"].as_i64().is_some_and(|p| p > 0), "{state}");
}

/// EXDEV: an errno no shell or mkdir would produce on its own here.
fn libc_exdev() -> i32 {
    18
}
