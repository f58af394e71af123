//! The runtime reads the image's `/etc/passwd` (for `HOME` when the config
//! sets none) as root, outside any cgroup: a hostile image must not make it
//! hang (a FIFO), allocate without bound (`/dev/zero`, a huge file) or read
//! through a symlink. berth: resolved inside the rootfs, regular files only,
//! at most 4 MiB.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::Command;

use berth_test_harness::{berth_only, require, unique_id, Bundle, Runtime};

/// A container that prints `$HOME`, with `/etc/passwd` replaced by `make`.
fn with_passwd(make: impl FnOnce(&Path)) -> Bundle {
    let b = Bundle::busybox().sh("echo home=$HOME");
    let passwd = b.rootfs().join("etc/passwd");
    fs::remove_file(&passwd).expect("remove /etc/passwd");
    make(&passwd);
    b
}

/// `create` fails (and does not hang), names the file, leaves nothing.
fn refused(b: &Bundle, why: &str) {
    let rt = Runtime::new();
    let id = unique_id();
    let out = rt.create(&id, b, &[]).fails();
    rt.assert_no_residue(&id);
    assert!(
        out.stderr.contains("/etc/passwd") && out.stderr.contains(why),
        "error should name /etc/passwd and say {why:?}:\n{out}"
    );
}

#[test]
fn a_fifo_as_passwd_is_refused_without_hanging() {
    require!(root);
    berth_only!("runc 1.1.5 blocks forever opening a FIFO /etc/passwd");
    let b = with_passwd(|p| {
        let ok = Command::new("mkfifo").arg(p).status().expect("mkfifo");
        assert!(ok.success());
    });
    refused(&b, "not a regular file");
}

#[test]
fn passwd_pointing_at_dev_zero_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 reads /dev/zero as the image's /etc/passwd");
    let b = with_passwd(|p| std::os::unix::fs::symlink("/dev/zero", p).expect("symlink"));
    refused(&b, "not a regular file");
}

#[test]
fn a_huge_passwd_is_refused() {
    require!(root);
    berth_only!("runc 1.1.5 reads the image's /etc/passwd without a size bound");
    let b = with_passwd(|p| {
        let f = fs::File::create(p).expect("create");
        f.set_len(64 << 20).expect("sparse 64 MiB");
    });
    refused(&b, "larger than");
}

#[test]
fn passwd_symlink_resolves_inside_the_rootfs() {
    require!(root);
    // An absolute symlink names the image's own file, never the host's.
    let b = with_passwd(|p| {
        fs::write(
            p.with_file_name("passwd.real"),
            "root:x:0:0:root:/image-home:/bin/sh\n",
        )
        .expect("write");
        std::os::unix::fs::symlink("/etc/passwd.real", p).expect("symlink");
    });
    let rt = Runtime::new();
    assert_eq!(rt.run_ok(&b), "home=/image-home\n");
}
