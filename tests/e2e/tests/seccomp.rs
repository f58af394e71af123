//! `linux.seccomp`: a filter the container's process runs under, seen from
//! inside (`Seccomp: 2` in /proc/self/status and a refused syscall), and
//! bad profiles refused before anything exists.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use berth_test_harness::parse::expect_status_field;
use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Runtime};

/// A profile that allows everything but mkdir/mkdirat, which fail with
/// `errno` (EACCES = 13 here, so the test can tell the filter from a
/// read-only filesystem's EROFS or a plain EPERM).
fn deny_mkdir(no_new_privileges: bool) -> Bundle {
    Bundle::busybox()
        .set(&["process"], "noNewPrivileges", json!(no_new_privileges))
        .set(
            &["linux"],
            "seccomp",
            json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [
                    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
                ]
            }),
        )
        // /dev/shm is a writable tmpfs even with a read-only root.
        .sh("cat /proc/self/status; mkdir /dev/shm/x 2>&1; echo mkdir=$?; touch /dev/shm/y && echo touch-ok")
}

#[track_caller]
fn check_filtered(out: &str, nnp: &str) {
    assert_eq!(
        expect_status_field(out, "Seccomp"),
        "2",
        "no filter:\n{out}"
    );
    assert_eq!(expect_status_field(out, "NoNewPrivs"), nnp, "{out}");
    assert!(
        out.contains("Permission denied"),
        "mkdir was not refused with EACCES:\n{out}"
    );
    assert!(out.contains("mkdir=1"), "{out}");
    assert!(
        out.contains("touch-ok"),
        "other syscalls must still work:\n{out}"
    );
}

#[test]
fn filter_applies_with_no_new_privileges() {
    require!(root);
    let rt = Runtime::new();
    let out = rt.run_ok(&deny_mkdir(true));
    check_filtered(&out, "1");
}

#[test]
fn filter_applies_without_no_new_privileges() {
    require!(root);
    let rt = Runtime::new();
    // Loaded while init still has CAP_SYS_ADMIN, before caps are dropped.
    let out = rt.run_ok(&deny_mkdir(false));
    check_filtered(&out, "0");
}

/// A profile loaded before the executable is looked up (no
/// no_new_privs) that refuses faccessat2 and openat2 with EPERM, as
/// Docker-era profiles do with syscalls they do not know (runtime-tools'
/// default does): the program must still be found and run, and HOME still
/// come from the image's /etc/passwd.
#[test]
fn a_filter_refusing_faccessat2_still_runs_the_program() {
    require!(root);
    let b = Bundle::busybox()
        .set(&["process"], "noNewPrivileges", json!(false))
        .set(
            &["linux"],
            "seccomp",
            json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [
                    {"names": ["faccessat2", "openat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
                ]
            }),
        )
        .env(["PATH=/bin"])
        .args(["/bin/sh", "-c", "echo ran HOME=$HOME"]);
    assert_eq!(Runtime::new().run_ok(&b), "ran HOME=/root\n");
}

#[test]
fn no_profile_means_no_filter() {
    require!(root);
    let rt = Runtime::new();
    let out = rt.run_ok(&Bundle::busybox().sh("cat /proc/self/status"));
    assert_eq!(expect_status_field(&out, "Seccomp"), "0", "{out}");
}

#[test]
fn bad_profiles_fail_before_anything_exists() {
    require!(root);
    let rt = Runtime::new();
    let cases = [
        (
            json!({"defaultAction": "SCMP_ACT_BOGUS"}),
            "linux.seccomp.defaultAction",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                 "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}),
            "linux.seccomp.syscalls[0].args[0].index",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]}),
            "linux.seccomp.architectures[0]",
        ),
    ];
    let mut failures = Vec::new();
    for (profile, field) in cases {
        let b = Bundle::busybox().set(&["linux"], "seccomp", profile);
        let id = unique_id();
        failures.push((rt.create(&id, &b, &[]).fails(), field));
        rt.assert_no_residue(&id);
    }
    berth_only!("runc's error messages name fields differently");
    for (out, field) in failures {
        assert!(
            out.stderr.contains(field),
            "stderr does not name {field}:\n{out}"
        );
    }
}
