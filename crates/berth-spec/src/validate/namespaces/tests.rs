use std::path::PathBuf;

use serde_json::{json, Value};

use crate::plan::{Clock, IdMap, Namespace, NsKind, TimeOffset};
use crate::validate::testutil::{err, invalid, minimal, plan, with_namespaces};

#[test]
fn namespaces_keep_config_order() {
    let c = with_namespaces(json!([
        {"type": "pid"},
        {"type": "network", "path": "/proc/1/ns/net"},
        {"type": "mount"},
        {"type": "cgroup", "path": ""}
    ]));
    let p = plan(&c);
    assert_eq!(
        p.namespaces,
        [
            Namespace {
                kind: NsKind::Pid,
                join: None
            },
            Namespace {
                kind: NsKind::Network,
                join: Some(PathBuf::from("/proc/1/ns/net"))
            },
            Namespace {
                kind: NsKind::Mount,
                join: None
            },
            Namespace {
                kind: NsKind::Cgroup,
                join: None
            },
        ]
    );
    assert!(p.creates(NsKind::Pid) && !p.creates(NsKind::Network));
}

#[test]
fn duplicate_namespace_is_rejected() {
    let c = with_namespaces(json!([
        {"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "pid"}
    ]));
    assert_eq!(
        invalid(&c),
        err("linux.namespaces[4].type", "duplicate namespace \"pid\"")
    );
}

#[test]
fn join_path_must_be_absolute() {
    let c = with_namespaces(json!([{"type": "mount"}, {"type": "net", "path": "ns/net"}]));
    // "net" is not a runtime-spec name: the parser refuses it first.
    assert!(crate::validate::testutil::Bundle::new()
        .try_load(&c)
        .is_err());
    let c = with_namespaces(json!([{"type": "mount"}, {"type": "network", "path": "ns/net"}]));
    assert_eq!(
        invalid(&c),
        err(
            "linux.namespaces[1].path",
            "must be an absolute path, got \"ns/net\""
        )
    );
}

#[test]
fn no_mount_namespace_is_allowed() {
    // The container then shares the runtime's mount namespace (runtime-tools
    // `linux_ns_itype`); the runtime chroots and cleans its mounts at delete.
    let p = plan(&with_namespaces(json!([{"type": "pid"}])));
    assert!(p.namespace(NsKind::Mount).is_none());
    let mut c = minimal();
    c.as_object_mut().unwrap().remove("linux");
    assert!(plan(&c).namespaces.is_empty());
    let joined = with_namespaces(json!([{"type": "mount", "path": "/proc/1/ns/mnt"}]));
    assert!(plan(&joined).namespace(NsKind::Mount).is_some());
}

#[test]
fn hostname_needs_uts() {
    let mut c = minimal();
    c["hostname"] = json!("box");
    assert_eq!(invalid(&c), err("hostname", "requires a uts namespace"));
    c["hostname"] = json!("");
    assert_eq!(plan(&c).hostname, None);
    c["domainname"] = json!("example.org");
    assert_eq!(invalid(&c), err("domainname", "requires a uts namespace"));
    c["linux"]["namespaces"] =
        json!([{"type": "mount"}, {"type": "uts", "path": "/proc/1/ns/uts"}]);
    c["hostname"] = json!("box");
    let p = plan(&c);
    assert_eq!(p.hostname.as_deref(), Some("box"));
    assert_eq!(p.domainname.as_deref(), Some("example.org"));
    c["hostname"] = json!("x".repeat(65));
    assert_eq!(
        invalid(&c),
        err("hostname", "is 65 bytes long; the kernel allows 64")
    );
}

fn userns(uid: Value, gid: Value) -> Value {
    let mut c = with_namespaces(json!([{"type": "user"}, {"type": "mount"}]));
    c["linux"]["uidMappings"] = uid;
    c["linux"]["gidMappings"] = gid;
    c
}

fn map(container: u32, host: u32, size: u32) -> Value {
    json!({"containerID": container, "hostID": host, "size": size})
}

#[test]
fn new_userns_takes_mappings() {
    let p = plan(&userns(
        json!([map(0, 100000, 65536)]),
        json!([map(0, 200000, 1000)]),
    ));
    let id = |c, h, s| IdMap {
        container_id: c,
        host_id: h,
        size: s,
    };
    assert_eq!(p.uid_mappings, [id(0, 100000, 65536)]);
    assert_eq!(p.gid_mappings, [id(0, 200000, 1000)]);
}

#[test]
fn new_userns_requires_mappings() {
    assert_eq!(
        invalid(&userns(json!([]), json!([map(0, 1, 1)]))),
        err("linux.uidMappings", "required for a new user namespace")
    );
    assert_eq!(
        invalid(&userns(json!([map(0, 1, 1)]), Value::Null)),
        err("linux.gidMappings", "required for a new user namespace")
    );
}

#[test]
fn mappings_require_userns() {
    let mut c = minimal();
    c["linux"]["gidMappings"] = json!([map(0, 1000, 1)]);
    assert_eq!(
        invalid(&c),
        err("linux.gidMappings", "requires a user namespace")
    );
    c["linux"]["uidMappings"] = json!([map(0, 1000, 1)]);
    assert_eq!(
        invalid(&c),
        err("linux.uidMappings", "requires a user namespace")
    );
}

#[test]
fn joined_userns_refuses_mappings() {
    let mut c = userns(json!([map(0, 1000, 1)]), json!([map(0, 1000, 1)]));
    c["linux"]["namespaces"][0]["path"] = json!("/proc/1/ns/user");
    assert_eq!(
        invalid(&c),
        err(
            "linux.uidMappings",
            "must be empty when joining a user namespace"
        )
    );
    c["linux"]["uidMappings"] = json!([]);
    c["linux"]["gidMappings"] = json!([]);
    let p = plan(&c);
    assert!(p.uid_mappings.is_empty() && !p.creates(NsKind::User));
}

#[test]
fn zero_size_is_rejected() {
    let c = userns(
        json!([map(0, 1000, 1), map(1, 5000, 0)]),
        json!([map(0, 1000, 1)]),
    );
    assert_eq!(
        invalid(&c),
        err("linux.uidMappings[1].size", "must not be zero")
    );
}

#[test]
fn overflowing_range_is_rejected() {
    let c = userns(json!([map(0, 4294967295, 1)]), json!([map(0, 1000, 1)]));
    assert_eq!(
        invalid(&c),
        err("linux.uidMappings[0].size", "range goes past 4294967294")
    );
}

#[test]
fn too_many_entries_are_rejected() {
    let maps: Vec<Value> = (0..341).map(|i| map(i, 100000 + i, 1)).collect();
    let c = userns(json!([map(0, 1, 1)]), json!(maps));
    assert_eq!(
        invalid(&c),
        err(
            "linux.gidMappings",
            "has 341 entries; the kernel allows at most 340"
        )
    );
    let maps: Vec<Value> = (0..340).map(|i| map(i, 100000 + i, 1)).collect();
    assert_eq!(
        plan(&userns(json!([map(0, 1, 1)]), json!(maps)))
            .gid_mappings
            .len(),
        340
    );
}

#[test]
fn overlapping_ranges_are_rejected() {
    // Container side overlaps.
    let c = userns(
        json!([map(0, 1000, 10), map(5, 2000, 10)]),
        json!([map(0, 1, 1)]),
    );
    assert_eq!(
        invalid(&c),
        err("linux.uidMappings[1]", "overlaps linux.uidMappings[0]")
    );
    // Host side overlaps.
    let c = userns(
        json!([map(0, 1000, 10), map(100, 1009, 1)]),
        json!([map(0, 1, 1)]),
    );
    assert_eq!(
        invalid(&c),
        err("linux.uidMappings[1]", "overlaps linux.uidMappings[0]")
    );
    // Adjacent is fine.
    let c = userns(
        json!([map(0, 1000, 10), map(10, 1010, 10)]),
        json!([map(0, 1, 1)]),
    );
    assert_eq!(plan(&c).uid_mappings.len(), 2);
}

#[test]
fn process_ids_must_be_mapped() {
    let mut c = userns(json!([map(0, 100000, 1000)]), json!([map(0, 100000, 1000)]));
    c["process"]["user"] = json!({"uid": 1000, "gid": 0});
    assert_eq!(
        invalid(&c),
        err(
            "process.user.uid",
            "1000 is not mapped by linux.uidMappings"
        )
    );
    c["process"]["user"] = json!({"uid": 999, "gid": 1000});
    assert_eq!(
        invalid(&c),
        err(
            "process.user.gid",
            "1000 is not mapped by linux.gidMappings"
        )
    );
    c["process"]["user"] = json!({"uid": 0, "gid": 0, "additionalGids": [5, 4000]});
    assert_eq!(
        invalid(&c),
        err(
            "process.user.additionalGids[1]",
            "4000 is not mapped by linux.gidMappings"
        )
    );
}

fn timens(offsets: Value) -> Value {
    let mut c = with_namespaces(json!([{"type": "mount"}, {"type": "time"}]));
    c["linux"]["timeOffsets"] = offsets;
    c
}

#[test]
fn time_offsets_are_sorted_by_clock() {
    let p = plan(&timens(json!({
        "monotonic": {"secs": 10, "nanosecs": 5},
        "boottime": {"secs": -3}
    })));
    assert_eq!(
        p.time_offsets,
        [
            TimeOffset {
                clock: Clock::Boottime,
                secs: -3,
                nanosecs: 0
            },
            TimeOffset {
                clock: Clock::Monotonic,
                secs: 10,
                nanosecs: 5
            },
        ]
    );
}

#[test]
fn time_offsets_need_a_new_time_namespace() {
    let mut c = minimal();
    c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 1}});
    assert_eq!(
        invalid(&c),
        err("linux.timeOffsets", "requires a new time namespace")
    );
    let mut c = timens(json!({"monotonic": {"secs": 1}}));
    c["linux"]["namespaces"][1]["path"] = json!("/proc/1/ns/time");
    assert_eq!(
        invalid(&c),
        err("linux.timeOffsets", "requires a new time namespace")
    );
}

#[test]
fn time_offsets_check_clock_and_nanosecs() {
    assert_eq!(
        invalid(&timens(json!({"realtime": {"secs": 1}}))),
        err(
            "linux.timeOffsets.realtime",
            "unknown clock \"realtime\" (monotonic or boottime)"
        )
    );
    assert_eq!(
        invalid(&timens(json!({"boottime": {"nanosecs": 1000000000}}))),
        err(
            "linux.timeOffsets.boottime.nanosecs",
            "must be below 1000000000"
        )
    );
}
