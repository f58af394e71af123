//! A verified handle on the host's procfs, opened before init enters the
//! container's mount namespace, for every write berth makes to `/proc`.
//!
//! After `pivot_root` a path such as `/proc/self/attr/exec` is resolved by
//! the container's `/proc`, which the image or the config may have replaced
//! (CVE-2019-16884, CVE-2025-52881: a bind mount over `/proc`, symlinks to a
//! decoy). [`ProcFs::open`] checks that `/proc` is the root of a procfs
//! (`fstatfs` says `PROC_SUPER_MAGIC`, inode 1); every file is then opened
//! beneath it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)` and checked to be on procfs
//! too. Only `self` (a plain symlink to the caller's pid) is followed, in
//! its own step.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, Mode};
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC};

use crate::error::{Op, SysError, SysResult};

/// `PROC_ROOT_INO` (fs/proc/root.c): the inode of a procfs root.
const PROC_ROOT_INO: u64 = 1;

/// An fd of a procfs root, checked.
#[derive(Debug)]
pub struct ProcFs {
    root: OwnedFd,
}

impl ProcFs {
    /// Opens and checks `/proc`.
    pub fn open() -> SysResult<Self> {
        Self::open_at(Path::new("/proc"))
    }

    /// Opens and checks `path` as a procfs root.
    pub fn open_at(path: &Path) -> SysResult<Self> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let root = open(path, flags, Mode::empty()).op_at("open", path)?;
        on_procfs(&root, path)?;
        let ino = fstat(root.as_fd()).op_at("fstat", path)?.st_ino;
        if ino != PROC_ROOT_INO {
            return Err(SysError::at(
                "not the root of a procfs:",
                path,
                Errno::EXDEV,
            ));
        }
        Ok(ProcFs { root })
    }

    /// Opens `rel` (e.g. `sys/net/ipv4/ip_forward`, `1234/uid_map`) beneath
    /// the root, following no symlink, staying on procfs.
    pub fn open_file(&self, rel: &Path, flags: OFlag) -> SysResult<OwnedFd> {
        beneath(&self.root, rel, flags, &Path::new("/proc").join(rel))
    }

    /// Opens `rel` beneath `/proc/self` (the calling process).
    pub fn open_self(&self, rel: &Path, flags: OFlag) -> SysResult<OwnedFd> {
        let display = Path::new("/proc/self").join(rel);
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS
                    | ResolveFlag::RESOLVE_NO_XDEV,
            );
        let me = crate::openat2::open(self.root.as_fd(), "self", how)
            .op_at("open", Path::new("/proc/self"))?;
        beneath(&me, rel, flags, &display)
    }

    /// Writes `text` in one write(2) to `rel` beneath the root.
    pub fn write(&self, rel: &Path, text: &str) -> SysResult<()> {
        let fd = self.open_file(rel, OFlag::O_WRONLY)?;
        write_all(fd, text, &Path::new("/proc").join(rel))
    }

    /// Writes `text` in one write(2) to `rel` beneath `/proc/self`.
    pub fn write_self(&self, rel: &Path, text: &str) -> SysResult<()> {
        let fd = self.open_self(rel, OFlag::O_WRONLY)?;
        write_all(fd, text, &Path::new("/proc/self").join(rel))
    }
}

fn beneath(dir: &OwnedFd, rel: &Path, flags: OFlag, display: &Path) -> SysResult<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        );
    let fd = crate::openat2::open(dir.as_fd(), rel, how).op_at("open", display)?;
    on_procfs(&fd, display)?;
    Ok(fd)
}

fn on_procfs(fd: &OwnedFd, display: &Path) -> SysResult<()> {
    let fs = fstatfs(fd.as_fd()).op_at("fstatfs", display)?;
    if fs.filesystem_type() != PROC_SUPER_MAGIC {
        return Err(SysError::at("not on procfs:", display, Errno::EXDEV));
    }
    Ok(())
}

fn write_all(fd: OwnedFd, text: &str, display: &Path) -> SysResult<()> {
    // These files take their whole content in one write(2) only.
    std::fs::File::from(fd)
        .write_all(text.as_bytes())
        .op_at("write", display)
}

/// `/proc/sys/<key with dots as slashes>`, relative to the procfs root.
pub fn sysctl_path(key: &str) -> PathBuf {
    Path::new("sys").join(key.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_is_not_procfs_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = ProcFs::open_at(dir.path()).expect_err("not procfs");
        assert_eq!(err.errno, Errno::EXDEV);
    }

    #[test]
    fn sysctl_keys_become_paths() {
        assert_eq!(
            sysctl_path("net.ipv4.ip_forward"),
            Path::new("sys/net/ipv4/ip_forward")
        );
    }
}
