//! Namespaces: new ones differ from the host's, joined ones are the ones
//! named, and what lives in them (pid 1, hostname, loopback, id maps).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::process::{Command, Stdio};

use berth_test_harness::parse::expect_status_field;
use berth_test_harness::{berth_only, require, unique_id, Bundle, Runtime};

/// `/proc/self/ns/*` kinds and the `linux.namespaces` type creating each.
const KINDS: [(&str, &str); 6] = [
    ("pid", "pid"),
    ("net", "network"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("mnt", "mount"),
    ("cgroup", "cgroup"),
];

fn host_ns(kind: &str) -> String {
    let link = fs::read_link(format!("/proc/self/ns/{kind}")).expect("read host ns link");
    link.to_string_lossy().into_owned()
}

/// Runs `readlink /proc/self/ns/<kind>` for every kind inside the container.
fn container_ns(rt: &Runtime, b: Bundle, kinds: &[&str]) -> BTreeMap<String, String> {
    let script: String = kinds
        .iter()
        .map(|k| format!("echo {k}=$(readlink /proc/self/ns/{k}); "))
        .collect();
    let out = rt.run_ok(&b.sh(&script));
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn pid_namespace_makes_the_process_pid_1() {
    require!(root);
    let rt = Runtime::new();
    let out = rt.run_ok(&Bundle::busybox().sh("echo $$; ps -o pid,comm; exit 0"));
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"), "{out}");
    // ps sees only the container: its shell as 1 and ps itself.
    let pids: Vec<&str> = lines
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(pids.len(), 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["1", "sh"]),
        "{out}"
    );
}

#[test]
fn new_namespaces_differ_from_the_host() {
    require!(root, cgroupns);
    let rt = Runtime::new();
    let types: Vec<&str> = KINDS.iter().map(|(_, t)| *t).collect();
    let b = Bundle::busybox().namespaces(&types);
    let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
    let inside = container_ns(&rt, b, &kinds);
    for kind in kinds {
        let ns = inside
            .get(kind)
            .unwrap_or_else(|| panic!("no {kind} in {inside:?}"));
        assert!(ns.starts_with(&format!("{kind}:[")), "{kind}: {ns}");
        assert_ne!(*ns, host_ns(kind), "{kind} namespace is the host's");
    }
}

#[test]
fn namespaces_not_listed_are_shared_with_the_host() {
    require!(root);
    let rt = Runtime::new();
    // Only pid and mount are new; net, ipc, uts, cgroup stay the host's.
    let b = Bundle::busybox()
        .namespaces(&["pid", "mount"])
        .unset(&[], "hostname");
    let inside = container_ns(&rt, b, &["pid", "mnt", "net", "ipc", "uts", "cgroup"]);
    for kind in ["pid", "mnt"] {
        assert_ne!(inside[kind], host_ns(kind), "{kind} should be new");
    }
    for kind in ["net", "ipc", "uts", "cgroup"] {
        assert_eq!(inside[kind], host_ns(kind), "{kind} should be the host's");
    }
}

#[test]
fn without_a_mount_namespace_mounts_are_the_hosts_until_delete() {
    require!(root);
    let rt = Runtime::new();
    // No mount namespace listed: the container shares the runtime's. runc
    // refuses masked and read-only paths then, so the config has none.
    let b = Bundle::busybox()
        .namespaces(&["pid"])
        .unset(&[], "hostname")
        .unset(&["linux"], "maskedPaths")
        .unset(&["linux"], "readonlyPaths")
        .sh("readlink /proc/self/ns/mnt; test -e /proc/self/status && echo proc-mounted");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    let proc_point = b.path().join("rootfs/proc");
    let host = fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        host.lines()
            .any(|l| l.split(' ').nth(4) == Some(proc_point.to_str().unwrap())),
        "no proc mount at {} in the host's namespace",
        proc_point.display()
    );
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    let out = rt.container_stdout(&id);
    assert_eq!(out.lines().next(), Some(host_ns("mnt").as_str()), "{out}");
    assert!(out.contains("proc-mounted"), "{out}");
    rt.delete(&id, false).ok();
    berth_only!("runc 1.1.5 leaves such a container's mounts in the host's namespace after delete");
    rt.assert_no_residue(&id);
}

#[test]
fn time_namespace_differs_from_the_host() {
    require!(root, timens);
    berth_only!("runc 1.1.5 rejects the time namespace type (support came in runc 1.2)");
    let rt = Runtime::new();
    let b = Bundle::busybox().namespace("time", None);
    let inside = container_ns(&rt, b, &["time"]);
    assert_ne!(inside["time"], host_ns("time"));
}

#[test]
fn hostname_is_set_in_the_uts_namespace() {
    require!(root);
    let rt = Runtime::new();
    let host_before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = rt.run_ok(
        &Bundle::busybox()
            .hostname("e2e-host")
            .sh("hostname; uname -n"),
    );
    assert_eq!(out, "e2e-host\ne2e-host\n");
    let host_after = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(host_before, host_after, "the host's hostname changed");
}

#[test]
fn domainname_is_set_in_the_uts_namespace() {
    require!(root);
    berth_only!("runc 1.1.5 ignores the domainname field (added in runc 1.2)");
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .set(&[], "domainname", "e2e.example".into())
        .sh("cat /proc/sys/kernel/domainname");
    assert_eq!(rt.run_ok(&b), "e2e.example\n");
}

#[test]
fn loopback_is_up_in_a_new_network_namespace() {
    require!(root);
    let rt = Runtime::new();
    let out = rt.run_ok(&Bundle::busybox().sh("ls /sys/class/net; cat /sys/class/net/lo/flags"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"lo"), "a new netns has only lo: {out}");
    let flags = lines
        .get(1)
        .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok());
    let flags = flags.unwrap_or_else(|| panic!("no lo flags in {out}"));
    assert_eq!(flags & 1, 1, "IFF_UP is not set on lo: {flags:#x}");
}

#[test]
fn join_namespaces_of_another_container() {
    require!(root);
    let rt = Runtime::new();
    let a = Bundle::busybox()
        .hostname("joined-a")
        .args(["sleep", "1000"]);
    let a_id = unique_id();
    rt.create(&a_id, &a, &[]).ok();
    let pid = rt.state(&a_id)["pid"].as_i64().unwrap();
    let path = |k: &str| std::path::PathBuf::from(format!("/proc/{pid}/ns/{k}"));
    let target_net = fs::read_link(path("net"))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let target_ipc = fs::read_link(path("ipc"))
        .unwrap()
        .to_string_lossy()
        .into_owned();

    // No hostname: setting one would change the joined namespace's.
    let b = Bundle::busybox()
        .unset(&[], "hostname")
        .namespace("uts", Some(&path("uts")))
        .namespace("network", Some(&path("net")))
        .namespace("ipc", Some(&path("ipc")))
        .sh("hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc");
    let out = rt.run_ok(&b);
    assert_eq!(out, format!("joined-a\n{target_net}\n{target_ipc}\n"));
    assert_ne!(target_net, host_ns("net"));

    rt.delete(&a_id, true).ok();
    rt.assert_no_residue(&a_id);
}

#[test]
fn join_a_namespace_made_by_unshare() {
    require!(root, unshare);
    let rt = Runtime::new();
    // unshare execs sleep in the new namespaces, so its pid names them.
    let mut holder = Command::new("unshare")
        .args(["--net", "--uts", "sleep", "1000"])
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn unshare");
    let pid = holder.id();
    berth_test_harness::wait::eventually("unshare to enter its namespaces", || {
        fs::read_link(format!("/proc/{pid}/ns/net"))
            .is_ok_and(|l| l.to_string_lossy() != host_ns("net"))
            && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep")
    });
    let net = format!("/proc/{pid}/ns/net");
    let want = fs::read_link(&net).unwrap().to_string_lossy().into_owned();
    let b = Bundle::busybox()
        .namespace("network", Some(std::path::Path::new(&net)))
        .sh("readlink /proc/self/ns/net; ls /sys/class/net");
    let out = rt.run_ok(&b);
    holder.kill().expect("kill the unshare holder by pid");
    holder.wait().expect("reap the unshare holder");
    assert_eq!(out, format!("{want}\nlo\n"));
}

#[test]
fn user_namespace_maps_root_to_an_unprivileged_host_id() {
    require!(root, userns);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .userns(&[(0, 100_000, 65536)], &[(0, 200_000, 65536)])
        .sh("cat /proc/self/uid_map /proc/self/gid_map; id; echo ready; sleep 1000");
    let id = unique_id();
    rt.create(&id, &b, &[]).ok();
    rt.start(&id).ok();
    let out = rt.wait_output(&id, "ready");
    let norm: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        norm[..3],
        [
            "0 100000 65536",
            "0 200000 65536",
            "uid=0(root) gid=0(root)"
        ],
        "{out}"
    );
    // Seen from the host, the container's root is the mapped id.
    let pid = rt.state(&id)["pid"].as_i64().unwrap();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let fields = |k| {
        expect_status_field(&status, k)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(fields("Uid"), "100000 100000 100000 100000");
    assert_eq!(fields("Gid"), "200000 200000 200000 200000");
    assert_ne!(
        fs::read_link(format!("/proc/{pid}/ns/user")).unwrap(),
        fs::read_link("/proc/self/ns/user").unwrap()
    );
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
}

#[test]
fn user_namespace_root_owns_dev_mqueue() {
    require!(root, userns);
    // The mqueue file system's root belongs to whoever created the ipc
    // namespace: it must be the container's root (as with runc), not an
    // id the user namespace does not map, which root there may not chmod.
    let b = Bundle::busybox()
        .userns(&[(0, 100_000, 65536)], &[(0, 200_000, 65536)])
        .sh("stat -c %u /dev/mqueue; chmod 1770 /dev/mqueue && echo chmod-ok");
    let out = Runtime::new().run_ok(&b);
    assert_eq!(out, "0\nchmod-ok\n", "owner of /dev/mqueue, then chmod");
}

#[test]
fn user_namespace_with_several_ranges_and_a_non_root_user() {
    require!(root, userns);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .userns(
            &[(0, 100_000, 1000), (1000, 301_000, 1)],
            &[(0, 100_000, 1000), (1000, 401_000, 1)],
        )
        .user(1000, 1000)
        .sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; grep -E '^(Uid|Gid)' /proc/self/status");
    let out = rt.run_ok(&b);
    let norm: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        norm,
        [
            "0 100000 1000",
            "1000 301000 1",
            "0 100000 1000",
            "1000 401000 1",
            "1000",
            "1000",
            "Uid: 1000 1000 1000 1000",
            "Gid: 1000 1000 1000 1000",
        ],
        "{out}"
    );
}

#[test]
fn cgroup_namespace_hides_the_host_cgroup_path() {
    require!(root, cgroupns);
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .namespace("cgroup", None)
        .sh("cat /proc/self/cgroup");
    let out = rt.run_ok(&b);
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(
            line.ends_with(":/"),
            "not the namespace root: {line}\n{out}"
        );
    }
}

#[test]
fn user_namespace_without_cgroupns_sees_cgroups_read_only() {
    require!(root, userns);
    // On a cgroup v2 host the kernel refuses a cgroup2 mount in a user
    // namespace that has no cgroup namespace of its own (EPERM); runc then
    // bind-mounts the host's tree (mountCgroupV2). On v1 and hybrid hosts
    // the mount is a tmpfs with the hierarchies bound in. Either way the
    // container sees cgroup files and cannot make a cgroup there; berth also
    // mounts it read-only, as the config asks. hack/vm runs this on v2.
    let rt = Runtime::new();
    let b = Bundle::busybox()
        .userns(&[(0, 100_000, 65536)], &[(0, 200_000, 65536)])
        .sh(
            "grep ' /sys/fs/cgroup ' /proc/self/mountinfo | cut -d' ' -f6; \
             find /sys/fs/cgroup -maxdepth 2 -name cgroup.procs | head -n 1; \
             mkdir /sys/fs/cgroup/berth-e2e-x 2>&1 || true",
        );
    let out = rt.run_ok(&b);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.get(1).is_some_and(|l| l.ends_with("/cgroup.procs")),
        "no cgroup files under /sys/fs/cgroup:\n{out}"
    );
    assert!(
        out.contains("can't create directory"),
        "the container made a cgroup of the host's:\n{out}"
    );
    berth_only!(
        "runc 1.1.5 leaves the tmpfs of a v1 host's cgroup mount writable in a user namespace"
    );
    assert!(
        lines
            .first()
            .is_some_and(|o| o.split(',').any(|f| f == "ro")),
        "/sys/fs/cgroup is not mounted read-only:\n{out}"
    );
}
