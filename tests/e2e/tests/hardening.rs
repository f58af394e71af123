//! What a container must not be able to do to the runtime (CVE-2019-5736):
//! reach the runtime's own binary through `/proc/<pid>/exe` of another
//! container's init that has not exec'd yet, and so overwrite it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use berth_test_harness::{berth_only, require, temp_dir, unique_id, Bundle, Runtime};

#[test]
fn a_container_cannot_reach_the_runtime_binary_of_a_waiting_init() {
    require!(root);
    let rt = Runtime::new();
    let binary_before = fs::read(rt.bin()).expect("read runtime binary");
    let shared = temp_dir("berth-e2e-shared");
    // Container A waits for the go-ahead, then tries every other process in
    // its pid namespace: read /proc/<pid>/exe, and open it for writing.
    let a = Bundle::busybox()
        .mount(
            "/shared",
            "bind",
            shared.path().to_str().unwrap(),
            &["rbind", "rw"],
        )
        .sh("while [ ! -e /shared/go ]; do sleep 0.05; done; \
             for p in /proc/[0-9]*; do n=${p#/proc/}; \
               [ \"$n\" = 1 ] || [ \"$n\" = $$ ] && continue; \
               [ -e $p/exe ] || [ -L $p/exe ] || continue; \
               if cat $p/exe >/dev/null 2>&1; then echo read-ok $n; else echo read-denied $n; fi; \
               if (: >> $p/exe) 2>/dev/null; then echo write-ok $n; fi; \
             done; echo scanned");
    let a_id = unique_id();
    rt.create(&a_id, &a, &[]).ok();
    rt.start(&a_id).ok();
    let a_pid = rt.state(&a_id)["pid"].as_i64().expect("pid of A");

    // Container B joins A's pid namespace and stays created: its init is
    // still the runtime, waiting for `start`, and visible to A.
    let pid_ns = format!("/proc/{a_pid}/ns/pid");
    let b = Bundle::busybox()
        .namespace("pid", Some(Path::new(&pid_ns)))
        .args(["true"]);
    let b_id = unique_id();
    rt.create(&b_id, &b, &[]).ok();
    fs::write(shared.path().join("go"), b"").expect("go");

    let out = rt.wait_output(&a_id, "scanned");
    rt.wait_status(&a_id, "stopped");
    assert!(
        !out.contains("write-ok"),
        "a container opened another init's exe for writing:\n{out}"
    );
    assert!(
        out.contains("read-"),
        "A saw no other process in its pid namespace:\n{out}"
    );
    assert_eq!(
        fs::read(rt.bin()).expect("read runtime binary"),
        binary_before,
        "the runtime binary changed"
    );

    rt.delete(&b_id, true).ok();
    rt.delete(&a_id, false).ok();
    rt.assert_no_residue(&a_id);
    rt.assert_no_residue(&b_id);
    berth_only!("runc 1.1.5's waiting init runs from a sealed copy of itself, which A may read");
    assert!(
        !out.contains("read-ok"),
        "A could read the waiting init's binary:\n{out}"
    );
}

/// berth moves onto a read-only bind mount of its binary in place
/// (docs/security.md, "The sealed runtime binary"): a waiting init maps the
/// binary's code from the file and nothing of it writable, its data and
/// relocated RELRO being anonymous copies. The fallbacks would show: an
/// exec through the bind mount maps the data segment from the file,
/// writable; a sealed memfd copy maps another file.
#[test]
fn a_waiting_init_was_moved_onto_the_read_only_binary_in_place() {
    require!(root);
    berth_only!("how berth seals its own binary (runc 1.1.5 copies itself)");
    let rt = Runtime::new();
    if on_readonly_mount(rt.bin()) {
        berth_test_harness::skip::host_lacks(
            "a writable runtime binary (on a read-only mount berth needs no move)",
        );
        return;
    }
    let meta = fs::metadata(rt.bin()).expect("stat runtime binary");
    let dev = format!(
        "{:02x}:{:02x}",
        libc::major(meta.dev()),
        libc::minor(meta.dev())
    );
    let ino = meta.ino().to_string();
    let bundle = Bundle::busybox().args(["true"]);
    let id = unique_id();
    rt.create(&id, &bundle, &[]).ok();
    let pid = rt.state(&id)["pid"].as_i64().expect("pid of init");
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).expect("init's maps");
    rt.delete(&id, true).ok();
    rt.assert_no_residue(&id);
    // Each line: range, perms, offset, dev, inode, path.
    let binary: Vec<Vec<&str>> = maps
        .lines()
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>())
        .filter(|f| f.get(3) == Some(&dev.as_str()) && f.get(4) == Some(&ino.as_str()))
        .collect();
    assert!(
        binary.iter().any(|f| f[1] == "r-xp"),
        "init does not run the binary's code from its file:\n{maps}"
    );
    assert!(
        binary.iter().all(|f| !f[1].contains('w')),
        "init maps the binary writable (it was exec'd, not moved):\n{maps}"
    );
}

/// Whether `path` is on a read-only mount (`ST_RDONLY`).
fn on_readonly_mount(path: &Path) -> bool {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: statvfs is a plain C struct; all-zero bytes are a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path; statvfs writes only into `st`.
    let ret = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    ret == 0 && st.f_flag & libc::ST_RDONLY != 0
}
