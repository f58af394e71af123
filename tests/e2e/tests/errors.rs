//! Bad input: each must make `create` (or `run`) exit non-zero and leave
//! nothing behind. berth is also held to one stderr line naming the field
//! or path; runc words its errors differently, so that part is berth-only.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Output, Runtime};

/// `create` must fail and leave no state dir, process, mount or cgroup.
#[track_caller]
fn create_fails(rt: &Runtime, b: &Bundle, id: &str) -> Output {
    let out = rt.create(id, b, &[]).fails();
    rt.assert_no_residue(id);
    rt.cmd(&["state", id]).fails();
    out
}

/// `run` must fail the same way.
#[track_caller]
fn run_fails(rt: &Runtime, b: &Bundle) -> Output {
    let id = unique_id();
    let out = rt.run(&id, b).fails();
    rt.assert_no_residue(&id);
    out
}

/// berth's error is one line on stderr containing one of `names`. Lines
/// logged at a lower level (`level=warning`, e.g. "not supported yet") are
/// not errors and are not counted.
#[track_caller]
fn assert_one_line_naming(out: &Output, names: &[&str]) {
    let lower = ["level=warning", "level=info", "level=debug"];
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !lower.iter().any(|w| l.contains(w)))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "want exactly one error line on stderr:\n{out}"
    );
    assert!(
        names.iter().any(|n| lines[0].contains(n)),
        "stderr names none of {names:?}:\n{out}"
    );
}

/// The common shape: create fails, nothing is left, and (berth only) the
/// message names the field.
macro_rules! bad_config {
    ($name:ident, $bundle:expr, $names:expr) => {
        #[test]
        fn $name() {
            require!(root);
            let rt = Runtime::new();
            let b: Bundle = $bundle;
            let out = create_fails(&rt, &b, &unique_id());
            berth_only!("runc's error messages name fields differently");
            assert_one_line_naming(&out, &$names);
        }
    };
}

bad_config!(
    missing_rootfs,
    Bundle::busybox().set(&["root"], "path", json!("no-such-rootfs")),
    ["root.path", "no-such-rootfs"]
);

bad_config!(
    bad_mount_source,
    Bundle::busybox().mount("/mnt", "bind", "/nonexistent-berth-e2e-src", &["bind"]),
    ["mounts[7]", "/nonexistent-berth-e2e-src"]
);

bad_config!(relative_cwd, Bundle::busybox().cwd("tmp"), ["process.cwd"]);

bad_config!(
    cwd_is_a_regular_file,
    Bundle::busybox().cwd("/etc/passwd"),
    ["process.cwd", "/etc/passwd"]
);

bad_config!(
    user_not_mapped_in_the_user_namespace,
    Bundle::busybox()
        .userns(&[(0, 100_000, 65536)], &[(0, 100_000, 65536)])
        .user(70_000, 0),
    ["process.user.uid", "70000"]
);

bad_config!(
    missing_executable,
    Bundle::busybox().args(["/bin/nosuch"]),
    ["exec /bin/nosuch"]
);

bad_config!(
    executable_without_exec_permission,
    Bundle::busybox().args(["/etc/passwd"]),
    ["exec /etc/passwd"]
);

bad_config!(
    empty_args,
    Bundle::busybox().args(Vec::<String>::new()),
    ["process.args"]
);

bad_config!(
    config_is_not_json,
    Bundle::busybox().raw_config(b"{ \"ociVersion\": \"1.0.2\", this is not json"),
    ["config.json"]
);

bad_config!(
    unknown_namespace_type,
    Bundle::busybox().namespace("pidd", None),
    ["linux.namespaces[5].type"]
);

bad_config!(
    duplicate_namespace,
    {
        let mut b = Bundle::busybox();
        b.config_mut()["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "uts"}));
        b
    },
    ["linux.namespaces[5]"]
);

bad_config!(
    hostname_without_uts_namespace,
    {
        let b = Bundle::busybox().without_namespace("uts");
        b.hostname("no-uts")
    },
    ["hostname"]
);

bad_config!(
    unknown_rlimit,
    Bundle::busybox().set(
        &["process"],
        "rlimits",
        json!([{"type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1}])
    ),
    ["process.rlimits[0].type"]
);

bad_config!(
    user_namespace_without_mappings,
    Bundle::busybox().namespace("user", None),
    ["linux.uidMappings"]
);

bad_config!(
    terminal_without_console_socket,
    Bundle::busybox().terminal(true),
    ["console-socket"]
);

bad_config!(
    empty_config_json,
    Bundle::busybox().raw_config(b""),
    ["config.json"]
);

#[test]
fn missing_config_json() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox();
    fs::remove_file(b.path().join("config.json")).unwrap();
    let id = unique_id();
    // Not through rt.create, which would write the config.
    let out = rt
        .cmd(&["create", "--bundle", &b.path().to_string_lossy(), &id])
        .fails();
    rt.assert_no_residue(&id);
    berth_only!("runc's error messages name fields differently");
    assert_one_line_naming(&out, &["config.json"]);
}

#[test]
fn invalid_container_ids() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox();
    let outside = rt.root().parent().unwrap().to_path_buf();
    for id in ["../x", "a/b", "..", "/abs"] {
        let out = rt.create(id, &b, &[]).fails();
        assert!(
            !outside.join("x").exists(),
            "{id}: created a state dir outside the root"
        );
        rt.assert_root_empty();
        if berth_test_harness::is_berth() {
            assert_one_line_naming(&out, &[id]);
        }
    }
    berth_only!("runc's error messages name fields differently");
}

#[test]
fn missing_executable_through_run() {
    require!(root);
    let rt = Runtime::new();
    let out = run_fails(&rt, &Bundle::busybox().args(["/bin/nosuch"]));
    berth_only!("runc's error messages name fields differently");
    assert_one_line_naming(&out, &["exec /bin/nosuch: No such file or directory"]);
}

#[test]
fn bad_cwd_through_run() {
    require!(root);
    let rt = Runtime::new();
    let out = run_fails(&rt, &Bundle::busybox().cwd("/etc/passwd").args(["true"]));
    berth_only!("runc's error messages name fields differently");
    assert_one_line_naming(&out, &["process.cwd", "/etc/passwd"]);
}

#[test]
fn kill_with_an_unknown_signal_fails_and_leaves_the_container() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    rt.kill(&id, Some("SIGNOSUCH")).fails();
    rt.kill(&id, Some("99999")).fails();
    assert_eq!(rt.status(&id), "running");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

// What runc 1.1.5 accepts although the spec (or the issue) forbids it.

#[test]
fn unsupported_oci_version() {
    require!(root);
    berth_only!("runc 1.1.5 accepts any ociVersion");
    let rt = Runtime::new();
    let b = Bundle::busybox().set(&[], "ociVersion", json!("2.0.0"));
    let out = create_fails(&rt, &b, &unique_id());
    assert_one_line_naming(&out, &["ociVersion"]);
}

#[test]
fn unknown_capability() {
    require!(root);
    berth_only!("runc 1.1.5 only warns about unknown capabilities and drops them");
    let rt = Runtime::new();
    let b = Bundle::busybox().set(
        &["process", "capabilities"],
        "bounding",
        json!(["CAP_KILL", "CAP_NOSUCH"]),
    );
    let out = create_fails(&rt, &b, &unique_id());
    assert_one_line_naming(&out, &["process.capabilities.bounding[1]"]);
}

#[test]
fn relative_mount_destination() {
    require!(root);
    berth_only!("runc 1.1.5 only warns about relative mount destinations");
    let rt = Runtime::new();
    let b = Bundle::busybox().mount("relative/dest", "tmpfs", "tmpfs", &[]);
    let out = create_fails(&rt, &b, &unique_id());
    assert_one_line_naming(&out, &["mounts[7].destination"]);
}

#[test]
fn id_mappings_without_a_user_namespace() {
    require!(root);
    berth_only!("runc 1.1.5 ignores uid/gid mappings when there is no user namespace");
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .set(
            &["linux"],
            "uidMappings",
            json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
        )
        .set(
            &["linux"],
            "gidMappings",
            json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
        );
    let out = create_fails(&rt, &b, &unique_id());
    assert_one_line_naming(&out, &["linux.uidMappings"]);
}

bad_config!(
    unknown_filesystem_option,
    Bundle::busybox().mount("/mnt", "tmpfs", "tmpfs", &["size=1m", "bogus=1"]),
    ["mounts[7] /mnt"]
);

bad_config!(
    bad_filesystem_option_value,
    Bundle::busybox().mount("/mnt", "tmpfs", "tmpfs", &["mode=xyz"]),
    ["mounts[7] /mnt"]
);
