//! CVE-2021-30465 family: a mount destination inside a volume that
//! another party writes to (a volume shared with another container, or the
//! host) can be swapped between a directory and a symlink while the
//! runtime sets the container up. A runtime that looks the destination up
//! again after mounting (for the read-only remount, the mode, the
//! propagation) reaches a different place the second time: the mount it
//! made keeps the wrong flags, another mount gets them, or, without an
//! in-root lookup, something outside the rootfs is mounted over.
//!
//! The racer here is a host thread exchanging, with `renameat2(
//! RENAME_EXCHANGE)`, each destination directory of a bind-mounted volume
//! with a symlink that points out of the rootfs (to a host scratch
//! directory), while containers whose mounts go through those paths are
//! created. Wherever each mount landed, it must be inside the container and
//! read-only, as its entry asks; on the host, nothing may be mounted on or
//! created in the volume or the scratch directory.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use berth_test_harness::parse::{mountinfo, MountInfo};
use berth_test_harness::{berth_only, json, require, unique_id, Bundle, Output, Runtime};

/// Destinations per container: even ones a read-only tmpfs, odd ones a
/// read-only bind. Many per container, so that a runtime with a second
/// lookup loses the race somewhere in nearly every container.
const ENTRIES: usize = 16;
/// Containers created while the racer runs.
const CONTAINERS: usize = 12;

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Exchanges the entries `a` and `b` (both must exist) atomically.
fn exchange(a: &CString, b: &CString) -> std::io::Result<()> {
    // SAFETY: both are valid NUL-terminated paths that outlive the call;
    // renameat2(2) only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The hostile volume: `x<i>` (a directory, the mount destination) and
/// `s<i>` (a symlink to the host's `scratch`), exchanged by the racer.
struct Volume {
    dir: PathBuf,
    scratch: PathBuf,
}

impl Volume {
    fn new(base: &Path) -> Self {
        let (dir, scratch) = (base.join("volume"), base.join("scratch"));
        fs::create_dir(&dir).unwrap();
        fs::create_dir(&scratch).unwrap();
        for i in 0..ENTRIES {
            fs::create_dir(dir.join(format!("x{i}"))).unwrap();
            std::os::unix::fs::symlink(&scratch, dir.join(format!("s{i}"))).unwrap();
        }
        Volume { dir, scratch }
    }

    fn pairs(&self) -> Vec<(CString, CString)> {
        (0..ENTRIES)
            .map(|i| {
                let x = cstr(&self.dir.join(format!("x{i}")));
                (x, cstr(&self.dir.join(format!("s{i}"))))
            })
            .collect()
    }

    /// Swaps each pair until `stop`, then puts every directory back at `x<i>`.
    fn race(&self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
        let pairs = self.pairs();
        let dir = self.dir.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for (x, s) in &pairs {
                    exchange(x, s).unwrap();
                    swaps += 1;
                }
            }
            for (i, (x, s)) in pairs.iter().enumerate() {
                if dir.join(format!("x{i}")).is_symlink() {
                    exchange(x, s).unwrap();
                }
            }
            swaps
        })
    }
}

/// The bundle: the volume at `/vol`, then the racing destinations.
fn hostile_bundle() -> (Bundle, Volume) {
    let mut b = Bundle::busybox().sh("cat /proc/self/mountinfo");
    let vol = Volume::new(b.path());
    let mut mounts = vec![json!({
        "destination": "/vol", "type": "bind",
        "source": vol.dir, "options": ["rbind", "rw"]
    })];
    for i in 0..ENTRIES {
        let destination = format!("/vol/x{i}");
        if i.is_multiple_of(2) {
            mounts.push(json!({
                "destination": destination, "type": "tmpfs", "source": format!("race-tmpfs-{i}"),
                "options": ["ro", "nosuid", "nodev", "size=64k"]
            }));
        } else {
            let source = b.path().join(format!("ro-src{i}"));
            fs::create_dir(&source).unwrap();
            fs::write(source.join("secret"), "s").unwrap();
            mounts.push(json!({
                "destination": destination, "type": "bind",
                "source": source, "options": ["bind", "ro"]
            }));
        }
    }
    let list = b.config_mut()["mounts"].as_array_mut().unwrap();
    list.extend(mounts);
    (b, vol)
}

/// The container's mounts made for entry `i`.
fn mounts_of_entry(all: &[MountInfo], i: usize) -> Vec<&MountInfo> {
    let tmpfs = format!("race-tmpfs-{i}");
    let bind_root = format!("/ro-src{i}");
    all.iter()
        .filter(|m| {
            if i.is_multiple_of(2) {
                m.fstype == "tmpfs" && m.source == tmpfs
            } else {
                m.root.ends_with(&bind_root)
            }
        })
        .collect()
}

/// Host mounts on anything under `dir`.
fn host_mounts_under(dir: &Path) -> Vec<MountInfo> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_string_lossy().into_owned();
    mountinfo(&text)
        .into_iter()
        .filter(|m| m.mount_point.starts_with(&dir))
        .collect()
}

/// Each entry's mount, seen from inside: exactly one, read-only, at its
/// destination's directory (wherever the racer left it in the volume) or
/// at the in-root image of the symlink's target.
fn check_container(out: &Output, scratch_inside: &str) {
    assert!(out.success(), "create failed under the race: {out}");
    let all = mountinfo(&out.stdout);
    for i in 0..ENTRIES {
        let mine = mounts_of_entry(&all, i);
        assert_eq!(mine.len(), 1, "entry {i}: want one mount: {mine:#?}\n{out}");
        let m = mine[0];
        assert!(m.has_option("ro"), "entry {i} is not read-only: {m:?}");
        let at = m.mount_point.as_str();
        let allowed = [format!("/vol/x{i}"), format!("/vol/s{i}")];
        assert!(
            allowed.iter().any(|a| a == at) || at == scratch_inside,
            "entry {i} mounted at {at}: {m:?}"
        );
    }
}

#[test]
fn a_destination_swapped_with_a_symlink_keeps_its_flags_and_stays_inside() {
    require!(root);
    let (b, vol) = hostile_bundle();
    let rt = Runtime::new();
    let stop = Arc::new(AtomicBool::new(false));
    let racer = vol.race(stop.clone());
    let outs: Vec<(String, Output)> = (0..CONTAINERS)
        .map(|_| {
            let id = unique_id();
            let out = rt.run(&id, &b);
            (id, out)
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    let swaps = racer.join().unwrap();
    eprintln!("racer: {swaps} exchanges during {CONTAINERS} containers");
    for (id, _) in &outs {
        rt.assert_no_residue(id);
    }
    // On the host, for every runtime: nothing mounted on the volume or the
    // scratch directory, and nothing made in the scratch directory.
    assert_eq!(host_mounts_under(&vol.dir), vec![]);
    assert_eq!(host_mounts_under(&vol.scratch), vec![]);
    let made: Vec<_> = fs::read_dir(&vol.scratch).unwrap().collect();
    assert!(made.is_empty(), "made in the host's scratch dir: {made:?}");
    berth_only!(
        "CVE-2021-30465 family: runc 1.1.5 looks the destination up again for the \
         read-only remount, so a swapped symlink leaves a mount writable or fails create"
    );
    let scratch_inside = vol.scratch.to_string_lossy().into_owned();
    for (_, out) in &outs {
        check_container(out, &scratch_inside);
    }
}

#[test]
fn a_destination_that_is_already_a_symlink_out_of_the_rootfs_stays_inside() {
    require!(root);
    let mut b = Bundle::busybox().sh(
        "cat /proc/self/mountinfo; echo ==; touch /vol/x/w 2>/dev/null && echo writable; \
         ls -A /vol/x",
    );
    let scratch = b.path().join("scratch");
    let volume = b.path().join("volume");
    fs::create_dir(&scratch).unwrap();
    fs::create_dir(&volume).unwrap();
    std::os::unix::fs::symlink(&scratch, volume.join("x")).unwrap();
    let list = b.config_mut()["mounts"].as_array_mut().unwrap();
    list.push(json!({
        "destination": "/vol", "type": "bind", "source": volume, "options": ["rbind", "rw"]
    }));
    list.push(json!({
        "destination": "/vol/x", "type": "tmpfs", "source": "race-tmpfs",
        "options": ["ro", "nosuid", "nodev", "size=64k"]
    }));
    let rt = Runtime::new();
    let out = rt.run_ok(&b);
    let (info, rest) = out.split_once("==\n").unwrap();
    // The symlink was followed inside the rootfs: the tmpfs is on the
    // rootfs's own copy of the scratch path, read-only, and empty.
    let all = mountinfo(info);
    let mine: Vec<_> = all.iter().filter(|m| m.source == "race-tmpfs").collect();
    assert_eq!(mine.len(), 1, "{all:#?}");
    assert_eq!(mine[0].mount_point, scratch.to_string_lossy());
    assert!(mine[0].has_option("ro"), "{:?}", mine[0]);
    assert_eq!(rest, "", "the tmpfs behind /vol/x is writable or not empty");
    // On the host: nothing mounted there, nothing made in it.
    assert_eq!(host_mounts_under(&scratch), vec![]);
    assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
}
