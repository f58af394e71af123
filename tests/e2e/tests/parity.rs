//! Places where berth once behaved differently from runc on the same bundle
//! (issue 5). Each test runs against berth and against runc 1.1.5; where
//! runc 1.1.5 lacks the behaviour the rest is marked berth-only.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;

use berth_test_harness::wait::condition_timeout;
use berth_test_harness::{
    berth_only, json, require, temp_dir, unique_id, Bundle, ConsoleSocket, Opts, Runtime,
};

/// `create --console-socket`, receive the pty master, `start`; returns the
/// id and the master.
fn terminal_run(rt: &Runtime, b: &Bundle) -> (String, berth_test_harness::console::Pty) {
    let console = ConsoleSocket::new();
    let id = unique_id();
    let socket = console.path().to_string_lossy().into_owned();
    rt.create(&id, b, &["--console-socket", &socket]).ok();
    let pty = console.recv_master();
    rt.start(&id).ok();
    (id, pty)
}

fn finish(rt: &Runtime, id: &str) {
    rt.wait_status(id, "stopped");
    rt.delete(id, false).ok();
    rt.assert_no_residue(id);
}

/// Reads `r` to EOF in a thread; `None` if EOF does not come within the
/// harness's (generous) wait bound: someone still holds the write end.
fn read_to_eof(mut r: std::io::PipeReader) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = r.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx.recv_timeout(condition_timeout()).ok()
}

/// (1) The waiting init must not hold the caller's fds: an engine reading
/// `create`'s output (or any pipe it had open) to EOF would block until
/// `start`.
#[test]
fn create_with_a_terminal_holds_none_of_the_callers_fds() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().terminal(true).args(["true"]);
    let console = ConsoleSocket::new();
    let socket = console.path().to_string_lossy().into_owned();
    let (r, w) = std::io::pipe().unwrap();
    let id = unique_id();
    let opts = Opts {
        extra_fds: vec![OwnedFd::from(w)],
        ..Opts::default()
    };
    rt.create_with(&id, &b, &["--console-socket", &socket], opts)
        .ok();
    let pty = console.recv_master();
    // The pipe went in as fd 3 (not preserved): once create has exited,
    // nobody may hold its write end.
    let eof = read_to_eof(r);
    // Seen from the host: none of the waiting init's fds is the stdout or
    // stderr file create was given (the harness keeps them in `io/`).
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    // Of the state root, only the exec fifo (not berth's lock file).
    let io_dir = rt.root().parent().unwrap().join("io");
    let held: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter(|target| {
            target.starts_with(&io_dir)
                || target.starts_with(rt.root()) && !target.ends_with("exec.fifo")
        })
        .map(|t| t.display().to_string())
        .collect();
    rt.start(&id).ok();
    drop(pty);
    finish(&rt, &id);
    assert!(
        eof.as_deref() == Some("") && held.is_empty(),
        "the waiting init kept fd 3 open (EOF: {eof:?}) or holds {held:?}"
    );
}

/// (2) `run` in the foreground clears ONLCR on the pty it proxies, as
/// runc's does: `\n` reaches its stdout as `\n`, not `\r\n`. A
/// `--console-socket` receiver gets the pty as the kernel made it (ONLCR
/// set), as from runc 1.1: what it does with it is its own business.
#[test]
fn terminal_output_keeps_bare_newlines_in_run() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .terminal(true)
        .sh("printf 'one\\ntwo\\nend-%s\\n' $((40+2))");
    let (id, mut pty) = terminal_run(&rt, &b);
    let out = pty.read_until("end-42");
    finish(&rt, &id);
    assert!(out.contains("one\r\ntwo\r\n"), "{out:?}");
    berth_only!(
        "runc 1.1.5 insists on opening /dev/tty for run -t, so it needs a terminal of its own here"
    );
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    rt.assert_no_residue(&id);
    assert!(out.stdout.contains("one\ntwo\nend-42\n"), "{out}");
    assert!(!out.stdout.contains('\r'), "ONLCR is still set: {out}");
}

/// (6) The pty keeps devpts' `gid=5` group (`tty`) when the process runs
/// as another user, as with runc.
#[test]
fn terminal_group_is_the_devpts_gid() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .terminal(true)
        .user(1000, 1000)
        .sh("echo owner-$(stat -c %u:%g $(tty))-end");
    let (id, mut pty) = terminal_run(&rt, &b);
    let out = pty.read_until("-end");
    finish(&rt, &id);
    assert!(out.contains("owner-1000:5-end"), "{out:?}");
}

/// (3) `/proc` or `/sys` as a symlink in the image is refused, not followed.
#[test]
fn proc_or_sys_as_a_symlink_is_refused() {
    require!(root);
    let rt = Runtime::new();
    for dir in ["proc", "sys"] {
        let b = Bundle::busybox().args(["true"]);
        let rootfs = b.rootfs();
        fs::remove_dir(rootfs.join(dir)).unwrap();
        fs::create_dir(rootfs.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink("/elsewhere", rootfs.join(dir)).unwrap();
        let id = unique_id();
        let out = rt.create(&id, &b, &[]).fails();
        rt.assert_no_residue(&id);
        assert!(
            fs::read_dir(rootfs.join("elsewhere"))
                .unwrap()
                .next()
                .is_none(),
            "something was made in /elsewhere"
        );
        if rt.is_berth() {
            assert!(
                out.stderr.contains("mounts[") && out.stderr.contains(&format!("/{dir}")),
                "{out}"
            );
        }
    }
}

/// (4) `--no-pivot`: nothing of the host's mounts may stay in the
/// container's mount namespace, or a user namespace inside could mount a
/// fresh procfs beside them and see what the masked paths hide. With the
/// host's procfs gone, the kernel refuses that mount.
#[test]
fn no_pivot_leaves_no_host_mount_to_reveal_proc() {
    require!(root, userns);
    let rt = Runtime::new();
    // As uid 1000: mapping uid 0 itself would need CAP_SETFCAP. Then the
    // same in a user namespace of the container's own, where the host's
    // mounts are locked: they cannot be unmounted, only covered.
    let script = "unshare -r -m -p -f sh -c 'echo in-userns; mount -t proc proc /proc 2>/dev/null && echo MOUNTED'; echo done";
    let plain = Bundle::busybox().user(1000, 1000).sh(script);
    let in_userns = Bundle::busybox()
        .user(1000, 1000)
        .userns(&[(0, 100_000, 65536)], &[(0, 100_000, 65536)])
        .sh(script);
    for b in [plain, in_userns] {
        let id = unique_id();
        let out = rt.run_with(&id, &b, &["--no-pivot"], Opts::default()).ok();
        rt.assert_no_residue(&id);
        assert_eq!(out.stdout, "in-userns\ndone\n", "{out}");
    }
}

/// (5) Exec permission is the kernel's: uid 1000 with CAP_DAC_OVERRIDE runs
/// a root-owned 0744 program, by path and through `PATH`.
#[test]
fn exec_permission_honours_capabilities() {
    require!(root);
    let rt = Runtime::new();
    let caps = json!(["CAP_DAC_OVERRIDE"]);
    for args in [["/opt/x/rootonly"], ["rootonly"]] {
        let mut b = Bundle::busybox()
            .user(1000, 1000)
            .args(args)
            .env(["PATH=/opt/x:/bin"]);
        for set in [
            "bounding",
            "effective",
            "permitted",
            "inheritable",
            "ambient",
        ] {
            b = b.set(&["process", "capabilities"], set, caps.clone());
        }
        let dir = b.rootfs().join("opt/x");
        fs::create_dir_all(&dir).unwrap();
        let prog = dir.join("rootonly");
        // Through a child process: see write_executable (ETXTBSY).
        berth_test_harness::write_executable(&prog, b"#!/bin/sh\necho ran-as-$(id -u)\n");
        fs::set_permissions(&prog, fs::Permissions::from_mode(0o744)).unwrap();
        assert_eq!(rt.run_ok(&b), "ran-as-1000\n", "{args:?}");
    }
}

/// (7) A tmpfs without `mode=` keeps the mode of the directory it covers;
/// over a directory it had to create, it is the tmpfs default 1777.
#[test]
fn tmpfs_without_mode_keeps_the_mountpoint_mode() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .mount("/data", "tmpfs", "tmpfs", &["nosuid"])
        .mount("/fresh", "tmpfs", "tmpfs", &["nosuid"])
        .mount("/given", "tmpfs", "tmpfs", &["mode=700"])
        .sh("stat -c %a /data /fresh /given");
    for dir in ["data", "given"] {
        let path = b.rootfs().join(dir);
        fs::create_dir(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o2750)).unwrap();
    }
    let out = rt.run_ok(&b);
    let modes: Vec<&str> = out.lines().collect();
    assert_eq!(modes[..2], ["2750", "1777"], "{out}");
    berth_only!(
        "runc 1.1.5 chmods the tmpfs back to the directory's mode even when mode= is given"
    );
    assert_eq!(modes[2], "700", "{out}");
}

/// (8) An empty `HOME` is replaced with the user's home from the
/// container's /etc/passwd, as a missing one is.
#[test]
fn empty_home_comes_from_the_containers_passwd() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .user(1000, 1000)
        .env(["PATH=/bin", "HOME="])
        .sh("echo home=$HOME; env | grep -c ^HOME=");
    assert_eq!(rt.run_ok(&b), "home=/home/test\n1\n");
}

/// (9) Duplicate environment names: the last value wins, once.
#[test]
fn duplicate_env_entries_keep_the_last() {
    require!(root);
    let rt = Runtime::new();
    // `env` itself, not through sh: a shell would merge them on its own.
    let b = Bundle::busybox()
        .env(["PATH=/bin", "ONE=two", "ONE=three"])
        .args(["env"]);
    let out = rt.run_ok(&b);
    let ones: Vec<&str> = out.lines().filter(|l| l.starts_with("ONE=")).collect();
    assert_eq!(ones, ["ONE=three"], "{out}");
}

/// (10) `kill ID 0` probes the container: accepted, nothing delivered.
#[test]
fn kill_with_signal_zero_probes() {
    require!(root);
    let rt = Runtime::new();
    let b =
        Bundle::busybox().sh("trap 'echo got-signal' TERM INT HUP; echo ready; sleep 1000 & wait");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    rt.kill(&id, Some("0")).ok();
    assert_eq!(rt.status(&id), "running");
    rt.kill(&id, Some("KILL")).ok();
    finish(&rt, &id);
    assert!(!rt.container_stdout(&id).contains("got-signal"));
}

/// (11) A bind source inside the rootfs that an earlier mount creates is
/// looked up when its turn comes, not at validation.
#[test]
fn bind_source_made_by_an_earlier_mount() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox();
    let source = b.rootfs().join("mnt/x").to_string_lossy().into_owned();
    let b = b
        .mount("/mnt", "tmpfs", "tmpfs", &[])
        .mount("/mnt/x", "tmpfs", "tmpfs", &[])
        .mount("/y", "bind", &source, &["bind"])
        .sh("echo through-y > /y/f; cat /mnt/x/f");
    assert_eq!(rt.run_ok(&b), "through-y\n");

    // Still missing when its turn comes: an error naming the entry.
    let b = Bundle::busybox();
    let missing = b.rootfs().join("mnt/nope").to_string_lossy().into_owned();
    let b = b
        .mount("/mnt", "tmpfs", "tmpfs", &[])
        .mount("/y", "bind", &missing, &["bind"])
        .args(["true"]);
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently");
    let n = b.config()["mounts"].as_array().unwrap().len() - 1;
    let want = format!("mounts[{n}].source: {missing}: No such file or directory\n");
    assert!(out.stderr.ends_with(&want), "{out}");
}

/// (12) A read-only `/dev`: devices, symlinks and pts are made first, `ro`
/// is applied last.
#[test]
fn read_only_dev_is_set_up_then_made_read_only() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox().sh(
        "awk '$5==\"/dev\"{print $6}' /proc/self/mountinfo | cut -d, -f1; [ -c /dev/null ] && [ -e /dev/pts/ptmx ] && [ -L /dev/fd ] && echo made; touch /dev/new 2>/dev/null || echo refused",
    );
    let mounts = b.config_mut()["mounts"].as_array_mut().unwrap();
    let dev = mounts
        .iter_mut()
        .find(|m| m["destination"] == "/dev")
        .unwrap();
    dev["options"].as_array_mut().unwrap().push(json!("ro"));
    assert_eq!(rt.run_ok(&b), "ro\nmade\nrefused\n");
}

/// (13) With a user namespace, a bind source only the host's root can
/// reach (under a 0700 directory) is opened before the namespace exists.
#[test]
fn userns_bind_source_only_host_root_can_reach() {
    require!(root, userns);
    let rt = Runtime::new();
    let secret = temp_dir("berth-e2e-secret-");
    let data = secret.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("f"), "reached\n").unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(secret.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let b = Bundle::busybox()
        .userns(&[(0, 100_000, 65536)], &[(0, 100_000, 65536)])
        .mount("/data", "bind", &data.to_string_lossy(), &["bind", "ro"])
        .sh("cat /data/f");
    // The mapped root may not create the mountpoint in a host-owned rootfs.
    fs::create_dir(b.rootfs().join("data")).unwrap();
    assert_eq!(rt.run_ok(&b), "reached\n");
    assert!(Path::new(&data).join("f").exists());
}
