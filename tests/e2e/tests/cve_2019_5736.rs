//! CVE-2019-5736: a container whose entrypoint is `/proc/self/exe` makes
//! its init exec the runtime's own binary inside the container; another
//! process of that pid namespace keeps an fd of `/proc/<pid>/exe` and, once
//! the runtime process is gone, writes through it to the host's binary.
//! `exec` of `/proc/self/exe` (the CVE's original form, `docker exec`)
//! does the same through the runtime's exec child. The runtime must run
//! from a copy nobody can modify.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use berth_test_harness::{berth_only, require, temp_dir, unique_id, Bundle, Runtime};

/// Container A watches its pid namespace for the runtime binary that B
/// runs as its entrypoint, holds its exe open, lets it finish, then
/// tries to append to it.
/// (The marker is assembled at run time so A's own command line lacks it.)
const ATTACKER: &str = "mkfifo /shared/log; m=exe-mark; m=${m}er; echo ready; \
    while :; do for p in /proc/[0-9]*; do \
      grep -q $m $p/cmdline 2>/dev/null && break 2; done; sleep 0.05; done; \
    n=${p#/proc/}; exec 3<$p/exe && echo opened $n; \
    cat /shared/log >/dev/null; \
    while [ -e $p/exe ] && ! grep -q '^State:.*Z' $p/status 2>/dev/null; do sleep 0.05; done; \
    if (echo payload >>/proc/$$/fd/3) 2>/dev/null; then echo write-ok; else echo write-denied; fi; \
    echo finished";

/// Waits for attacker A (`a_id`) to finish, and checks it held the exe of
/// `victim`, could not write through it, and the runtime binary is still
/// `binary_before`.
#[track_caller]
fn assert_attack_failed(rt: &Runtime, a_id: &str, binary_before: &[u8], victim: &str) {
    let out = rt.wait_output(a_id, "finished");
    rt.wait_status(a_id, "stopped");
    assert!(
        out.contains("opened"),
        "A never held the exe of {victim}:\n{out}"
    );
    assert!(
        out.contains("write-denied") && !out.contains("write-ok"),
        "a container wrote through /proc/<pid>/exe of {victim}:\n{out}"
    );
    assert!(
        fs::read(rt.bin()).expect("read runtime binary") == binary_before,
        "the runtime binary changed"
    );
}

/// `bundle` with the host directory `dir` bound read-write at /shared.
fn with_shared(bundle: Bundle, dir: &Path) -> Bundle {
    bundle.mount("/shared", "bind", dir.to_str().unwrap(), &["rbind", "rw"])
}

#[test]
fn proc_self_exe_entrypoint_cannot_overwrite_the_runtime() {
    require!(root);
    // runc is a dynamic executable: inside a busybox rootfs its own
    // entrypoint cannot even start, so there is no attack to observe.
    berth_only!("runc cannot run inside the busybox rootfs (dynamic binary)");
    let rt = Runtime::new();
    let binary_before = fs::read(rt.bin()).expect("read runtime binary");
    let shared = temp_dir("berth-e2e-shared");
    let bind = |b: Bundle| with_shared(b, shared.path());
    let a = bind(Bundle::busybox()).sh(ATTACKER);
    let a_id = unique_id();
    rt.create(&a_id, &a, &[]).ok();
    rt.start(&a_id).ok();
    rt.wait_output(&a_id, "ready");
    let a_pid = rt.state(&a_id)["pid"].as_i64().expect("pid of A");

    // B shares A's pid namespace; its entrypoint is the runtime itself,
    // which blocks opening its --log FIFO until A has the exe open.
    let pid_ns = format!("/proc/{a_pid}/ns/pid");
    let b = bind(Bundle::busybox())
        .namespace("pid", Some(Path::new(&pid_ns)))
        .args([
            "/proc/self/exe",
            "--log",
            "/shared/log",
            "state",
            "exe-marker",
        ]);
    let b_id = unique_id();
    rt.create(&b_id, &b, &[]).ok();
    rt.start(&b_id).ok();

    assert_attack_failed(&rt, &a_id, &binary_before, "B's entrypoint");
    rt.delete(&b_id, true).ok();
    rt.delete(&a_id, false).ok();
    rt.assert_no_residue(&a_id);
    rt.assert_no_residue(&b_id);
}

/// The same attack through `exec`: the process `exec` starts is
/// `/proc/self/exe`, so the runtime's exec child runs its own binary
/// inside the container, where A waits for it.
#[test]
fn proc_self_exe_exec_cannot_overwrite_the_runtime() {
    require!(root);
    berth_only!("runc cannot run inside the busybox rootfs (dynamic binary)");
    let rt = Runtime::new();
    let binary_before = fs::read(rt.bin()).expect("read runtime binary");
    let shared = temp_dir("berth-e2e-shared");
    let a = with_shared(Bundle::busybox(), shared.path()).sh(ATTACKER);
    let a_id = unique_id();
    rt.create(&a_id, &a, &[]).ok();
    rt.start(&a_id).ok();
    rt.wait_output(&a_id, "ready");

    // The exec'd runtime blocks opening its --log FIFO until A has its
    // exe open; it then fails (no such container) and exits.
    rt.exec(&[
        &a_id,
        "/proc/self/exe",
        "--log",
        "/shared/log",
        "state",
        "exe-marker",
    ]);

    assert_attack_failed(&rt, &a_id, &binary_before, "the exec'd process");
    rt.delete(&a_id, false).ok();
    rt.assert_no_residue(&a_id);
}
