//! The container process: args, env, cwd, user, umask, rlimits,
//! capabilities, no_new_privs, oom_score_adj and open fds, seen from inside.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::fd::OwnedFd;

use berth_test_harness::parse::{
    cap_field, cap_mask, expect_status_field, limits, signal_ignored, SESSION_OF_SELF,
};
use berth_test_harness::{json, require, temp_dir, unique_id, Bundle, Opts, Runtime};

fn run_ok(b: Bundle) -> String {
    Runtime::new().run_ok(&b)
}

fn status_of(b: Bundle) -> String {
    run_ok(b.args(["cat", "/proc/self/status"]))
}

#[test]
fn args_are_passed_verbatim() {
    require!(root);
    let out = run_ok(Bundle::busybox().args([
        "sh",
        "-c",
        "printf '[%s]' \"$0\" \"$@\"",
        "zero",
        "a b",
        "",
        "c'd",
        "$HOME",
    ]));
    assert_eq!(out, "[zero][a b][][c'd][$HOME]");
}

#[test]
fn args0_is_looked_up_in_the_container_path() {
    require!(root);
    let out = run_ok(
        Bundle::busybox()
            .env(["PATH=/nonexistent:/bin"])
            .args(["echo", "looked-up"]),
    );
    assert_eq!(out, "looked-up\n");
}

#[test]
fn env_is_the_configured_one_and_nothing_from_the_host() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .env(["PATH=/bin", "A=1", "B=two words", "EMPTY="])
        .args(["env"]);
    let id = unique_id();
    let opts = Opts {
        env: vec![("BERTH_E2E_LEAK".into(), "from-the-runtime-env".into())],
        ..Default::default()
    };
    let out = rt.run_with(&id, &b, &[], opts).ok();
    rt.assert_no_residue(&id);
    let got: BTreeSet<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("HOME="))
        .collect();
    let marker = format!("BERTH_E2E_ID={id}");
    let want: BTreeSet<&str> = ["PATH=/bin", "A=1", "B=two words", "EMPTY=", &marker].into();
    assert_eq!(
        got, want,
        "HOME aside (runc adds it), the env must be exactly the config's"
    );
}

#[test]
fn cwd_is_the_configured_one() {
    require!(root);
    assert_eq!(
        run_ok(Bundle::busybox().cwd("/var/tmp").args(["pwd"])),
        "/var/tmp\n"
    );
    assert_eq!(
        run_ok(Bundle::busybox().cwd("/etc").sh("ls passwd")),
        "passwd\n"
    );
}

#[test]
fn user_group_and_additional_groups() {
    require!(root);
    let b = Bundle::busybox()
        .user(1000, 1000)
        .set(&["process", "user"], "additionalGids", json!([10, 65534]))
        .sh("id; grep -E '^(Uid|Gid|Groups):' /proc/self/status");
    let out = run_ok(b);
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "uid=1000(test) gid=1000(test) groups=10,65534(nogroup)",
            "Uid: 1000 1000 1000 1000",
            "Gid: 1000 1000 1000 1000",
            "Groups: 10 65534",
        ],
        "{out}"
    );
}

#[test]
fn root_user_gets_no_supplementary_groups_by_default() {
    require!(root);
    let status = status_of(Bundle::busybox());
    assert_eq!(
        expect_status_field(&status, "Uid")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0"; 4]
    );
    assert_eq!(expect_status_field(&status, "Groups"), "");
}

#[test]
fn umask_is_applied() {
    require!(root);
    for (umask, shown) in [(0o027, "0027"), (0o077, "0077")] {
        let b = Bundle::busybox()
            .set(&["process", "user"], "umask", json!(umask))
            .sh("umask");
        assert_eq!(run_ok(b), format!("{shown}\n"));
    }
}

#[test]
fn rlimits_are_applied() {
    require!(root);
    let b = Bundle::busybox()
        .set(
            &["process"],
            "rlimits",
            json!([
                {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
                {"type": "RLIMIT_CORE", "soft": 1024, "hard": 2048},
            ]),
        )
        .sh("cat /proc/self/limits; echo ulimit-n=$(ulimit -n)");
    let out = run_ok(b);
    let l = limits(&out);
    assert_eq!(l["Max open files"], ("512".into(), "1024".into()), "{out}");
    assert_eq!(
        l["Max core file size"],
        ("1024".into(), "2048".into()),
        "{out}"
    );
    assert!(out.contains("ulimit-n=512"), "{out}");
}

#[test]
fn capabilities_of_root_are_the_configured_sets() {
    require!(root);
    let set = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let b = Bundle::busybox().set(
        &["process"],
        "capabilities",
        json!({"bounding": set, "effective": set, "permitted": set, "inheritable": set, "ambient": set}),
    );
    let status = status_of(b);
    let want = cap_mask(&set);
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(cap_field(&status, key), want, "{key}:\n{status}");
    }
}

/// A non-root user: the kernel keeps no root privileges across exec, so
/// permitted and effective become the ambient set (capabilities(7)).
#[test]
fn capabilities_of_a_non_root_user_all_five_sets() {
    require!(root);
    let b = Bundle::busybox().user(1000, 1000).set(
        &["process"],
        "capabilities",
        json!({
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
            "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL"],
            "ambient": ["CAP_NET_BIND_SERVICE"],
        }),
    );
    let status = status_of(b);
    let check = |key, names: &[&str]| {
        assert_eq!(cap_field(&status, key), cap_mask(names), "{key}:\n{status}")
    };
    check(
        "CapBnd",
        &[
            "CAP_CHOWN",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE",
            "CAP_SETUID",
        ],
    );
    check("CapInh", &["CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    check("CapAmb", &["CAP_NET_BIND_SERVICE"]);
    check("CapPrm", &["CAP_NET_BIND_SERVICE"]);
    check("CapEff", &["CAP_NET_BIND_SERVICE"]);
}

#[test]
fn no_capabilities_field_means_no_capabilities() {
    require!(root);
    let status = status_of(Bundle::busybox().unset(&["process"], "capabilities"));
    for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(cap_field(&status, key), 0, "{key}:\n{status}");
    }
}

#[test]
fn no_new_privileges() {
    require!(root);
    for (on, want) in [(true, "1"), (false, "0")] {
        let status = status_of(Bundle::busybox().set(&["process"], "noNewPrivileges", json!(on)));
        assert_eq!(
            expect_status_field(&status, "NoNewPrivs"),
            want,
            "noNewPrivileges {on}"
        );
    }
}

#[test]
fn the_process_leads_its_own_session() {
    require!(root);
    // As runc's init: not in the session and process group of whoever ran
    // the runtime (signals to that group would reach it directly).
    let out = run_ok(Bundle::busybox().args(["sh", "-c", SESSION_OF_SELF]));
    assert_eq!(out, "1 1 1\n", "pid, process group and session of init");
}

#[test]
fn sigpipe_is_not_ignored_in_the_container() {
    require!(root);
    // The harness starts the runtime with SIGPIPE at its default (Rust's
    // Command resets it). A runtime that ignores SIGPIPE for its own writes
    // must not hand that to the container: an ignored signal stays ignored
    // across execve, and `yes | head -1` would then never end by SIGPIPE.
    let status = status_of(Bundle::busybox());
    assert!(
        !signal_ignored(&status, libc::SIGPIPE.unsigned_abs()),
        "SIGPIPE ignored in the container:\n{status}"
    );
}

#[test]
fn oom_score_adj_is_applied() {
    require!(root);
    // Only values at or above our own: lowering needs CAP_SYS_RESOURCE,
    // which this host's bounding set lacks (host-notes).
    let own: i32 = fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for adj in [(own + 100).min(1000), (own + 321).min(1000)] {
        let b = Bundle::busybox()
            .set(&["process"], "oomScoreAdj", json!(adj))
            .args(["cat", "/proc/self/oom_score_adj"]);
        assert_eq!(run_ok(b), format!("{adj}\n"));
    }
}

/// An fd the runtime inherited from its caller, readable content included.
fn file_fd(content: &str) -> (berth_test_harness::TempDir, OwnedFd) {
    let dir = temp_dir("berth-e2e-fd-");
    let path = dir.path().join("payload");
    fs::write(&path, content).unwrap();
    (dir, OwnedFd::from(File::open(&path).unwrap()))
}

/// `ls /proc/self/fd` as a set; ls's own directory fd is the lowest free
/// one, so a clean process lists exactly 0, 1, 2 and 3.
fn fd_set(out: &str) -> BTreeSet<u32> {
    out.split_whitespace().map(|f| f.parse().unwrap()).collect()
}

#[test]
fn only_stdio_is_open_in_the_container() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["ls", "/proc/self/fd"]);
    // Hand the runtime an extra fd it must not pass on.
    let (_d, leak) = file_fd("leak");
    let id = unique_id();
    let out = rt
        .run_with(
            &id,
            &b,
            &[],
            Opts {
                extra_fds: vec![leak],
                ..Default::default()
            },
        )
        .ok();
    rt.assert_no_residue(&id);
    assert_eq!(
        fd_set(&out.stdout),
        BTreeSet::from([0, 1, 2, 3]),
        "run:\n{out}"
    );

    // The create/start path too (the exec fifo and sync sockets must be gone).
    let (_d, leak) = file_fd("leak");
    let id = unique_id();
    rt.create_with(
        &id,
        &b,
        &[],
        Opts {
            extra_fds: vec![leak],
            ..Default::default()
        },
    )
    .ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    let out = rt.container_stdout(&id);
    assert_eq!(
        fd_set(&out),
        BTreeSet::from([0, 1, 2, 3]),
        "create/start:\n{out}"
    );
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn preserve_fds_passes_extra_fds_through() {
    require!(root);
    let rt = Runtime::new();
    let (_d1, a) = file_fd("first-payload\n");
    let (_d2, b_fd) = file_fd("second-payload\n");
    let b = Bundle::busybox().sh("cat <&3; cat <&4; ls /proc/self/fd");
    let id = unique_id();
    let opts = Opts {
        extra_fds: vec![a, b_fd],
        ..Default::default()
    };
    let out = rt.run_with(&id, &b, &["--preserve-fds", "2"], opts).ok();
    rt.assert_no_residue(&id);
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("first-payload"), "{out}");
    assert_eq!(lines.next(), Some("second-payload"), "{out}");
    let rest: String = lines.collect::<Vec<_>>().join(" ");
    // ls (the last command, so sh execs it) sees 0-4 plus its own dir fd 5.
    assert_eq!(fd_set(&rest), BTreeSet::from([0, 1, 2, 3, 4, 5]), "{out}");
}

/// The container's view of /proc/keys (the default config masks it).
fn keys_bundle() -> Bundle {
    let mut b = Bundle::busybox().sh("cat /proc/keys");
    let masked = b.config_mut()["linux"]["maskedPaths"]
        .as_array_mut()
        .expect("maskedPaths");
    masked.retain(|p| p != "/proc/keys");
    b
}

#[test]
fn new_session_keyring_named_after_the_container() {
    require!(root);
    let rt = Runtime::new();
    let b = keys_bundle();
    let id = unique_id();
    let out = rt.run(&id, &b).ok();
    // The process possesses a session keyring named after the container
    // (runc's name: `_ses.<id>`).
    let name = format!("_ses.{id}:");
    let found = out
        .stdout
        .lines()
        .any(|l| l.contains(" keyring ") && l.split_whitespace().nth(8) == Some(name.as_str()));
    assert!(found, "no keyring named {name}\n{out}");
    rt.assert_no_residue(&id);

    let id = unique_id();
    let out = rt
        .run_with(&id, &b, &["--no-new-keyring"], Default::default())
        .ok();
    assert!(
        !out.stdout.contains(&id),
        "--no-new-keyring still made one:\n{out}"
    );
    rt.assert_no_residue(&id);
}
