//! Mounts as the container sees them in /proc/self/mountinfo, and what the
//! host sees afterwards.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use berth_test_harness::hostmount::TmpfsMount;
use berth_test_harness::parse::{expect_mount, find_mount, mountinfo, MountInfo};
use berth_test_harness::residue::{host_mounts, mounts_under};
use berth_test_harness::{berth_only, require, temp_dir, unique_id, Bundle, Runtime, TempDir};

/// Sets the process to `script` followed by printing the container's
/// mountinfo after a marker, runs it, and returns (script output, mounts).
fn run_and_mountinfo(rt: &Runtime, b: &mut Bundle, script: &str) -> (String, Vec<MountInfo>) {
    let full = format!("{script}\necho ==mountinfo==; cat /proc/self/mountinfo");
    b.config_mut()["process"]["args"] = serde_json::json!(["sh", "-c", full]);
    let out = rt.run_ok(b);
    let (before, mi) = out.split_once("==mountinfo==\n").expect("mountinfo marker");
    (before.to_string(), mountinfo(mi))
}

/// A host directory with a tmpfs mounted on its `sub`, the source of the
/// rbind tests. The tmpfs is unmounted before the directory is removed
/// (fields drop in order).
struct SubmountHost {
    _sub: TmpfsMount,
    dir: TempDir,
}

impl SubmountHost {
    fn new() -> Self {
        let dir = temp_dir("berth-e2e-host-");
        fs::create_dir(dir.path().join("sub")).unwrap();
        let sub = TmpfsMount::new(&dir.path().join("sub"));
        Self { _sub: sub, dir }
    }

    fn source(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }
}

#[track_caller]
fn assert_opts(m: &MountInfo, present: &[&str], absent: &[&str]) {
    for o in present {
        assert!(
            m.has_option(o) || m.has_super_option(o),
            "{} lacks {o}: {m:?}",
            m.mount_point
        );
    }
    for o in absent {
        assert!(!m.has_option(o), "{} has {o}: {m:?}", m.mount_point);
    }
}

#[test]
fn special_filesystems_carry_the_requested_flags() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox()
        .mount(
            "/mnt/flags",
            "tmpfs",
            "tmpfs",
            &[
                "nosuid", "nodev", "noexec", "ro", "noatime", "mode=700", "size=1m",
            ],
        )
        .mount("/mnt/plain", "tmpfs", "tmpfs", &[]);
    let (_, mi) = run_and_mountinfo(&rt, &mut b, "true");

    let proc = expect_mount(&mi, "/proc");
    assert_eq!(proc.fstype, "proc");
    let dev = expect_mount(&mi, "/dev");
    assert_eq!(dev.fstype, "tmpfs");
    // strictatime: neither relatime nor noatime.
    assert_opts(
        dev,
        &["rw", "nosuid", "mode=755", "size=65536k"],
        &["relatime", "noatime", "noexec"],
    );
    let pts = expect_mount(&mi, "/dev/pts");
    assert_eq!(pts.fstype, "devpts");
    assert_opts(
        pts,
        &["nosuid", "noexec", "gid=5", "mode=620", "ptmxmode=666"],
        &["nodev"],
    );
    let shm = expect_mount(&mi, "/dev/shm");
    assert_eq!(shm.fstype, "tmpfs");
    assert_opts(shm, &["nosuid", "noexec", "nodev", "size=65536k"], &["ro"]);
    let mq = expect_mount(&mi, "/dev/mqueue");
    assert_eq!(mq.fstype, "mqueue");
    assert_opts(mq, &["nosuid", "noexec", "nodev"], &[]);
    let sys = expect_mount(&mi, "/sys");
    assert_eq!(sys.fstype, "sysfs");
    assert_opts(sys, &["ro", "nosuid", "noexec", "nodev"], &["rw"]);

    let flags = expect_mount(&mi, "/mnt/flags");
    assert_eq!(flags.fstype, "tmpfs");
    assert_opts(
        flags,
        &[
            "ro",
            "nosuid",
            "nodev",
            "noexec",
            "noatime",
            "mode=700",
            "size=1024k",
        ],
        &["rw"],
    );
    let plain = expect_mount(&mi, "/mnt/plain");
    assert_opts(plain, &["rw"], &["ro", "nosuid", "nodev", "noexec"]);
}

#[test]
fn bind_mount_of_a_host_directory_is_shared_both_ways() {
    require!(root);
    let rt = Runtime::new();
    let host = temp_dir("berth-e2e-host-");
    fs::write(host.path().join("hello"), "from-host\n").unwrap();
    let mut b = Bundle::busybox().mount(
        "/mnt/host",
        "bind",
        &host.path().to_string_lossy(),
        &["bind"],
    );
    let script = "cat /mnt/host/hello; echo from-container > /mnt/host/back";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert_eq!(out, "from-host\n");
    assert_eq!(
        fs::read_to_string(host.path().join("back")).unwrap(),
        "from-container\n"
    );
    assert_opts(expect_mount(&mi, "/mnt/host"), &["rw"], &["ro"]);
}

#[test]
fn read_only_bind_mount() {
    require!(root);
    let rt = Runtime::new();
    let host = temp_dir("berth-e2e-host-");
    fs::write(host.path().join("hello"), "from-host\n").unwrap();
    let mut b = Bundle::busybox().mount(
        "/mnt/ro",
        "bind",
        &host.path().to_string_lossy(),
        &["bind", "ro"],
    );
    let script = "cat /mnt/ro/hello; touch /mnt/ro/new 2>&1 || echo write-refused";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert!(
        out.starts_with("from-host\n") && out.contains("write-refused"),
        "{out}"
    );
    assert!(!host.path().join("new").exists());
    assert_opts(expect_mount(&mi, "/mnt/ro"), &["ro"], &["rw"]);
}

#[test]
fn remount_option_changes_the_mount_already_there() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox()
        .mount("/mnt/again", "tmpfs", "tmpfs", &["size=1m"])
        .mount(
            "/mnt/again",
            "tmpfs",
            "tmpfs",
            &["remount", "ro", "nosuid", "size=2m"],
        );
    let script = "touch /mnt/again/x 2>/dev/null || echo write-refused";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert_eq!(out, "write-refused\n");
    let again: Vec<_> = mi
        .iter()
        .filter(|m| m.mount_point == "/mnt/again")
        .collect();
    assert_eq!(again.len(), 1, "a remount, not a second mount: {again:?}");
    assert_opts(again[0], &["ro", "nosuid", "size=2048k"], &["rw"]);
}

#[test]
fn rbind_carries_submounts_and_bind_does_not() {
    require!(root);
    let rt = Runtime::new();
    let host = SubmountHost::new();
    fs::write(host.dir.path().join("sub/inner"), "submount\n").unwrap();
    let src = host.source();
    let mut b = Bundle::busybox()
        .mount("/mnt/r", "bind", &src, &["rbind"])
        .mount("/mnt/b", "bind", &src, &["bind"]);
    let (out, mi) = run_and_mountinfo(&rt, &mut b, "cat /mnt/r/sub/inner; ls /mnt/b/sub | wc -l");
    assert_eq!(out, "submount\n0\n");
    assert_eq!(expect_mount(&mi, "/mnt/r/sub").fstype, "tmpfs");
    assert!(
        find_mount(&mi, "/mnt/b/sub").is_none(),
        "bind (not rbind) carried the submount"
    );
}

/// `ro` on an `rbind` is a remount of its top mount only (runc: a bind
/// remount is never recursive; `rro` would be the recursive one).
#[test]
fn ro_on_an_rbind_applies_to_its_top_mount() {
    require!(root);
    let rt = Runtime::new();
    let host = SubmountHost::new();
    let src = host.source();
    let mut b = Bundle::busybox().mount("/mnt/r", "bind", &src, &["rbind", "ro", "nosuid"]);
    let (out, mi) = run_and_mountinfo(&rt, &mut b, "touch /mnt/r/sub/w && echo sub-writable");
    assert_eq!(out, "sub-writable\n");
    assert_opts(expect_mount(&mi, "/mnt/r"), &["ro", "nosuid"], &["rw"]);
    assert_opts(expect_mount(&mi, "/mnt/r/sub"), &["rw"], &["ro"]);
}

/// `rro` and the other recursive attributes reach every mount of an
/// `rbind`, submounts included (`mount_setattr(AT_RECURSIVE)`, runc 1.1+).
#[test]
fn recursive_attributes_reach_every_mount_of_an_rbind() {
    require!(root);
    let rt = Runtime::new();
    let host = SubmountHost::new();
    let src = host.source();
    let mut b = Bundle::busybox().mount("/mnt/r", "bind", &src, &["rbind", "rro", "rnosuid"]);
    let script = "touch /mnt/r/w 2>/dev/null && echo top-writable; \
                  touch /mnt/r/sub/w 2>/dev/null && echo sub-writable; echo done";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert_eq!(out, "done\n", "a mount of the rbind stayed writable");
    for dest in ["/mnt/r", "/mnt/r/sub"] {
        assert_opts(expect_mount(&mi, dest), &["ro", "nosuid"], &["rw"]);
    }
    assert!(!host.dir.path().join("sub/w").exists() && !host.dir.path().join("w").exists());
}

#[test]
fn mount_targets_are_created_inside_the_rootfs() {
    require!(root);
    let rt = Runtime::new();
    let host = temp_dir("berth-e2e-host-");
    fs::write(host.path().join("file"), "a file\n").unwrap();
    let mut b = Bundle::busybox()
        .mount("/new/deep/dir", "tmpfs", "tmpfs", &[])
        .mount(
            "/etc/bound-file",
            "bind",
            &host.path().join("file").to_string_lossy(),
            &["bind"],
        );
    let rootfs = b.rootfs();
    let (out, mi) = run_and_mountinfo(&rt, &mut b, "cat /etc/bound-file");
    assert_eq!(out, "a file\n");
    assert_eq!(expect_mount(&mi, "/new/deep/dir").fstype, "tmpfs");
    expect_mount(&mi, "/etc/bound-file");
    assert!(rootfs.join("new/deep/dir").is_dir());
    assert!(
        rootfs.join("etc/bound-file").is_file(),
        "a file bind needs a file target"
    );
}

/// A mount whose destination is a symlink pointing out of the rootfs must
/// resolve inside it: nothing may be created or mounted at the host path.
#[test]
fn symlinked_destination_cannot_escape_the_rootfs() {
    require!(root);
    let rt = Runtime::new();
    let id = unique_id();
    let outside = std::env::temp_dir().join(format!("berth-e2e-escape-{id}"));
    let outside_rel = format!("../../../../../../../..{}", outside.display());
    let mut b = Bundle::busybox()
        .mount("/escape-abs", "tmpfs", "tmpfs", &[])
        .mount("/escape-rel/sub", "tmpfs", "tmpfs", &[]);
    symlink(&outside, b.rootfs().join("escape-abs")).unwrap();
    symlink(&outside_rel, b.rootfs().join("escape-rel")).unwrap();
    let script = "echo x > /escape-abs/written && echo y > /escape-rel/sub/written && echo ok";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    let exists = outside.symlink_metadata().is_ok();
    let _ = fs::remove_dir_all(&outside);
    assert!(
        !exists,
        "the runtime created {} on the host",
        outside.display()
    );
    assert!(
        mounts_under(&outside).is_empty(),
        "a mount appeared on the host"
    );
    assert_eq!(out, "ok\n");
    // Both resolve to the same in-rootfs path, /tmp/berth-e2e-escape-<id>.
    let inside = outside.to_string_lossy();
    assert!(
        mi.iter()
            .any(|m| m.fstype == "tmpfs" && m.mount_point.starts_with(&*inside)),
        "{mi:#?}"
    );
}

#[test]
fn symlinked_destination_does_not_cover_an_existing_host_dir() {
    require!(root);
    let rt = Runtime::new();
    let target = temp_dir("berth-e2e-escape-");
    fs::write(target.path().join("marker"), "host\n").unwrap();
    let source = temp_dir("berth-e2e-src-");
    fs::write(source.path().join("from-source"), "src\n").unwrap();
    let b = Bundle::busybox()
        .readonly(false)
        .mount(
            "/escape",
            "bind",
            &source.path().to_string_lossy(),
            &["bind"],
        )
        .sh("ls /escape; echo z > /escape/written");
    symlink(target.path(), b.rootfs().join("escape")).unwrap();
    let out = rt.run_ok(&b);
    assert!(out.contains("from-source"), "{out}");
    let mut host: Vec<String> = fs::read_dir(target.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    host.sort();
    assert_eq!(
        host,
        ["marker"],
        "the host dir behind the symlink was written to"
    );
    assert!(mounts_under(target.path()).is_empty());
}

#[test]
fn readonly_root_is_read_only_but_its_mounts_are_not() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox().readonly(true);
    let rootfs = b.rootfs();
    let script = "touch /x 2>/dev/null && echo root-writable; \
                  touch /tmp/x 2>/dev/null && echo tmp-writable; touch /dev/shm/x && echo shm-writable";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert_eq!(out, "shm-writable\n");
    assert!(!rootfs.join("x").exists());
    assert_opts(expect_mount(&mi, "/"), &["ro"], &["rw"]);
}

#[test]
fn writable_root_when_not_readonly() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox().readonly(false);
    let rootfs = b.rootfs();
    let (out, mi) = run_and_mountinfo(&rt, &mut b, "echo w > /written && echo ok");
    assert_eq!(out, "ok\n");
    assert_eq!(fs::read_to_string(rootfs.join("written")).unwrap(), "w\n");
    assert_opts(expect_mount(&mi, "/"), &["rw"], &["ro"]);
}

#[test]
fn masked_paths_hide_files_and_directories() {
    require!(root);
    let rt = Runtime::new();
    // Paths that exist here (host-notes): /proc/timer_list and /proc/keys
    // (two files: the second is masked with a clone of the first's mount),
    // /proc/acpi; /proc/kcore does not, and masking it must be harmless.
    for p in ["/proc/timer_list", "/proc/keys", "/proc/acpi"] {
        assert!(Path::new(p).exists(), "{p}");
    }
    let mut b = Bundle::busybox().set(
        &["linux"],
        "maskedPaths",
        serde_json::json!([
            "/proc/timer_list",
            "/proc/keys",
            "/proc/acpi",
            "/proc/kcore"
        ]),
    );
    let script = "wc -c < /proc/timer_list; wc -c < /proc/keys; ls -A /proc/acpi | wc -l; \
                  wc -c < /proc/uptime";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    let n: Vec<u64> = out.split_whitespace().map(|w| w.parse().unwrap()).collect();
    assert_eq!(n[..3], [0, 0, 0], "masked paths show content: {out}");
    assert!(n[3] > 0, "an unmasked file is empty: {out}");
    expect_mount(&mi, "/proc/timer_list");
    expect_mount(&mi, "/proc/keys");
    assert_opts(expect_mount(&mi, "/proc/acpi"), &["ro"], &[]);
    assert!(find_mount(&mi, "/proc/kcore").is_none());
}

#[test]
fn readonly_paths_cannot_be_written() {
    require!(root);
    let rt = Runtime::new();
    let mut b = Bundle::busybox().readonly(false).set(
        &["linux"],
        "readonlyPaths",
        serde_json::json!(["/proc/sys", "/ro-dir"]),
    );
    fs::create_dir(b.rootfs().join("ro-dir")).unwrap();
    fs::create_dir(b.rootfs().join("rw-dir")).unwrap();
    let script = "touch /ro-dir/x 2>/dev/null || echo ro-refused; touch /rw-dir/x && echo rw-ok; \
                  echo e2e > /proc/sys/kernel/hostname 2>/dev/null || echo sys-refused";
    let (out, mi) = run_and_mountinfo(&rt, &mut b, script);
    assert_eq!(out, "ro-refused\nrw-ok\nsys-refused\n");
    assert_opts(expect_mount(&mi, "/ro-dir"), &["ro"], &["rw"]);
    assert_opts(expect_mount(&mi, "/proc/sys"), &["ro"], &["rw"]);
}

fn root_optional_fields(rt: &Runtime, propagation: &str) -> Vec<String> {
    let mut b = Bundle::busybox().set(&["linux"], "rootfsPropagation", propagation.into());
    let (_, mi) = run_and_mountinfo(rt, &mut b, "");
    expect_mount(&mi, "/").optional.clone()
}

#[test]
fn rootfs_propagation_private() {
    require!(root);
    let rt = Runtime::new();
    let opt = root_optional_fields(&rt, "private");
    assert!(
        opt.iter()
            .all(|o| !o.starts_with("shared:") && !o.starts_with("master:")),
        "{opt:?}"
    );
}

#[test]
fn rootfs_propagation_shared() {
    require!(root);
    berth_only!("runc 1.1.5 applies rootfsPropagation before bind-mounting the rootfs, so / is never shared");
    let rt = Runtime::new();
    let host_root_before = find_mount(&host_mounts(), "/").cloned();
    let opt = root_optional_fields(&rt, "shared");
    assert!(opt.iter().any(|o| o.starts_with("shared:")), "{opt:?}");
    let host_root_after = find_mount(&host_mounts(), "/").cloned();
    assert_eq!(host_root_before, host_root_after, "the host's / changed");
}

#[test]
fn rootfs_propagation_unbindable() {
    require!(root);
    berth_only!("runc 1.1.5 fails with EINVAL: it makes / unbindable, then bind-mounts the rootfs");
    let rt = Runtime::new();
    let opt = root_optional_fields(&rt, "unbindable");
    assert!(opt.iter().any(|o| o == "unbindable"), "{opt:?}");
}

#[test]
fn default_devices_and_dev_symlinks() {
    require!(root);
    let rt = Runtime::new();
    let b = Bundle::busybox().sh(
        "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; \
         for l in fd stdin stdout stderr ptmx; do echo /dev/$l $(readlink /dev/$l); done; \
         echo x > /dev/null && head -c 3 /dev/zero | wc -c; \
         echo x > /dev/full 2>/dev/null || echo full-refused; \
         test -c /dev/pts/ptmx && echo ptmx-ok",
    );
    let out = rt.run_ok(&b);
    let want = "\
/dev/null character special file 1:3 666
/dev/zero character special file 1:5 666
/dev/full character special file 1:7 666
/dev/random character special file 1:8 666
/dev/urandom character special file 1:9 666
/dev/tty character special file 5:0 666
/dev/fd /proc/self/fd
/dev/stdin /proc/self/fd/0
/dev/stdout /proc/self/fd/1
/dev/stderr /proc/self/fd/2
/dev/ptmx pts/ptmx
3
full-refused
ptmx-ok
";
    assert_eq!(out, want);
}
