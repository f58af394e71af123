use std::fs::{create_dir_all, read_to_string, write};

use berth_spec::resources::{Memory, Resources};

use super::*;
use crate::path::{resolve, OwnCgroups};

struct NoBpf;
impl DeviceFilter for NoBpf {
    fn attach(&self, _: &Path, _: &[Insn]) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(1))
    }
}

/// A fake host under `root`: v1 memory, devices and cpuset, plus cgroup2
/// offering hugetlb. Files the kernel would create appear as the test
/// makes them.
fn host(root: &Path) -> (Layout, OwnCgroups) {
    let info = format!(
        "1 0 0:1 / {r}/memory rw - cgroup cgroup rw,memory\n\
         2 0 0:2 / {r}/devices rw - cgroup cgroup rw,devices\n\
         3 0 0:3 / {r}/cpuset rw - cgroup cgroup rw,cpuset\n\
         4 0 0:4 / {r}/unified rw - cgroup2 cgroup2 rw\n",
        r = root.display()
    );
    for d in ["memory/me", "devices", "cpuset", "unified"] {
        create_dir_all(root.join(d)).unwrap();
    }
    write(root.join("cpuset/cpuset.cpus"), "0-1").unwrap();
    write(root.join("cpuset/cpuset.mems"), "0").unwrap();
    write(root.join("unified/cgroup.controllers"), "hugetlb").unwrap();
    write(root.join("unified/cgroup.subtree_control"), "").unwrap();
    let own = OwnCgroups::parse("3:memory:/me\n2:devices:/\n1:cpuset:/\n0::/\n");
    (Layout::parse(&info), own)
}

fn manager(root: &Path) -> Manager {
    let (layout, own) = host(root);
    let dirs = resolve(&layout, &own, Some("c1"), "id").unwrap();
    Manager::new(layout, dirs)
}

#[test]
fn hybrid_writes_land_in_their_hierarchies() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let m = manager(root);
    // Files the kernel would provide in the new cgroups.
    let mem = root.join("memory/me/c1");
    create_dir_all(&mem).unwrap();
    for f in ["memory.limit_in_bytes", "cgroup.procs"] {
        write(mem.join(f), "").unwrap();
    }
    create_dir_all(root.join("devices/c1")).unwrap();
    for f in ["devices.allow", "devices.deny", "cgroup.procs"] {
        write(root.join("devices/c1").join(f), "").unwrap();
    }
    create_dir_all(root.join("cpuset/c1")).unwrap();
    write(root.join("cpuset/c1/cpuset.cpus"), "").unwrap();
    write(root.join("cpuset/c1/cpuset.mems"), "").unwrap();
    let r = Resources {
        memory: Memory {
            limit: Some(4096),
            ..Memory::default()
        },
        ..Resources::default()
    };
    m.create(&r, &resources::default_rules(), 0, &NoBpf)
        .unwrap();
    assert_eq!(
        read_to_string(mem.join("memory.limit_in_bytes")).unwrap(),
        "4096"
    );
    // One fd takes every rule (a plain file appends them; the kernel
    // takes each write as one rule): runc's default allow-list, in order.
    let allow = read_to_string(root.join("devices/c1/devices.allow")).unwrap();
    assert_eq!(
        allow,
        "c *:* mb *:* mc 1:3 rwmc 1:8 rwmc 1:7 rwmc 5:0 rwmc 1:5 rwmc 1:9 rwmc 5:1 rwmc 5:2 rwmc 136:* rwm"
    );
    // Only what the resources need is enabled in v2.
    let sub = read_to_string(root.join("unified/cgroup.subtree_control")).unwrap();
    assert_eq!(sub, "");
    m.add_pid(42).unwrap_or_default();
    assert_eq!(read_to_string(mem.join("cgroup.procs")).unwrap(), "42");
}

#[test]
fn a_new_cpuset_cgroup_inherits_its_parents_cpus() {
    let tmp = tempfile::tempdir().unwrap();
    let (layout, own) = host(tmp.path());
    let dirs = resolve(&layout, &own, Some("c2"), "id").unwrap();
    // Stand in for the kernel: mkdir_all, then the empty files appear.
    let made = fs::mkdir_all(&dirs.v1[2].1).unwrap();
    for d in &made {
        write(d.join("cpuset.cpus"), "").unwrap();
        write(d.join("cpuset.mems"), "").unwrap();
        inherit_cpuset(d).unwrap();
    }
    let cpus = read_to_string(tmp.path().join("cpuset/c2/cpuset.cpus")).unwrap();
    assert_eq!(cpus, "0-1");
}

#[test]
fn missing_controller_is_refused_before_anything_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let m = manager(tmp.path());
    let r = Resources {
        pids_limit: Some(5),
        ..Resources::default()
    };
    let e = m.create(&r, &[], 0, &NoBpf).unwrap_err().to_string();
    assert_eq!(
        e,
        "linux.resources.pids: the host has no pids cgroup controller"
    );
    assert!(!tmp.path().join("memory/me/c1").exists());
}

#[test]
fn hugetlb_goes_through_v2_and_enables_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let m = manager(root);
    let r = Resources {
        hugepage_limits: vec![berth_spec::resources::HugepageLimit {
            page_size: "2MB".into(),
            limit: 2 << 20,
        }],
        ..Resources::default()
    };
    assert_eq!(
        m.locate("hugetlb").unwrap(),
        (root.join("unified/c1").as_path(), Version::V2)
    );
    assert_eq!(m.v2_controllers(&r).unwrap(), ["hugetlb"]);
    enable_controllers(
        &root.join("unified"),
        &root.join("unified/c1"),
        &["hugetlb".into()],
    )
    .unwrap();
    let sub = read_to_string(root.join("unified/cgroup.subtree_control")).unwrap();
    assert_eq!(sub, "+hugetlb");
    create_dir_all(root.join("unified/c1")).unwrap();
    write(root.join("unified/c1/hugetlb.2MB.max"), "").unwrap();
    write(root.join("unified/c1/hugetlb.2MB.rsvd.max"), "").unwrap();
    m.apply(&r).unwrap();
    let rsvd = read_to_string(root.join("unified/c1/hugetlb.2MB.rsvd.max")).unwrap();
    assert_eq!(rsvd, "2097152");
}

#[test]
fn unified_keys_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let m = manager(tmp.path());
    create_dir_all(tmp.path().join("unified/c1")).unwrap();
    let mut r = Resources::default();
    r.unified.insert("hugetlb.bogus".into(), "1".into());
    let e = m.apply(&r).unwrap_err().to_string();
    assert!(
        e.starts_with("linux.resources.unified.hugetlb.bogus: unknown"),
        "{e}"
    );
    let mut r = Resources::default();
    r.unified.insert("memory.max".into(), "1".into());
    let e = m.apply(&r).unwrap_err().to_string();
    assert_eq!(
        e,
        "linux.resources.unified.memory.max: this host's cgroup v2 hierarchy has no memory controller"
    );
}

#[test]
fn devices_on_pure_v2_use_the_filter() {
    let tmp = tempfile::tempdir().unwrap();
    let info = format!(
        "4 0 0:4 / {} rw - cgroup2 cgroup2 rw\n",
        tmp.path().display()
    );
    write(tmp.path().join("cgroup.controllers"), "").unwrap();
    let layout = Layout::parse(&info);
    let dirs = resolve(&layout, &OwnCgroups::parse("0::/\n"), Some("c"), "id").unwrap();
    let m = Manager::new(layout, dirs);
    let e = m
        .create(&Resources::default(), &[], 0, &NoBpf)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("c: write \"BPF_PROG_TYPE_CGROUP_DEVICE"),
        "{e}"
    );
    m.destroy().unwrap();
    assert!(!tmp.path().join("c").exists());
}

#[test]
fn remove_if_unused_takes_only_a_cgroup_with_nothing_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let m = manager(tmp.path());
    // The directory that lists the processes: the first v1 one here.
    let first = m.dirs().v1[0].1.clone();
    let second = m.dirs().v1[1].1.clone();
    create_dir_all(first.join("sub")).unwrap();
    create_dir_all(&second).unwrap();
    // Something below it (a regular file system refuses like cgroupfs).
    assert!(!m.remove_if_unused());
    assert!(first.is_dir());
    std::fs::remove_dir(first.join("sub")).unwrap();
    assert!(m.remove_if_unused());
    assert!(!first.exists());
    // Gone already is unused too; the other hierarchies are untouched.
    assert!(m.remove_if_unused());
    assert!(second.is_dir());
    assert!(m.pids().unwrap().is_empty());
}
