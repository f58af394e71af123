use std::path::PathBuf;

use libc::{MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC};
use serde_json::{json, Value};

use crate::plan::{Mount, MountKind};
use crate::validate::testutil::{err, invalid, minimal, plan, s, Bundle};

fn with_mounts(mounts: Value) -> Value {
    let mut c = minimal();
    c["mounts"] = mounts;
    c
}

#[test]
fn filesystem_mount() {
    let p = plan(&with_mounts(json!([{
        "destination": "/dev//shm/.",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k", "rprivate"]
    }])));
    assert_eq!(
        p.mounts,
        [Mount {
            destination: PathBuf::from("/dev/shm"),
            kind: MountKind::Filesystem {
                fstype: "tmpfs".into(),
                source: "shm".into()
            },
            flags: MS_NOSUID | MS_NOEXEC | MS_NODEV,
            propagation: vec![MS_PRIVATE | MS_REC],
            data: "mode=1777,size=65536k".into(),
            recursive_attrs: Default::default(),
        }]
    );
}

#[test]
fn source_defaults_to_type() {
    let p = plan(&with_mounts(
        json!([{"destination": "/proc", "type": "proc"}]),
    ));
    assert_eq!(
        p.mounts[0].kind,
        MountKind::Filesystem {
            fstype: "proc".into(),
            source: "proc".into()
        }
    );
}

#[test]
fn type_is_required_unless_bind() {
    let c = with_mounts(
        json!([{"destination": "/proc", "type": "proc"}, {"destination": "/x", "source": "x"}]),
    );
    assert_eq!(invalid(&c), err("mounts[1].type", "required"));
}

#[test]
fn destination_must_be_absolute_without_dotdot() {
    let c = with_mounts(json!([{"destination": "proc", "type": "proc"}]));
    assert_eq!(
        invalid(&c),
        err(
            "mounts[0].destination",
            "must be an absolute path, got \"proc\""
        )
    );
    let c = with_mounts(json!([{"destination": "/a/../etc", "type": "tmpfs"}]));
    assert_eq!(
        invalid(&c),
        err(
            "mounts[0].destination",
            "must not contain \"..\", got \"/a/../etc\""
        )
    );
}

#[test]
fn bind_sources_resolve_against_the_bundle() {
    let b = Bundle::new();
    let file = b.touch("hosts");
    let dir = b.touch("data/");
    let c = with_mounts(json!([
        {"destination": "/etc/hosts", "source": "hosts", "options": ["bind", "ro"]},
        {"destination": "/data", "type": "none", "source": s(&dir), "options": ["rbind", "nosuid"]},
        {"destination": "/data2", "type": "bind", "source": "./data"}
    ]));
    let m = b.plan(&c).mounts;
    assert_eq!(
        m[0].kind,
        MountKind::Bind {
            source: file,
            recursive: false
        }
    );
    assert_eq!(m[0].flags, MS_RDONLY);
    assert_eq!(
        m[1].kind,
        MountKind::Bind {
            source: dir,
            recursive: true
        }
    );
    assert_eq!(m[1].flags, MS_NOSUID);
    assert_eq!(
        m[2].kind,
        MountKind::Bind {
            source: b.path().join("./data"),
            recursive: false
        }
    );
}

#[test]
fn bind_source_must_exist() {
    let b = Bundle::new();
    let c = with_mounts(json!([{"destination": "/x", "source": "missing", "options": ["bind"]}]));
    assert_eq!(
        b.invalid(&c),
        err(
            "mounts[0].source",
            &format!("{}/missing: No such file or directory", b.path().display())
        )
    );
    let c = with_mounts(json!([{"destination": "/x", "type": "bind"}]));
    assert_eq!(
        b.invalid(&c),
        err("mounts[0].source", "required for a bind mount")
    );
}

#[test]
fn bind_source_under_an_earlier_mount_is_checked_later() {
    let b = Bundle::new();
    let c = with_mounts(json!([
        {"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/y", "source": "rootfs/mnt/x", "options": ["bind"]},
    ]));
    let p = b.plan(&c);
    assert!(
        matches!(&p.mounts[1].kind, MountKind::Bind { source, .. } if source.ends_with("rootfs/mnt/x"))
    );
    // Not under an earlier mount, or climbing out with `..`: checked now.
    for src in ["rootfs/opt/x", "rootfs/mnt/../opt/x"] {
        let c = with_mounts(json!([
            {"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/y", "source": src, "options": ["bind"]},
        ]));
        assert_eq!(b.invalid(&c).0, "mounts[1].source", "{src}");
    }
}

#[test]
fn bind_drops_filesystem_options_with_a_warning() {
    let b = Bundle::new();
    b.touch("d/");
    let c = with_mounts(
        json!([{"destination": "/x", "source": "d", "options": ["rbind", "mode=755", "size=1k"]}]),
    );
    let loaded = b.load(&c);
    assert_eq!(loaded.plan.mounts[0].data, "");
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["mounts[0].options: mode=755,size=1k ignored: a bind mount takes no filesystem options"]
    );
}

#[test]
fn idmapped_mounts_are_refused() {
    let b = Bundle::new();
    b.touch("d/");
    let map = json!([{"containerID": 0, "hostID": 1000, "size": 1}]);
    let c = with_mounts(
        json!([{"destination": "/x", "source": "d", "options": ["bind"], "uidMappings": map, "gidMappings": map}]),
    );
    assert_eq!(
        b.invalid(&c),
        err(
            "mounts[0].uidMappings",
            "idmapped mounts are not supported yet"
        )
    );
}

#[test]
fn setup_dev_unless_dev_is_bound() {
    let b = Bundle::new();
    let tmpfs = with_mounts(json!([{"destination": "/dev", "type": "tmpfs"}]));
    assert!(b.plan(&tmpfs).setup_dev);
    b.touch("dev/");
    let bound =
        with_mounts(json!([{"destination": "/dev/", "source": "dev", "options": ["rbind"]}]));
    assert!(!b.plan(&bound).setup_dev);
    let sub =
        with_mounts(json!([{"destination": "/dev/x", "source": "dev", "options": ["rbind"]}]));
    assert!(b.plan(&sub).setup_dev);
}
