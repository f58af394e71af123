//! Rules of `validate/mod.rs`, and whole configs as runc generates them.

use std::path::{Path, PathBuf};
use std::process::Command;

use libc::{
    MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_RELATIME, MS_SLAVE, MS_STRICTATIME,
};
use serde_json::{json, Value};

use super::testutil::{err, invalid, minimal, plan, s, Bundle};
use crate::plan::{CapSet, MountKind, Namespace, NsKind};

#[test]
fn version_is_checked() {
    let mut c = minimal();
    c["ociVersion"] = json!("2.0.0");
    assert_eq!(
        invalid(&c),
        err(
            "ociVersion",
            "unsupported version \"2.0.0\" (berth supports 1.x)"
        )
    );
    c.as_object_mut().unwrap().remove("ociVersion");
    assert_eq!(invalid(&c), err("ociVersion", "required"));
    c["ociVersion"] = json!("1.0.0-rc5");
    assert_eq!(plan(&c).oci_version, "1.0.0-rc5");
}

#[test]
fn root_is_required() {
    let mut c = minimal();
    c.as_object_mut().unwrap().remove("root");
    assert_eq!(invalid(&c), err("root", "required"));
    c["root"] = json!({});
    assert_eq!(invalid(&c), err("root.path", "required"));
}

#[test]
fn root_resolves_against_bundle_and_is_canonical() {
    let b = Bundle::new();
    b.touch("real/");
    std::os::unix::fs::symlink("real", b.path().join("link")).unwrap();
    let mut c = minimal();
    c["root"] = json!({"path": "./link/", "readonly": true});
    let root = b.plan(&c).root;
    assert_eq!(root.path, b.path().join("real"));
    assert!(root.readonly);
    c["root"] = json!({"path": s(&b.path().join("rootfs"))});
    let root = b.plan(&c).root;
    assert_eq!(root.path, b.path().join("rootfs"));
    assert!(!root.readonly);
}

#[test]
fn root_must_be_an_existing_directory() {
    let b = Bundle::new();
    let mut c = minimal();
    c["root"] = json!({"path": "nope"});
    let missing = format!("{}/nope: No such file or directory", b.path().display());
    assert_eq!(b.invalid(&c), err("root.path", &missing));
    b.touch("file");
    c["root"] = json!({"path": "file"});
    let not_dir = format!("{}/file: not a directory", b.path().display());
    assert_eq!(b.invalid(&c), err("root.path", &not_dir));
}

#[test]
fn masked_and_readonly_paths_must_be_absolute() {
    let mut c = minimal();
    c["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc//keys/"]);
    c["linux"]["readonlyPaths"] = json!(["/proc/sys"]);
    let p = plan(&c);
    assert_eq!(
        p.masked_paths,
        [Path::new("/proc/kcore"), Path::new("/proc/keys")]
    );
    assert_eq!(p.readonly_paths, [Path::new("/proc/sys")]);
    c["linux"]["readonlyPaths"] = json!(["/proc/sys", "proc/bus"]);
    assert_eq!(
        invalid(&c),
        err(
            "linux.readonlyPaths[1]",
            "must be an absolute path, got \"proc/bus\""
        )
    );
    c["linux"]["maskedPaths"] = json!(["x"]);
    assert_eq!(
        invalid(&c),
        err(
            "linux.maskedPaths[0]",
            "must be an absolute path, got \"x\""
        )
    );
}

#[test]
fn rootfs_propagation_default_and_error_path() {
    let mut c = minimal();
    assert_eq!(plan(&c).rootfs_propagation, MS_SLAVE | MS_REC);
    c["linux"]["rootfsPropagation"] = json!("rslave");
    assert_eq!(plan(&c).rootfs_propagation, MS_SLAVE | MS_REC);
    c["linux"]["rootfsPropagation"] = json!("slave");
    assert_eq!(plan(&c).rootfs_propagation, MS_SLAVE);
    c["linux"]["rootfsPropagation"] = json!("up");
    assert_eq!(
        invalid(&c),
        err("linux.rootfsPropagation", "unknown propagation \"up\"")
    );
}

#[test]
fn annotations_and_cgroups_path_are_copied() {
    let mut c = minimal();
    c["annotations"] = json!({"org.example.b": "2", "org.example.a": ""});
    c["linux"]["cgroupsPath"] = json!("system.slice:berth:abc");
    let p = plan(&c);
    assert_eq!(p.annotations.len(), 2);
    assert_eq!(p.annotations["org.example.a"], "");
    assert_eq!(p.cgroups_path.as_deref(), Some("system.slice:berth:abc"));
    assert_eq!(plan(&minimal()).cgroups_path, None);
}

/// `runc spec` (1.1.5) output, kept so the test runs where runc is absent.
const RUNC_SPEC: &str = include_str!("testdata/runc-spec.json");

/// The config `runc spec` writes, fresh when runc is installed.
fn runc_spec(b: &Bundle, rootless: bool) -> Value {
    let mut cmd = Command::new("runc");
    cmd.arg("spec").current_dir(b.path());
    if rootless {
        cmd.arg("--rootless");
    }
    match cmd.status() {
        Ok(st) if st.success() => {
            let text = std::fs::read_to_string(b.path().join("config.json")).unwrap();
            serde_json::from_str(&text).unwrap()
        }
        _ if !rootless => serde_json::from_str(RUNC_SPEC).unwrap(),
        _ => Value::Null,
    }
}

#[test]
fn runc_spec_loads() {
    let b = Bundle::new();
    for cfg in [
        runc_spec(&b, false),
        serde_json::from_str(RUNC_SPEC).unwrap(),
    ] {
        let loaded = b.load(&cfg);
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert!(warnings.is_empty(), "{warnings:?}");
        let p = loaded.plan;
        assert_eq!(p.bundle, b.path());
        assert_eq!(p.root.path, b.path().join("rootfs"));
        assert!(p.root.readonly);
        assert_eq!(p.process.args, ["sh"]);
        assert!(p.process.terminal && p.process.no_new_privileges);
        assert_eq!(p.hostname.as_deref(), Some("runc"));
        let kinds: Vec<NsKind> = p.namespaces.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            [
                NsKind::Pid,
                NsKind::Network,
                NsKind::Ipc,
                NsKind::Uts,
                NsKind::Mount
            ]
        );
        assert!(p.namespaces.iter().all(|n| n.join.is_none()));
        // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
        let three = CapSet(1 << 29 | 1 << 5 | 1 << 10);
        let caps = p.process.capabilities;
        assert_eq!(
            (caps.bounding, caps.effective, caps.permitted, caps.ambient),
            (three, three, three, three)
        );
        assert_eq!(caps.inheritable, CapSet(0));
        assert_eq!(p.process.rlimits[0].name, "RLIMIT_NOFILE");
        assert_eq!(
            (p.process.rlimits[0].soft, p.process.rlimits[0].hard),
            (1024, 1024)
        );
        check_runc_mounts(&p);
        assert_eq!(p.devices.len(), 6);
        assert!(p.setup_dev);
        assert_eq!(p.masked_paths.len(), 10);
        assert_eq!(p.readonly_paths.len(), 5);
        assert_eq!(p.rootfs_propagation, MS_SLAVE | MS_REC);
    }
}

fn check_runc_mounts(p: &crate::Plan) {
    let dests: Vec<&str> = p
        .mounts
        .iter()
        .map(|m| m.destination.to_str().unwrap())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/sys",
            "/sys/fs/cgroup"
        ]
    );
    let flags: Vec<u64> = p.mounts.iter().map(|m| m.flags).collect();
    let ro_sys = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY;
    assert_eq!(
        flags,
        [
            0,
            MS_NOSUID | MS_STRICTATIME,
            MS_NOSUID | MS_NOEXEC,
            MS_NOSUID | MS_NOEXEC | MS_NODEV,
            MS_NOSUID | MS_NOEXEC | MS_NODEV,
            ro_sys,
            ro_sys | MS_RELATIME,
        ]
    );
    assert_eq!(p.mounts[1].data, "mode=755,size=65536k");
    assert_eq!(
        p.mounts[2].data,
        "newinstance,ptmxmode=0666,mode=0620,gid=5"
    );
    assert_eq!(
        p.mounts[6].kind,
        MountKind::Filesystem {
            fstype: "cgroup".into(),
            source: "cgroup".into()
        }
    );
}

#[test]
fn runc_rootless_spec_loads() {
    let b = Bundle::new();
    let cfg = runc_spec(&b, true);
    if cfg.is_null() {
        eprintln!("SKIP: runc not installed");
        return;
    }
    let p = b.load(&cfg).plan;
    assert!(p.creates(NsKind::User));
    assert!(p.namespace(NsKind::Network).is_none());
    assert_eq!(p.uid_mappings.len(), 1);
    assert_eq!(p.uid_mappings[0].container_id, 0);
    let sys = p
        .mounts
        .iter()
        .find(|m| m.destination == Path::new("/sys"))
        .unwrap();
    assert_eq!(
        sys.kind,
        MountKind::Bind {
            source: PathBuf::from("/sys"),
            recursive: true
        }
    );
    assert_eq!(sys.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
    assert_eq!(
        p.namespaces[0],
        Namespace {
            kind: NsKind::Pid,
            join: None
        }
    );
}
