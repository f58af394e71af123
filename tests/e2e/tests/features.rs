//! `features` (runtime-spec features.md): every claim the runtime makes is
//! checked here with a real container, and what it says it lacks is
//! refused.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;

use berth_test_harness::parse::{cap_field, cap_mask, expect_mount, mountinfo, CAPABILITIES};
use berth_test_harness::{berth_only, cgroup, json, require, unique_id, Bundle, Runtime};
use serde_json::Value;

fn features(rt: &Runtime) -> Value {
    let out = rt.cmd(&["features"]).ok();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("features: {e}\n{}", out.stdout))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn features_prints_the_spec_fields() {
    require!(root);
    let rt = Runtime::new();
    let f = features(&rt);
    for key in ["ociVersionMin", "ociVersionMax"] {
        assert!(
            f[key].as_str().is_some_and(|v| v.starts_with("1.")),
            "{key}: {f}"
        );
    }
    assert!(!strings(&f["hooks"]).is_empty(), "{f}");
    assert!(!strings(&f["mountOptions"]).is_empty(), "{f}");
    assert!(!strings(&f["linux"]["namespaces"]).is_empty(), "{f}");
    berth_only!("runc 1.1.5 reports spec 1.0.2-dev and no annotations of berth's");
    assert_eq!(f["ociVersionMax"], "1.2.1", "{f}");
    assert!(
        f["annotations"]["io.github.seccomp.libseccomp.version"].is_string(),
        "{f}"
    );
}

#[test]
fn every_listed_namespace_is_created() {
    require!(root);
    let rt = Runtime::new();
    let listed = strings(&features(&rt)["linux"]["namespaces"]);
    let names: Vec<&str> = listed.iter().map(String::as_str).collect();
    let mut b = Bundle::busybox().args(["sleep", "1000"]).namespaces(&names);
    if names.contains(&"user") {
        b = b.userns(&[(0, 100_000, 65536)], &[(0, 200_000, 65536)]);
    }
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    for ns in &listed {
        let file = match ns.as_str() {
            "network" => "net",
            "mount" => "mnt",
            other => other,
        };
        let host = fs::read_link(format!("/proc/self/ns/{file}")).unwrap();
        let ctr = fs::read_link(format!("/proc/{pid}/ns/{file}")).unwrap();
        assert_ne!(host, ctr, "listed namespace {ns} was not created");
    }
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn every_listed_hook_kind_runs() {
    require!(root);
    let rt = Runtime::new();
    let kinds = strings(&features(&rt)["hooks"]);
    let b = Bundle::busybox().args(["true"]).readonly(false);
    let mut hooks = serde_json::Map::new();
    for kind in &kinds {
        // startContainer runs inside the container: its marker lands in
        // the rootfs either way.
        let dir = if kind == "startContainer" {
            "/".to_string()
        } else {
            format!("{}/", b.rootfs().display())
        };
        let script = format!("/bin/touch {dir}hook-{kind}");
        hooks.insert(
            kind.clone(),
            json!([{"path": "/bin/sh", "args": ["sh", "-c", script]}]),
        );
    }
    let b = b.set(&[], "hooks", Value::Object(hooks));
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id, false).ok();
    for kind in &kinds {
        assert!(
            b.rootfs().join(format!("hook-{kind}")).exists(),
            "listed hook kind {kind} did not run"
        );
    }
    rt.assert_no_residue(&id);
}

#[test]
fn every_listed_mount_option_is_accepted() {
    require!(root);
    let rt = Runtime::new();
    let listed = strings(&features(&rt)["mountOptions"]);
    berth_only!("runc 1.1.5 lists options (rro, idmap…) this kernel or a tmpfs refuses");
    let mut b = Bundle::busybox().sh("cat /proc/self/mountinfo");
    let src = b.path().join("bindsrc");
    fs::create_dir(&src).unwrap();
    let mut expect_ro = Vec::new();
    for (i, opt) in listed.iter().enumerate() {
        let dst = format!("/tmp/opt{i}");
        b = match opt.as_str() {
            "bind" | "rbind" => b.mount(&dst, "bind", src.to_str().unwrap(), &[opt]),
            // A remount changes a mount that exists: the entry before it.
            "remount" => b.mount(&dst, "tmpfs", "tmpfs", &[]).mount(
                &dst,
                "tmpfs",
                "tmpfs",
                &["remount", "ro"],
            ),
            _ => b.mount(&dst, "tmpfs", "tmpfs", &[opt]),
        };
        if opt == "ro" || opt == "remount" {
            expect_ro.push(dst);
        }
    }
    let out = rt.run_ok(&b);
    let mounts = mountinfo(&out);
    for dst in expect_ro {
        assert!(
            expect_mount(&mounts, &dst).has_option("ro"),
            "{dst}:\n{out}"
        );
    }
}

/// A profile using every listed action (each on a syscall busybox `true`
/// never makes), every listed operator, every listed architecture and every
/// supported flag.
fn seccomp_profile(f: &Value) -> Value {
    let s = &f["linux"]["seccomp"];
    let unused = [
        "acct",
        "swapon",
        "swapoff",
        "kexec_load",
        "init_module",
        "delete_module",
        "syslog",
        "settimeofday",
        "quotactl",
        "vhangup",
        "lookup_dcookie",
        "nfsservctl",
    ];
    let mut rules = Vec::new();
    let mut spare = unused.iter();
    for action in strings(&s["actions"]) {
        // SCMP_ACT_NOTIFY needs a listener: seccomp_notify.rs tests it.
        if action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_NOTIFY" {
            continue;
        }
        let name = spare.next().expect("enough unused syscalls");
        rules.push(json!({"names": [name], "action": action}));
    }
    let name = spare.next().expect("an unused syscall for operators");
    for op in strings(&s["operators"]) {
        let arg = json!({"index": 0, "value": 1, "valueTwo": 1, "op": op});
        rules.push(json!({"names": [name], "action": "SCMP_ACT_ERRNO", "args": [arg]}));
    }
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": s["archs"],
        "flags": s["supportedFlags"],
        "syscalls": rules,
    })
}

#[test]
fn every_listed_seccomp_action_operator_arch_and_flag_is_accepted() {
    require!(root);
    let rt = Runtime::new();
    let f = features(&rt);
    assert_eq!(f["linux"]["seccomp"]["enabled"], true, "{f}");
    berth_only!(
        "runc 1.1.5 lists big-endian archs no filter on this host can add, and \
         SCMP_ACT_NOTIFY, which needs a listener"
    );
    let b = Bundle::busybox()
        .set(&["linux"], "seccomp", seccomp_profile(&f))
        .sh("grep Seccomp: /proc/self/status");
    let out = rt.run_ok(&b);
    assert!(out.contains("Seccomp:\t2"), "{out}");
}

#[test]
fn a_known_but_unsupported_seccomp_flag_is_refused() {
    require!(root);
    let rt = Runtime::new();
    let f = features(&rt);
    let s = &f["linux"]["seccomp"];
    berth_only!("runc 1.1.5 lists no seccomp flags");
    let supported = strings(&s["supportedFlags"]);
    let Some(flag) = strings(&s["knownFlags"])
        .into_iter()
        .find(|k| !supported.contains(k))
    else {
        eprintln!("every known seccomp flag is supported here: nothing to refuse");
        return;
    };
    let b = Bundle::busybox().args(["true"]).set(
        &["linux"],
        "seccomp",
        json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": [flag]}),
    );
    let id = unique_id();
    let out = rt.create(&id, &b, &[]).fails();
    rt.assert_no_residue(&id);
    assert!(
        out.stderr.contains("linux.seccomp.flags[0]"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_listed_capability_in_the_hosts_bounding_set_is_granted() {
    require!(root);
    let rt = Runtime::new();
    let listed = strings(&features(&rt)["linux"]["capabilities"]);
    let own = cap_field(&fs::read_to_string("/proc/self/status").unwrap(), "CapBnd");
    let (usable, missing): (Vec<&str>, Vec<&str>) = listed
        .iter()
        .map(String::as_str)
        .filter(|c| CAPABILITIES.contains(c))
        .partition(|c| own & cap_mask(&[c]) != 0);
    let all = json!({"bounding": usable, "effective": usable, "permitted": usable});
    let b = Bundle::busybox()
        .set(&["process"], "capabilities", all)
        .sh("grep Cap /proc/self/status");
    let out = rt.run_ok(&b);
    assert_eq!(cap_field(&out, "CapBnd"), cap_mask(&usable), "{out}");
    assert_eq!(cap_field(&out, "CapEff"), cap_mask(&usable), "{out}");
    berth_only!("runc 1.1.5 drops a capability missing from its bounding set with a warning");
    // Recognised, but no process berth starts here can have it: refused.
    for cap in missing {
        let set = json!({"bounding": [cap], "effective": [cap], "permitted": [cap]});
        let b = Bundle::busybox()
            .args(["true"])
            .set(&["process"], "capabilities", set);
        let id = unique_id();
        let out = rt.create(&id, &b, &[]).fails();
        rt.assert_no_residue(&id);
        assert!(out.stderr.contains(cap), "{cap}: {}", out.stderr);
    }
}

#[test]
fn what_is_not_claimed_is_refused() {
    require!(root);
    let rt = Runtime::new();
    let f = features(&rt);
    berth_only!("runc 1.1.5 supports idmapped mounts' fields differently");
    assert_eq!(
        f["linux"]["mountExtensions"]["idmap"]["enabled"], false,
        "{f}"
    );
    assert!(!strings(&f["mountOptions"]).contains(&"idmap".to_string()));
    let what = "options[1]: \"idmap\" is not supported";
    let b = Bundle::busybox().mount("/tmp/x", "tmpfs", "tmpfs", &["nosuid", "idmap"]);
    let id = unique_id();
    let out = rt.create(&id, &b.args(["true"]), &[]).fails();
    rt.assert_no_residue(&id);
    assert!(out.stderr.contains(what), "{what}: {}", out.stderr);
    // Refused by berth, so not claimed.
    assert_eq!(f["linux"]["intelRdt"]["enabled"], false, "{f}");
}

/// `linux.cgroup`: the version this host runs is claimed, and a limit is
/// really applied in it; the systemd driver is not claimed and refused.
#[test]
fn the_cgroup_claims_hold() {
    require!(root);
    let rt = Runtime::new();
    let f = features(&rt);
    let cg = &f["linux"]["cgroup"];
    let (version, file) = if cgroup::is_pure_v2() {
        ("v2", "memory.max")
    } else {
        ("v1", "memory.limit_in_bytes")
    };
    assert_eq!(cg[version], true, "{f}");
    let b = Bundle::busybox()
        .set(
            &["linux", "resources"],
            "memory",
            json!({"limit": 64 << 20}),
        )
        .args(["true"]);
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    assert_eq!(cgroup::read(&id, &[file]), (64u64 << 20).to_string());
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    berth_only!("runc claims its systemd driver, which berth does not have");
    assert_eq!(cg["systemd"], false, "{f}");
    let id = unique_id();
    rt.cmd(&[
        "--systemd-cgroup",
        "create",
        "--bundle",
        &b.path().to_string_lossy(),
        &id,
    ])
    .fails();
    rt.assert_no_residue(&id);
}
