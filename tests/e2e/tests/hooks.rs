//! OCI hooks: the six kinds, their order, the state on their stdin, the
//! namespaces each runs in, args/env, timeout and failure semantics
//! (runtime-spec config.md "POSIX-platform Hooks", runtime.md "Lifecycle").
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use berth_test_harness::{berth_only, require, unique_id, Bundle, Runtime};
use serde_json::{json, Value};

const PATH: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

/// A hook running `script` under `/bin/sh` with `K=kind` in its env.
fn sh_hook(kind: &str, script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": [PATH, format!("K={kind}")]})
}

/// A hook that records, in `dir` (as the hook sees it): its stdin as
/// `KIND.json`, its mount and uts namespaces as `KIND.mnt`/`KIND.uts`, and
/// appends its kind to `order`.
fn recording_hook(kind: &str, dir: &str) -> Value {
    let script = format!(
        "cat > {dir}/$K.json; readlink /proc/self/ns/mnt > {dir}/$K.mnt; \
         readlink /proc/self/ns/uts > {dir}/$K.uts; echo $K >> {dir}/order"
    );
    sh_hook(kind, &script)
}

/// A bundle whose every hook kind records into `rootfs/hooklog`: the
/// host-side hooks and createContainer (before pivot_root) by its host
/// path, startContainer (inside the container) as `/hooklog`.
fn recording_bundle() -> (Bundle, PathBuf) {
    // Writable root: startContainer writes to /hooklog from inside.
    let b = Bundle::busybox().args(["sleep", "1000"]).readonly(false);
    let log = b.rootfs().join("hooklog");
    fs::create_dir(&log).unwrap();
    let host = log.to_str().unwrap().to_string();
    let mut hooks = serde_json::Map::new();
    for kind in [
        "prestart",
        "createRuntime",
        "createContainer",
        "poststart",
        "poststop",
    ] {
        hooks.insert(kind.into(), json!([recording_hook(kind, &host)]));
    }
    hooks.insert(
        "startContainer".into(),
        json!([recording_hook("startContainer", "/hooklog")]),
    );
    (b.set(&[], "hooks", Value::Object(hooks)), log)
}

fn order(log: &Path) -> Vec<String> {
    fs::read_to_string(log.join("order"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn state_of(log: &Path, kind: &str) -> Value {
    let text = fs::read_to_string(log.join(format!("{kind}.json")))
        .unwrap_or_else(|e| panic!("{kind} hook left no state: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{kind} stdin {text:?}: {e}"))
}

fn ns_of(log: &Path, kind: &str, ns: &str) -> String {
    fs::read_to_string(log.join(format!("{kind}.{ns}")))
        .unwrap()
        .trim()
        .to_string()
}

fn link(path: impl AsRef<Path>) -> String {
    fs::read_link(path).unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_hook_kind_runs_in_order_with_the_state_on_stdin() {
    require!(root);
    let rt = Runtime::new();
    let (b, log) = recording_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let created = order(&log);
    assert_eq!(
        created[..3],
        ["prestart", "createRuntime", "createContainer"],
        "{created:?}"
    );
    for kind in ["prestart", "createRuntime"] {
        let st = state_of(&log, kind);
        assert_eq!(st["id"], id.as_str(), "{kind}: {st}");
        assert_eq!(st["pid"].as_i64(), Some(pid), "{kind}: {st}");
        assert_eq!(Path::new(st["bundle"].as_str().unwrap()), b.path(), "{st}");
        assert_eq!(st["status"], "creating", "{kind}: {st}");
    }
    rt.start(&id).ok();
    rt.kill(&id, Some("KILL")).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    let all = order(&log);
    assert!(all.contains(&"startContainer".to_string()), "{all:?}");
    assert_eq!(all.last().map(String::as_str), Some("poststop"), "{all:?}");
    let st = state_of(&log, "poststop");
    assert_eq!(st["id"], id.as_str(), "{st}");
    berth_only!("runc 1.1.5 runs poststart during create and gives in-container hooks pid 1");
    assert_eq!(
        all,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    let want = [
        ("createContainer", "creating"),
        ("startContainer", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ];
    for (kind, status) in want {
        let st = state_of(&log, kind);
        assert_eq!(st["status"], status, "{kind}: {st}");
        let want_pid = if kind == "poststop" { 0 } else { pid };
        assert_eq!(st["pid"].as_i64(), Some(want_pid), "{kind}: {st}");
    }
}

#[test]
fn each_hook_runs_in_the_namespaces_the_spec_says() {
    require!(root);
    let rt = Runtime::new();
    let (b, log) = recording_bundle();
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let (host_mnt, host_uts) = (link("/proc/self/ns/mnt"), link("/proc/self/ns/uts"));
    let (ctr_mnt, ctr_uts) = (
        link(format!("/proc/{pid}/ns/mnt")),
        link(format!("/proc/{pid}/ns/uts")),
    );
    assert_ne!(host_mnt, ctr_mnt);
    for kind in ["prestart", "createRuntime", "poststart"] {
        assert_eq!(ns_of(&log, kind, "mnt"), host_mnt, "{kind} mount namespace");
        assert_eq!(ns_of(&log, kind, "uts"), host_uts, "{kind} uts namespace");
    }
    for kind in ["createContainer", "startContainer"] {
        assert_eq!(ns_of(&log, kind, "mnt"), ctr_mnt, "{kind} mount namespace");
        assert_eq!(ns_of(&log, kind, "uts"), ctr_uts, "{kind} uts namespace");
    }
    rt.delete(&id, true).ok();
    assert_eq!(
        ns_of(&log, "poststop", "mnt"),
        host_mnt,
        "poststop mount namespace"
    );
    rt.assert_no_residue(&id);
}

#[test]
fn a_hook_gets_exactly_its_args_and_env() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let out = b.path().join("out");
    let script = format!("echo \"$0|$1|$2|$K|${{HOME:-nohome}}\" > {}", out.display());
    let hook = json!({"path": "/bin/sh", "args": ["myhook", "-c", script, "first", "second"],
                      "env": [PATH, "K=v=1"]});
    let b = b.set(&["hooks"], "createRuntime", json!([hook]));
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    // sh -c SCRIPT NAME ARG: $0 is the first arg after the script.
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "first|second||v=1|nohome\n"
    );
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn runtime_namespace_hooks_run_in_the_bundle_directory() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let bundle = b.path().canonicalize().unwrap();
    let kinds = ["prestart", "createRuntime", "poststart", "poststop"];
    let mut b = b;
    for kind in kinds {
        let script = format!("pwd -P > {}/{kind}.cwd", bundle.display());
        b = b.set(&["hooks"], kind, json!([sh_hook(kind, &script)]));
    }
    // The runtime is started elsewhere: in the test's own directory.
    assert_ne!(std::env::current_dir().unwrap(), bundle);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    let cwd = |kind: &str| {
        let text = fs::read_to_string(bundle.join(format!("{kind}.cwd")))
            .unwrap_or_else(|e| panic!("{kind} hook left no cwd: {e}"));
        PathBuf::from(text.trim_end())
    };
    for kind in ["prestart", "createRuntime", "poststart"] {
        assert_eq!(cwd(kind), bundle, "{kind} hook's working directory");
    }
    berth_only!("runc 1.1.5 runs poststop hooks where `delete` was run");
    assert_eq!(cwd("poststop"), bundle, "poststop hook's working directory");
}

/// A createRuntime-like hook kind that fails must fail create and leave
/// nothing; the poststop hook of the failed container still runs.
fn failing_create_hook(kind: &str) {
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]);
    let ran = b.path().join("poststop-ran");
    let poststop = sh_hook("poststop", &format!("touch {}", ran.display()));
    let b = b
        .set(
            &["hooks"],
            kind,
            json!([sh_hook(kind, "echo no >&2; exit 7")]),
        )
        .set(&["hooks"], "poststop", json!([poststop]));
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently and skips poststop after a failed create");
    let err = out.stderr.trim();
    assert!(err.contains(&format!("hooks.{kind}[0]")), "{err}");
    assert!(err.contains("exit status 7") && err.contains("no"), "{err}");
    assert!(ran.exists(), "poststop did not run after the failed create");
}

#[test]
fn a_failing_prestart_hook_fails_create() {
    require!(root);
    failing_create_hook("prestart");
}

#[test]
fn a_failing_create_runtime_hook_fails_create() {
    require!(root);
    failing_create_hook("createRuntime");
}

#[test]
fn a_failing_create_container_hook_fails_create() {
    require!(root);
    failing_create_hook("createContainer");
}

#[test]
fn a_missing_hook_binary_is_a_clear_error_leaving_nothing() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["true"]).set(
        &["hooks"],
        "createRuntime",
        json!([{"path": "/nonexistent/berth-hook"}]),
    );
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    berth_only!("runc words the error differently");
    let err = out.stderr.trim();
    assert!(
        err.contains("hooks.createRuntime[0] /nonexistent/berth-hook: No such file or directory"),
        "{err}"
    );
}

/// Creates a container whose prestart hook runs `script` with a 1 s
/// timeout; create must fail and leave nothing, the hook included. The id
/// in the hook's command line lets the residue check see a surviving hook
/// (or its child) as a leftover process.
fn timed_out_create(script: &str) -> String {
    let rt = Runtime::new();
    let id = unique_id();
    let script = format!("{script} # {id}");
    let hook =
        json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": [PATH], "timeout": 1});
    let b = Bundle::busybox()
        .args(["true"])
        .set(&["hooks"], "prestart", json!([hook]));
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    out.stderr
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_fails_create() {
    require!(root);
    timed_out_create("exec sleep 1001");
}

#[test]
fn a_timed_out_hook_is_killed_with_its_children() {
    require!(root);
    berth_only!("runc 1.1.5 kills only the hook and then waits for its children's output");
    let err = timed_out_create("sleep 1000 & exec sleep 1001");
    assert!(
        err.contains("hooks.prestart[0] /bin/sh: timed out after 1s"),
        "{err}"
    );
}

#[test]
fn a_failing_start_container_hook_fails_start() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().sh("echo user process ran").set(
        &["hooks"],
        "startContainer",
        json!([sh_hook("startContainer", "echo bad >&2; exit 5")]),
    );
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let out = rt.start(&id);
    rt.wait_status(&id, "stopped");
    assert!(
        !rt.container_stdout(&id).contains("user process ran"),
        "the process ran although its startContainer hook failed"
    );
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc 1.1.5's start returns before init runs startContainer hooks");
    let out = out.fails();
    assert!(
        out.stderr.contains("hooks.startContainer[0]"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("exit status 5"), "{}", out.stderr);
}

#[test]
fn poststart_and_poststop_failures_are_only_warnings() {
    require!(root);
    berth_only!("runc 1.1.5 runs poststart in create, and its failure fails create");
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let ran = b.path().join("second-poststop-ran");
    let second = sh_hook("poststop", &format!("touch {}", ran.display()));
    let b = b
        .set(
            &["hooks"],
            "poststart",
            json!([sh_hook("poststart", "exit 1")]),
        )
        .set(
            &["hooks"],
            "poststop",
            json!([sh_hook("poststop", "exit 1"), second]),
        );
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    assert_eq!(rt.status(&id), "running");
    rt.kill(&id, Some("KILL")).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    rt.assert_no_residue(&id);
    assert!(
        ran.exists(),
        "the poststop hook after a failing one did not run"
    );
}

#[test]
fn a_relative_hook_path_is_refused() {
    require!(root);
    let rt = Runtime::new();
    let b =
        Bundle::busybox()
            .args(["true"])
            .set(&["hooks"], "poststop", json!([{"path": "bin/true"}]));
    let id = unique_id();
    let out = rt.create(&id, &b, &[]);
    berth_only!("runc 1.1.5 accepts a relative hook path (the spec says MUST be absolute)");
    let out = out.fails();
    rt.assert_no_residue(&id);
    assert!(
        out.stderr.contains("hooks.poststop[0].path"),
        "{}",
        out.stderr
    );
}

#[test]
fn poststart_runs_after_the_process_was_executed() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().args(["sleep", "1000"]);
    let out = b.path().join("exe");
    // What init's pid runs when the hook starts: the runtime, or the process.
    let script = format!(
        "pid=$(sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/'); readlink /proc/$pid/exe > {}",
        out.display()
    );
    let b = b.set(
        &["hooks"],
        "poststart",
        json!([sh_hook("poststart", &script)]),
    );
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    berth_only!("runc 1.1.5 runs poststart during create, before the process exists");
    let exe = fs::read_to_string(&out).unwrap();
    assert_eq!(
        exe.trim(),
        "/bin/busybox",
        "poststart saw init running {exe:?}"
    );
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}
