//! `exec`: a new process in a running container, checked from inside
//! (namespaces, cgroups, capabilities, no_new_privs, seccomp, rlimits, env,
//! cwd, user, tty, fds) and from the host (pid file, exit status, signals).
//! Bad input is in `exec_errors.rs`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use berth_test_harness::parse::{cap_mask, expect_status_field, signal_ignored, SESSION_OF_SELF};
use berth_test_harness::wait::eventually_with;
use berth_test_harness::{
    berth_only, json, require, temp_dir, unique_id, Bundle, ConsoleSocket, Opts, Runtime,
};

/// A container whose init prints `ready` and sleeps.
fn sleeper() -> Bundle {
    Bundle::busybox().sh("echo ready; exec sleep 100000")
}

/// Creates and starts `b` (whose init prints `ready`); returns its id.
fn running(rt: &Runtime, b: &Bundle) -> String {
    let id = unique_id();
    rt.create(&id, b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    id
}

/// Force-deletes the container and checks nothing is left.
fn finish(rt: &Runtime, id: &str) {
    rt.delete(id, true).ok();
    rt.assert_no_residue(id);
}

/// `exec ID sh -c SCRIPT`, asserting exit 0; returns stdout.
#[track_caller]
fn sh(rt: &Runtime, flags: &[&str], id: &str, script: &str) -> String {
    let mut args = flags.to_vec();
    args.extend([id, "sh", "-c", script]);
    rt.exec(&args).ok().stdout
}

/// init's pid on the host, from `state`.
fn init_pid(rt: &Runtime, id: &str) -> i32 {
    i32::try_from(rt.state(id)["pid"].as_i64().unwrap()).unwrap()
}

fn host_ns(name: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{name}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn exec_joins_every_namespace_of_the_container() {
    require!(root, cgroupns);
    let rt = Runtime::new();
    let b = sleeper()
        .namespaces(&["pid", "network", "ipc", "uts", "mount", "cgroup"])
        .hostname("exec-ns");
    let id = running(&rt, &b);
    let out = sh(
        &rt,
        &[],
        &id,
        "for n in pid net ipc uts mnt cgroup user; do \
           echo $n $(readlink /proc/self/ns/$n) $(readlink /proc/1/ns/$n); done; hostname",
    );
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 8, "{out}");
    for l in &lines[..7] {
        assert_eq!(l.len(), 3, "{out}");
        assert_eq!(l[1], l[2], "{} namespace differs from init's:\n{out}", l[0]);
        if l[0] != "user" {
            assert_ne!(l[1], host_ns(l[0]), "{} is the host's:\n{out}", l[0]);
        }
    }
    assert_eq!(lines[7], ["exec-ns"], "{out}");
    finish(&rt, &id);
}

#[test]
fn exec_enters_a_user_namespace_first() {
    require!(root, userns);
    let rt = Runtime::new();
    let b = sleeper().userns(&[(0, 100_000, 65536)], &[(0, 200_000, 65536)]);
    let id = running(&rt, &b);
    let out = sh(
        &rt,
        &[],
        &id,
        "readlink /proc/self/ns/user; readlink /proc/1/ns/user; cat /proc/self/uid_map; id -u; \
         touch /dev/shm/by-exec && stat -c %u /dev/shm/by-exec",
    );
    let norm: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(norm.len(), 5, "{out}");
    assert_eq!(norm[0], norm[1], "not in init's user namespace:\n{out}");
    assert_ne!(norm[0], host_ns("user"), "{out}");
    assert_eq!(norm[2..], ["0 100000 65536", "0", "0"], "{out}");
    finish(&rt, &id);
}

#[test]
fn exec_joins_the_cgroups_of_init() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    // From inside: the same line for every hierarchy.
    let out = sh(
        &rt,
        &[],
        &id,
        "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup",
    );
    let (ours, init) = out.split_once("--\n").expect("separator");
    assert_eq!(ours, init, "exec'd process is not in init's cgroups");
    // From the host, for a detached process: the same cgroup files.
    let dir = temp_dir("berth-e2e-exec-");
    let pid_file = dir.path().join("pid");
    let pf = pid_file.to_str().unwrap();
    rt.exec(&["-d", "--pid-file", pf, &id, "sleep", "100000"])
        .ok();
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let read = |p: i32| fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
    assert_eq!(read(pid), read(init_pid(&rt, &id)));
    finish(&rt, &id);
}

/// In `/proc/PID/cgroup` text, the hierarchy these tests move processes
/// in: v1 memory where the host has it, else the unified one. Returns the
/// line's prefix (`N:memory:` style match, or `0::`), the cgroup path on
/// that line, and the host directory of that cgroup.
fn movable(text: &str) -> (&'static str, String, PathBuf) {
    let (marker, mount) = if text.contains(":memory:") {
        (":memory:", "/sys/fs/cgroup/memory")
    } else {
        ("0::", "/sys/fs/cgroup")
    };
    let path = text
        .lines()
        .find_map(|l| l.split_once(marker).map(|(_, p)| p.to_string()))
        .unwrap_or_else(|| panic!("no {marker} line in {text}"));
    let dir = PathBuf::from(mount).join(path.trim_start_matches('/'));
    (marker, path, dir)
}

#[test]
fn exec_cgroup_flag_joins_a_sub_cgroup() {
    require!(root);
    let rt = Runtime::new();
    let sub: SubCgroup;
    let b = sleeper();
    let id = running(&rt, &b);
    // init's memory cgroup on the host (its unified one on a pure v2
    // host), and a sub-cgroup made (and removed) by this test.
    let line = fs::read_to_string(format!("/proc/{}/cgroup", init_pid(&rt, &id))).unwrap();
    let (marker, _, dir) = movable(&line);
    sub = SubCgroup(dir.join(format!("exec-sub-{}", std::process::id())));
    fs::create_dir(&sub.0).unwrap();
    let name = sub.0.file_name().unwrap().to_str().unwrap().to_string();
    let flag = match marker {
        "0::" => name.clone(),
        _ => format!("memory:{name}"),
    };
    let out = sh(&rt, &["--cgroup", &flag], &id, "cat /proc/self/cgroup");
    let joined = out
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(joined.ends_with(&format!("/{name}")), "{out}");
    // The other hierarchies stay init's.
    let others = |text: &str| -> Vec<String> {
        let lines = text
            .lines()
            .filter(|l| !l.contains(marker) && !l.starts_with("0::"));
        lines.map(str::to_string).collect()
    };
    assert_eq!(others(&out), others(&line), "{out}");
    finish(&rt, &id);
}

/// A cgroup directory this test made; removed (once empty) on drop.
/// Declare it before the bundle, so the bundle's drop has ended the
/// container's processes by then.
struct SubCgroup(PathBuf);

impl Drop for SubCgroup {
    fn drop(&mut self) {
        let removed = || fs::remove_dir(&self.0).is_ok() || !self.0.exists();
        if std::thread::panicking() {
            // A failed test: one try, never a second panic.
            let _ = removed();
            return;
        }
        eventually_with("the sub-cgroup to be removable", removed, |gone| *gone);
    }
}

/// A config that sets every process knob exec must carry over.
fn locked_down() -> Bundle {
    sleeper()
        .user(1000, 1000)
        .cwd("/var/tmp")
        .env(["PATH=/bin", "FROM_CONFIG=yes"])
        .set(&["process", "user"], "additionalGids", json!([10]))
        .set(&["process", "user"], "umask", json!(0o027))
        .set(&["process"], "noNewPrivileges", json!(true))
        .set(
            &["process"],
            "rlimits",
            json!([{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]),
        )
        .set(
            &["process"],
            "capabilities",
            json!({"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"],
                   "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}),
        )
        .set(
            &["linux"],
            "seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW",
                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                 "errnoRet": 13}]}),
        )
}

#[test]
fn exec_runs_with_the_containers_process_settings() {
    require!(root);
    let rt = Runtime::new();
    let b = locked_down();
    let id = running(&rt, &b);
    let out = sh(
        &rt,
        &[],
        &id,
        "cat /proc/self/status; grep 'open files' /proc/self/limits; pwd; umask; \
         echo FROM_CONFIG=$FROM_CONFIG; mkdir /dev/shm/x 2>&1; echo mkdir=$?",
    );
    let kill = format!("{:016x}", cap_mask(&["CAP_KILL"]));
    let both = format!("{:016x}", cap_mask(&["CAP_KILL", "CAP_CHOWN"]));
    for (field, want) in [
        ("CapBnd", both.as_str()),
        ("CapEff", kill.as_str()),
        ("CapPrm", kill.as_str()),
        ("CapAmb", kill.as_str()),
        ("NoNewPrivs", "1"),
        ("Seccomp", "2"),
    ] {
        assert_eq!(expect_status_field(&out, field), want, "{field}:\n{out}");
    }
    let ids = |f: &str| {
        expect_status_field(&out, f)
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("Uid"), ["1000"; 4], "{out}");
    assert_eq!(ids("Gid"), ["1000"; 4], "{out}");
    assert_eq!(ids("Groups"), ["10"], "{out}");
    assert!(
        !signal_ignored(&out, libc::SIGPIPE.unsigned_abs()),
        "SIGPIPE ignored in the exec'd process:\n{out}"
    );
    let limits: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(limits[4], "654", "hard RLIMIT_NOFILE:\n{out}");
    let tail: Vec<&str> = out.lines().rev().take(5).collect();
    assert_eq!(tail[4], "/var/tmp", "{out}");
    assert_eq!(tail[2], "FROM_CONFIG=yes", "{out}");
    assert!(
        tail[1].contains("Permission denied"),
        "mkdir not filtered:\n{out}"
    );
    assert_eq!(tail[0], "mkdir=1", "{out}");
    finish(&rt, &id);
    berth_only!(
        "runc 1.1.5's exec ignores process.user.umask and may leave Go's raised soft RLIMIT_NOFILE"
    );
    assert_eq!(tail[3], "0027", "umask:\n{out}");
    assert_eq!(limits[3], "321", "soft RLIMIT_NOFILE:\n{out}");
}

#[test]
fn exec_process_leads_its_own_session() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let out = sh(&rt, &[], &id, SESSION_OF_SELF);
    let ids: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(ids.len(), 3, "{out}");
    assert_ne!(ids[0], "1", "the exec'd shell is not init: {out}");
    assert!(
        ids.iter().all(|x| *x == ids[0]),
        "pid, process group and session differ: {out}"
    );
    finish(&rt, &id);
}

#[test]
fn exec_flags_override_the_process() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper().set(&["process"], "noNewPrivileges", json!(false));
    let id = running(&rt, &b);
    let script = "grep -E '^(Uid|Gid|Groups|CapBnd|NoNewPrivs):' /proc/self/status; pwd; env";
    let plain = sh(&rt, &[], &id, script);
    assert_eq!(expect_status_field(&plain, "NoNewPrivs"), "0", "{plain}");
    let flags = [
        "-e",
        "ADDED=1",
        "--cwd",
        "/etc",
        "-u",
        "1000:1000",
        "-g",
        "10",
        "-g",
        "20",
        "--cap",
        "CAP_SYS_ADMIN",
        "--no-new-privs",
    ];
    let out = sh(&rt, &flags, &id, script);
    let ids = |f: &str| {
        expect_status_field(&out, f)
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("Uid"), ["1000"; 4], "{out}");
    assert_eq!(ids("Gid"), ["1000"; 4], "{out}");
    assert_eq!(ids("Groups"), ["10", "20"], "{out}");
    let bnd = u64::from_str_radix(expect_status_field(&out, "CapBnd"), 16).unwrap();
    assert_ne!(
        bnd & cap_mask(&["CAP_SYS_ADMIN"]),
        0,
        "--cap not in the bounding set:\n{out}"
    );
    assert_eq!(expect_status_field(&out, "NoNewPrivs"), "1", "{out}");
    assert!(out.lines().any(|l| l == "/etc"), "{out}");
    assert!(out.lines().any(|l| l == "ADDED=1"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("PATH=")),
        "config env kept:\n{out}"
    );
    finish(&rt, &id);
}

#[test]
fn exec_process_json_is_the_whole_process() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let dir = temp_dir("berth-e2e-exec-");
    let file = dir.path().join("process.json");
    let process = json!({
        "terminal": false,
        "args": ["sh", "-c", "grep -E '^(Uid|Gid|Groups|CapBnd|NoNewPrivs):' /proc/self/status; pwd; env"],
        "env": ["PATH=/bin", "FROM_JSON=1"],
        "cwd": "/tmp",
        "user": {"uid": 2000, "gid": 3000, "additionalGids": [4000]},
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
        "noNewPrivileges": true
    });
    fs::write(&file, process.to_string()).unwrap();
    let out = rt
        .exec(&["--process", file.to_str().unwrap(), &id])
        .ok()
        .stdout;
    let ids = |f: &str| {
        expect_status_field(&out, f)
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("Uid"), ["2000"; 4], "{out}");
    assert_eq!(ids("Gid"), ["3000"; 4], "{out}");
    assert_eq!(ids("Groups"), ["4000"], "{out}");
    let kill = format!("{:016x}", cap_mask(&["CAP_KILL"]));
    assert_eq!(expect_status_field(&out, "CapBnd"), kill, "{out}");
    assert_eq!(expect_status_field(&out, "NoNewPrivs"), "1", "{out}");
    assert!(out.lines().any(|l| l == "/tmp"), "{out}");
    assert!(out.lines().any(|l| l == "FROM_JSON=1"), "{out}");
    assert!(
        !out.contains("BERTH_E2E_ID="),
        "the config's env leaked in:\n{out}"
    );
    finish(&rt, &id);
}

#[test]
fn exec_exit_status_is_the_processs() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    rt.exec(&[&id, "sh", "-c", "exit 7"]).exits_with(7);
    rt.exec(&[&id, "sh", "-c", "kill -KILL $$"])
        .exits_with(128 + 9);
    rt.exec(&[&id, "sh", "-c", "kill -TERM $$"])
        .exits_with(128 + 15);
    rt.exec(&[&id, "true"]).exits_with(0);
    assert_eq!(rt.status(&id), "running");
    finish(&rt, &id);
}

#[test]
fn exec_forwards_signals_to_the_process() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let script = "trap 'echo got-term; exit 3' TERM; echo waiting; while :; do sleep 1; done";
    let bg = rt.spawn_cmd(&["exec", &id, "sh", "-c", script], Opts::default());
    eventually_with(
        "exec to start",
        || bg.stdout_so_far(),
        |s| s.contains("waiting"),
    );
    bg.signal(15); // SIGTERM, to the runtime: it must pass it on.
    let out = bg.wait().exits_with(3);
    assert!(out.stdout.contains("got-term"), "{out}");
    finish(&rt, &id);
}

#[test]
fn exec_detach_writes_the_pid_file_and_returns() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let dir = temp_dir("berth-e2e-exec-");
    let pid_file = dir.path().join("pid");
    let pf = pid_file.to_str().unwrap();
    // If the runtime waited for the process, this would hit the harness's
    // command timeout and fail.
    let script = "echo detached-$$ > /dev/shm/detached; exec sleep 100000";
    rt.exec(&["--detach", "--pid-file", pf, &id, "sh", "-c", script])
        .ok();
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let ns = |p: i32| fs::read_link(format!("/proc/{p}/ns/pid")).unwrap();
    assert_eq!(
        ns(pid),
        ns(init_pid(&rt, &id)),
        "pid file names no process of the container"
    );
    let out = eventually_with(
        "the detached process to write its file",
        || rt.exec(&[&id, "cat", "/dev/shm/detached"]).stdout,
        |s| s.starts_with("detached-"),
    );
    // Its pid inside the container is not the host pid in the pid file.
    assert_ne!(out.trim(), format!("detached-{pid}"));
    finish(&rt, &id);
}

fn file_fd(content: &str) -> (berth_test_harness::TempDir, OwnedFd) {
    let dir = temp_dir("berth-e2e-fd-");
    let path = dir.path().join("payload");
    fs::write(&path, content).unwrap();
    (dir, OwnedFd::from(File::open(&path).unwrap()))
}

/// `ls /proc/self/fd` as a set (ls's own directory fd is the lowest free).
fn fd_set(out: &str) -> BTreeSet<u32> {
    out.split_whitespace().map(|f| f.parse().unwrap()).collect()
}

#[test]
fn exec_leaks_no_fd_and_preserves_fds_on_request() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let with_fd = |content: &str| {
        let (dir, fd) = file_fd(content);
        (
            dir,
            Opts {
                extra_fds: vec![fd],
                ..Default::default()
            },
        )
    };
    let (_d, opts) = with_fd("leak");
    let out = rt.exec_with(&[&id, "ls", "/proc/self/fd"], opts).ok();
    assert_eq!(fd_set(&out.stdout), BTreeSet::from([0, 1, 2, 3]), "{out}");
    let (_d, opts) = with_fd("payload\n");
    let args = [
        "--preserve-fds",
        "1",
        &id,
        "sh",
        "-c",
        "cat <&3; ls /proc/self/fd",
    ];
    let out = rt.exec_with(&args, opts).ok();
    let (first, rest) = out.stdout.split_once('\n').unwrap();
    assert_eq!(first, "payload", "{out}");
    assert_eq!(fd_set(rest), BTreeSet::from([0, 1, 2, 3, 4]), "{out}");
    finish(&rt, &id);
}

#[test]
fn exec_tty_sends_the_pty_master_to_the_console_socket() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    let console = ConsoleSocket::new();
    let socket = console.path().to_str().unwrap().to_string();
    let script = "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty; \
                  cut -d' ' -f7 /proc/self/stat; echo done-$((6*7))";
    rt.exec(&[
        "-d",
        "-t",
        "--console-socket",
        &socket,
        &id,
        "sh",
        "-c",
        script,
    ])
    .ok();
    let mut pty = console.recv_master();
    let out = pty.read_until("done-42");
    assert!(out.contains("/dev/pts/"), "{out:?}");
    assert!(out.contains("stdio-is-a-tty"), "{out:?}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let tty_nr = lines[lines.len() - 2];
    assert_ne!(tty_nr, "0", "no controlling terminal: {out:?}");
    finish(&rt, &id);
}

#[test]
fn exec_tty_without_console_socket_proxies_the_pty() {
    require!(root);
    let rt = Runtime::new();
    let b = sleeper();
    let id = running(&rt, &b);
    berth_only!("runc 1.1.5 insists on opening /dev/tty, so it needs a terminal of its own here");
    let out = rt
        .exec(&[
            "-t",
            &id,
            "sh",
            "-c",
            "tty; [ -t 1 ] && echo stdout-is-a-tty; exit 5",
        ])
        .exits_with(5);
    assert!(out.stdout.contains("/dev/pts/"), "{out}");
    assert!(out.stdout.contains("stdout-is-a-tty"), "{out}");
    finish(&rt, &id);
}

#[test]
fn exec_follows_init_into_a_cgroup_it_was_moved_to() {
    require!(root);
    let rt = Runtime::new();
    let moved: SubCgroup;
    let b = sleeper();
    let id = running(&rt, &b);
    berth_only!("runc joins the cgroups in its state, not the ones init is in now");
    // Move init into a memory (v2: unified) cgroup this test makes under
    // its own, then exec: the process must land where init is now.
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let (marker, _, dir) = movable(&own);
    let name = format!("exec-moved-{}", std::process::id());
    moved = SubCgroup(dir.join(&name));
    fs::create_dir(&moved.0).unwrap();
    let init = init_pid(&rt, &id);
    fs::write(moved.0.join("cgroup.procs"), init.to_string()).unwrap();
    let out = sh(&rt, &[], &id, &format!("grep {marker} /proc/self/cgroup"));
    assert!(out.trim_end().ends_with(&format!("/{name}")), "{out}");
    // Deleting the container kills init; the drop removes the cgroup.
    finish(&rt, &id);
}

#[test]
fn exec_joins_a_time_namespace_and_its_offsets() {
    require!(root, timens);
    berth_only!("runc 1.1.5 rejects the time namespace type (support came in runc 1.2)");
    let rt = Runtime::new();
    let year = 365 * 86400;
    let b = sleeper().namespace("time", None).set(
        &["linux"],
        "timeOffsets",
        json!({"boottime": {"secs": year}}),
    );
    let id = running(&rt, &b);
    let out = sh(
        &rt,
        &[],
        &id,
        "readlink /proc/self/ns/time; readlink /proc/1/ns/time; cut -d. -f1 /proc/uptime",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], lines[1], "not in init's time namespace:\n{out}");
    assert_ne!(lines[0], host_ns("time"), "{out}");
    // /proc/uptime counts boottime, offset by a year inside.
    let uptime: u64 = lines[2].parse().unwrap();
    assert!(uptime >= year, "boottime offset not seen:\n{out}");
    finish(&rt, &id);
}

/// `exec ID` of `stat` on `/` and on init's root: the same directory.
#[track_caller]
fn assert_same_root(rt: &Runtime, id: &str) {
    let out = sh(
        rt,
        &[],
        id,
        "stat -c '%d:%i' /; stat -L -c '%d:%i' /proc/1/root; ls /bin/busybox",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], lines[1], "exec's / is not init's:\n{out}");
}

#[test]
fn exec_gets_inits_root_without_pivot_root_or_a_mount_namespace() {
    require!(root);
    let rt = Runtime::new();
    // --no-pivot: init's root is the rootfs moved onto / and a chroot.
    let b = sleeper();
    let id = unique_id();
    rt.create(&id, &b, &["--no-pivot"]).ok();
    rt.start(&id).ok();
    rt.wait_output(&id, "ready");
    assert_same_root(&rt, &id);
    finish(&rt, &id);
    berth_only!("runc 1.1.5 execs at the host's root in a container without a mount namespace");
    // No mount namespace: init chrooted in the runtime's own namespace,
    // which joining namespaces alone would not give (runc refuses masked
    // and read-only paths then, so the config has none). Its mounts are
    // the host's until delete: no cgroup mount, which every other create
    // meanwhile would see among the host's cgroup hierarchies.
    let mut b = sleeper()
        .namespaces(&["pid"])
        .unset(&[], "hostname")
        .unset(&["linux"], "maskedPaths")
        .unset(&["linux"], "readonlyPaths");
    b.config_mut()["mounts"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["type"] != "cgroup");
    let id = running(&rt, &b);
    assert_same_root(&rt, &id);
    finish(&rt, &id);
}

/// An exec racing its container's end: init is killed while the exec
/// starts, at offsets spread over the exec's first milliseconds. Each exec
/// must either run (exit 0, or 137 when the pid namespace's end killed
/// its process) or say the container is stopped; never a bare system
/// call error from the moment init vanished.
#[test]
fn exec_racing_the_containers_end_says_it_is_stopped() {
    require!(root);
    berth_only!("runc 1.1.5 words this race in its own ways");
    let rt = Runtime::new();
    let b = sleeper();
    let mut unclear = Vec::new();
    for i in 0..40u64 {
        let id = running(&rt, &b);
        let exec = rt.spawn_cmd(&["exec", &id, "true"], Opts::default());
        std::thread::sleep(std::time::Duration::from_micros((i * 97) % 3000));
        rt.kill(&id, Some("KILL")).ok();
        let out = exec.wait();
        let ran = matches!(out.code(), Some(0 | 137));
        if !ran && !out.stderr.contains("it is stopped") {
            unclear.push(format!("{:?}: {}", out.code(), out.stderr.trim()));
        }
        rt.wait_status(&id, "stopped");
        finish(&rt, &id);
    }
    assert!(
        unclear.is_empty(),
        "unclear exec failures:\n{}",
        unclear.join("\n")
    );
}
