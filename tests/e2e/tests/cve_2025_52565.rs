//! CVE-2025-52565: `/dev/console` is bound from the pty's slave. Bound by
//! its path (`/dev/pts/N` inside the container), it is whatever the image
//! or the config put there: here `/dev/pts` is a host directory whose
//! `ptmx` leads to another devpts instance, so the runtime's pty is number
//! 0 of that instance while `/dev/pts/0` is a plain host-visible file. The
//! console must be the pty berth made (the process's stdin), from its fd.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::{berth_only, require, unique_id, Bundle, ConsoleSocket, Runtime};

#[test]
fn dev_console_is_the_pty_even_when_dev_pts_lies() {
    require!(root);
    berth_only!("runc 1.1.5 is vulnerable to CVE-2025-52565 (binds /dev/pts/N by path)");
    let mut b = Bundle::busybox()
        .terminal(true)
        .sh("a=$(stat -c %d:%i:%t:%T /dev/console); \
         b=$(stat -L -c %d:%i:%t:%T /proc/self/fd/0); \
         [ \"$a\" = \"$b\" ] && echo console-is-the-pty; \
         echo pwned > /dev/console; echo end-$((1+1))");
    let pts = b.path().join("hostile-pts");
    fs::create_dir(&pts).unwrap();
    fs::write(pts.join("0"), "").unwrap();
    std::os::unix::fs::symlink("../pts2/ptmx", pts.join("ptmx")).unwrap();
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let at = mounts
        .iter()
        .position(|m| m["destination"] == "/dev/pts")
        .expect("default config mounts /dev/pts");
    let devpts = mounts.remove(at);
    mounts.insert(
        at,
        serde_json::json!({
            "destination": "/dev/pts", "type": "bind",
            "source": pts, "options": ["rbind", "rw"]
        }),
    );
    let mut second = devpts;
    second["destination"] = "/dev/pts2".into();
    mounts.insert(at + 1, second);

    let rt = Runtime::new();
    let console = ConsoleSocket::new();
    let id = unique_id();
    let socket = console.path().to_string_lossy().into_owned();
    rt.create(&id, &b, &["--console-socket", &socket]).ok();
    let mut pty = console.recv_master();
    rt.start(&id).ok();
    let out = pty.read_until("end-2");
    assert!(out.contains("console-is-the-pty"), "{out:?}");
    pty.read_to_eof();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    let host_file = fs::read_to_string(pts.join("0")).unwrap();
    assert!(
        host_file.is_empty(),
        "the console wrote to a host file: {host_file:?}"
    );
}
