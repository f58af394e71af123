//! CVE-2024-21626: a directory fd of the host that reaches the container's
//! init lets `process.args[0]` or `process.cwd` go through
//! `/proc/self/fd/N` to the host's filesystem, because exec and chdir
//! resolve the path before close-on-exec closes anything. Every fd beyond
//! stdio and `--preserve-fds` must be closed before the container's paths
//! are resolved.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;

use berth_test_harness::{require, temp_dir, unique_id, Bundle, Opts, Runtime, TempDir};

/// A host directory holding a static busybox and a marker file, and an fd
/// of it. (A script would not do: its interpreter reopens it by path
/// after exec has closed the fd.)
fn leaked_host_dir() -> (TempDir, OwnedFd) {
    let dir = temp_dir("berth-e2e-leak");
    let busybox = std::env::var_os("BERTH_BUSYBOX").unwrap_or_else(|| "/bin/busybox".into());
    fs::copy(&busybox, dir.path().join("busybox")).expect("copy busybox");
    fs::set_permissions(
        dir.path().join("busybox"),
        fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    fs::write(dir.path().join("host-marker"), "").expect("write marker");
    let fd = fs::File::open(dir.path()).expect("open dir").into();
    (dir, fd)
}

#[test]
fn a_leaked_directory_fd_cannot_be_the_program() {
    require!(root);
    let rt = Runtime::new();
    let (_dir, fd) = leaked_host_dir();
    let b = Bundle::busybox().args(["/proc/self/fd/3/busybox", "echo", "escaped-to-host"]);
    let id = unique_id();
    let opts = Opts {
        extra_fds: vec![fd],
        ..Default::default()
    };
    // No --preserve-fds: fd 3 is the caller's, not the container's.
    let out = rt.run_with(&id, &b, &[], opts);
    assert!(
        !out.stdout.contains("escaped-to-host"),
        "the container ran a host file through a leaked fd:\n{out}"
    );
    assert!(
        !out.success(),
        "exec of a closed fd's path succeeded:\n{out}"
    );
    rt.assert_no_residue(&id);
}

#[test]
fn a_leaked_directory_fd_cannot_be_the_cwd() {
    require!(root);
    let rt = Runtime::new();
    let (_dir, fd) = leaked_host_dir();
    let b = Bundle::busybox().cwd("/proc/self/fd/3").sh("ls; pwd");
    let id = unique_id();
    let opts = Opts {
        extra_fds: vec![fd],
        ..Default::default()
    };
    let out = rt.run_with(&id, &b, &[], opts);
    assert!(
        !out.stdout.contains("host-marker"),
        "the container's cwd is a host directory:\n{out}"
    );
    rt.delete(&id, true);
    rt.assert_no_residue(&id);
}
