//! A busybox root filesystem, built the same way as `hack/mkrootfs.sh`.
//!
//! The binary comes from `$BERTH_BUSYBOX` or `/bin/busybox` (Debian's
//! `busybox-static`). It must be static: a dynamic busybox names an ELF
//! interpreter that does not exist in the rootfs, and exec then fails with a
//! misleading ENOENT (youki `runtimetest/README.md` tells that story).
//!
//! Building costs one 2 MB file write and ~270 symlinks, a few milliseconds,
//! so every bundle gets a fresh copy: no cache directory outlives the test
//! process, and no test can corrupt another's rootfs.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where busybox is read from.
pub fn busybox_path() -> PathBuf {
    std::env::var_os("BERTH_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"))
}

/// The busybox bytes and its applet names, read and checked once per process.
struct Busybox {
    bytes: Vec<u8>,
    applets: Vec<String>,
}

fn busybox() -> &'static Busybox {
    static BUSYBOX: OnceLock<Busybox> = OnceLock::new();
    BUSYBOX.get_or_init(|| {
        let path = busybox_path();
        let bytes = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "read {}: {e} (apt-get install busybox-static, or set BERTH_BUSYBOX)",
                path.display()
            )
        });
        match elf_interpreter(&bytes) {
            Ok(None) => {}
            Ok(Some(interp)) => panic!(
                "{} is dynamically linked (PT_INTERP {interp}); install busybox-static",
                path.display()
            ),
            Err(e) => panic!("{}: {e}", path.display()),
        }
        let out = Command::new(&path)
            .arg("--list")
            .output()
            .unwrap_or_else(|e| panic!("run {} --list: {e}", path.display()));
        assert!(out.status.success(), "{} --list failed", path.display());
        let applets = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
            .map(String::from)
            .collect();
        Busybox { bytes, applets }
    })
}

/// Returns the PT_INTERP of an ELF image, `None` for a static binary.
pub fn elf_interpreter(elf: &[u8]) -> Result<Option<String>, String> {
    const PT_INTERP: u32 = 3;
    if elf.len() < 0x40 || &elf[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if elf[5] != 1 {
        return Err("big-endian ELF is not supported".into());
    }
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        elf.get(o..o + 8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a)
        })
    };
    // (e_phoff, e_phentsize, e_phnum, p_offset and p_filesz offsets in a phdr)
    let (phoff, phentsize, phnum, off_at, size_at) = match elf[4] {
        1 => (
            u32_at(0x1c).map(u64::from),
            u16_at(0x2a),
            u16_at(0x2c),
            4usize,
            16usize,
        ),
        2 => (u64_at(0x20), u16_at(0x36), u16_at(0x38), 8, 32),
        c => return Err(format!("unknown ELF class {c}")),
    };
    let bad = || "truncated ELF header".to_string();
    let phoff = usize::try_from(phoff.ok_or_else(bad)?).map_err(|_| bad())?;
    let (phentsize, phnum) = (
        usize::from(phentsize.ok_or_else(bad)?),
        phnum.ok_or_else(bad)?,
    );
    for i in 0..usize::from(phnum) {
        let ph = phoff + i * phentsize;
        if u32_at(ph).ok_or_else(bad)? != PT_INTERP {
            continue;
        }
        let (off, size) = if elf[4] == 1 {
            (
                u32_at(ph + off_at).map(u64::from),
                u32_at(ph + size_at).map(u64::from),
            )
        } else {
            (u64_at(ph + off_at), u64_at(ph + size_at))
        };
        let off = usize::try_from(off.ok_or_else(bad)?).map_err(|_| bad())?;
        let size = usize::try_from(size.ok_or_else(bad)?).map_err(|_| bad())?;
        let raw = elf.get(off..off + size).unwrap_or_default();
        let name = String::from_utf8_lossy(raw)
            .trim_end_matches('\0')
            .to_string();
        return Ok(Some(name));
    }
    Ok(None)
}

/// Builds the rootfs into `dir` (created if missing): /bin/busybox, a symlink
/// per applet in /bin, the usual directories, and /etc/{passwd,group} with
/// root (0), test (1000) and nobody (65534).
pub fn build(dir: &Path) {
    let bb = busybox();
    let dirs = [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "proc",
        "sys",
        "dev",
        "tmp",
        "etc",
        "root",
        "run",
        "var",
        "var/tmp",
        "home/test",
    ];
    // Modes are set explicitly, not left to the umask: a user-namespaced
    // container's root is an unprivileged host uid and must traverse them.
    fs::create_dir_all(dir).expect("create rootfs dir");
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod rootfs");
    for d in dirs {
        fs::create_dir_all(dir.join(d)).expect("create rootfs dir");
    }
    for d in dirs.iter().chain(&["usr", "home"]) {
        let mode = match *d {
            "tmp" | "var/tmp" => 0o1777,
            "root" => 0o700,
            _ => 0o755,
        };
        fs::set_permissions(dir.join(d), fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let bin = dir.join("bin/busybox");
    crate::write_executable(&bin, &bb.bytes);
    for applet in &bb.applets {
        symlink("busybox", dir.join("bin").join(applet)).expect("symlink applet");
    }
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         test:x:1000:1000:test:/home/test:/bin/sh\n\
         nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .expect("write passwd");
    fs::write(
        dir.join("etc/group"),
        "root:x:0:\ntty:x:5:\ntest:x:1000:\nnogroup:x:65534:\n",
    )
    .expect("write group");
    for f in ["etc/passwd", "etc/group"] {
        fs::set_permissions(dir.join(f), fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    // Best effort: only root can chown, and only the user-namespace tests care.
    let _ = std::os::unix::fs::chown(dir.join("home/test"), Some(1000), Some(1000));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_elf() {
        assert!(elf_interpreter(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn finds_interpreter_of_a_dynamic_binary() {
        // The host's /bin/sh (Debian's dash) links glibc dynamically;
        // busybox-static has no interpreter. (Test binaries are static now,
        // see .cargo/config.toml.)
        let sh = fs::read("/bin/sh").expect("read /bin/sh");
        let interp = elf_interpreter(&sh).expect("parse /bin/sh");
        assert!(
            interp.as_ref().is_some_and(|i| i.contains("ld")),
            "{interp:?}"
        );
        if let Ok(bb) = fs::read(busybox_path()) {
            assert_eq!(elf_interpreter(&bb), Ok(None));
        }
    }

    /// Every entry under `root` as "path: kind mode [target|size]".
    fn listing(root: &Path) -> Vec<String> {
        use std::os::unix::fs::MetadataExt;
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).expect("read_dir").flatten() {
                let p = e.path();
                let md = fs::symlink_metadata(&p).expect("lstat");
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string();
                let what = if md.file_type().is_symlink() {
                    format!("link -> {}", fs::read_link(&p).expect("readlink").display())
                } else if md.is_dir() {
                    stack.push(p.clone());
                    format!("dir {:o}", md.mode() & 0o7777)
                } else {
                    format!("file {:o} {}", md.mode() & 0o7777, md.len())
                };
                out.push(format!("{rel}: {what}"));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn same_tree_as_hack_mkrootfs_sh() {
        if fs::metadata(busybox_path()).is_err() {
            eprintln!(
                "no busybox at {}: nothing to compare",
                busybox_path().display()
            );
            return;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/mkrootfs.sh");
        let tmp = tempfile::tempdir().expect("tempdir");
        let (ours, theirs) = (tmp.path().join("rust"), tmp.path().join("sh"));
        build(&ours);
        let st = Command::new(&script)
            .arg(&theirs)
            .status()
            .expect("run mkrootfs.sh");
        assert!(st.success(), "{} failed", script.display());
        let (a, b) = (listing(&ours), listing(&theirs));
        assert!(a.len() > 100, "{a:?}");
        let diff: Vec<_> = a
            .iter()
            .filter(|l| !b.contains(l))
            .chain(b.iter().filter(|l| !a.contains(l)))
            .collect();
        assert!(
            diff.is_empty(),
            "rootfs::build and mkrootfs.sh differ: {diff:#?}"
        );
    }
}
