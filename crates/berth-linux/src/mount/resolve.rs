//! Resolving and creating paths inside the rootfs without ever leaving it.
//!
//! Every mount target, device node and masked path is opened with
//! `openat2(RESOLVE_IN_ROOT)` relative to a directory fd of the rootfs, so
//! a symlink such as `rootfs/dev -> /etc` resolves to `rootfs/etc`, never to
//! the host's `/etc` (CVE-2024-21626 and runc's securejoin lineage). The
//! kernel call is then made on `/proc/self/fd/<fd>`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, openat, readlinkat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{mkdirat, Mode};

use crate::error::{Op, SysError, SysResult};
use crate::openat2::open as openat2;

/// What to create when the path does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Nothing: a missing path is an error.
    Nothing,
    /// A directory, with missing parents.
    Dir,
    /// An empty regular file, with missing parent directories.
    File,
}

/// An open directory that paths are resolved under, as if it were `/`.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl RootDir {
    /// Opens `path` (a host path) as the root to resolve under.
    pub fn open(path: &Path) -> SysResult<Self> {
        let fd = open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .op_at("open", path)?;
        Ok(RootDir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The host path this root was opened at, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The host path of `inner` (a path inside the root), for messages only.
    pub fn display(&self, inner: &Path) -> PathBuf {
        self.path.join(relative(inner))
    }

    /// Opens `inner` with `O_PATH`, creating it as asked.
    pub fn resolve(&self, inner: &Path, create: Create) -> SysResult<OwnedFd> {
        self.resolve_within(inner, create, 0)
    }

    /// Opens `inner` with `O_PATH` without following a final symlink (the
    /// fd is then the symlink itself), creating it as asked.
    pub fn resolve_nofollow(&self, inner: &Path, create: Create) -> SysResult<OwnedFd> {
        let rel = relative(inner);
        let open = || {
            let how = OpenHow::new()
                .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
                .resolve(Self::resolve_flags());
            openat2(self.fd.as_fd(), &rel, how)
        };
        match open() {
            Err(Errno::ENOENT) if create != Create::Nothing => {
                self.create(&rel, create, 0)?;
                open().op_at("open", &self.display(inner))
            }
            found => found.op_at("open", &self.display(inner)),
        }
    }

    fn resolve_within(&self, inner: &Path, create: Create, depth: u32) -> SysResult<OwnedFd> {
        let rel = relative(inner);
        match self.lookup(&rel) {
            Err(Errno::ENOENT) if create != Create::Nothing => {
                self.create(&rel, create, depth)?;
                self.lookup(&rel).op_at("open", &self.display(inner))
            }
            found => found.op_at("open", &self.display(inner)),
        }
    }

    /// Opens `inner` for reading or writing (`flags` must not create).
    pub fn open_file(&self, inner: &Path, flags: OFlag) -> SysResult<OwnedFd> {
        let how = OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOCTTY)
            .resolve(Self::resolve_flags());
        openat2(self.fd.as_fd(), &relative(inner), how).op_at("open", &self.display(inner))
    }

    fn resolve_flags() -> ResolveFlag {
        ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS
    }

    fn lookup(&self, rel: &Path) -> nix::Result<OwnedFd> {
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
            .resolve(Self::resolve_flags());
        openat2(self.fd.as_fd(), rel, how)
    }

    fn create(&self, rel: &Path, create: Create, depth: u32) -> SysResult<()> {
        let shown = self.path.join(rel);
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return Err(SysError::at("create", shown, Errno::EINVAL));
        };
        let parent = Path::new("/").join(parent);
        let parent_fd = self.resolve_within(&parent, Create::Dir, depth)?;
        let made = match create {
            Create::Dir => mkdirat(parent_fd.as_fd(), name, Mode::from_bits_truncate(0o755)),
            Create::File => openat(
                parent_fd.as_fd(),
                name,
                OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_WRONLY
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o644),
            )
            .map(drop),
            Create::Nothing => Ok(()),
        };
        match made {
            Ok(()) => Ok(()),
            // A dangling symlink: create what it points to, inside the root
            // (as securejoin's MkdirAll does for runc).
            Err(Errno::EEXIST) => match readlinkat(parent_fd.as_fd(), name) {
                Ok(target) if depth < MAX_SYMLINKS => self
                    .resolve_within(&parent.join(target), create, depth + 1)
                    .map(drop),
                Ok(_) => Err(SysError::at("create", shown, Errno::ELOOP)),
                Err(_) => Ok(()),
            },
            Err(errno) => Err(SysError::at(
                if create == Create::Dir {
                    "mkdir"
                } else {
                    "create"
                },
                shown,
                errno,
            )),
        }
    }
}

/// How many dangling symlinks [`RootDir::resolve`] follows to create their
/// targets before giving up (the kernel's own limit is 40).
const MAX_SYMLINKS: u32 = 40;

/// `/proc/self/fd/<fd>`: the path through which a syscall that takes only a
/// path reaches exactly the file we resolved.
pub fn fd_path(fd: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// `inner` without its root, as a relative path (`/` becomes `.`).
fn relative(inner: &Path) -> PathBuf {
    // `..` is kept: RESOLVE_IN_ROOT stops it at the root.
    let rel: PathBuf = inner
        .components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect();
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn creates_dirs_and_files_inside() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = RootDir::open(tmp.path()).expect("open root");
        root.resolve(Path::new("/a/b/c"), Create::Dir)
            .expect("mkdir -p");
        assert!(tmp.path().join("a/b/c").is_dir());
        root.resolve(Path::new("/x/y/file"), Create::File)
            .expect("touch");
        assert!(tmp.path().join("x/y/file").is_file());
        let err = root
            .resolve(Path::new("/missing"), Create::Nothing)
            .expect_err("no create");
        assert_eq!(err.errno, Errno::ENOENT);
    }

    #[test]
    fn absolute_symlink_stays_inside_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        std::fs::create_dir(tmp.path().join("rootfs")).expect("mkdir");
        symlink(outside.path(), tmp.path().join("rootfs/escape")).expect("symlink");
        let root = RootDir::open(&tmp.path().join("rootfs")).expect("open root");
        root.resolve(Path::new("/escape/inner"), Create::Dir)
            .expect("mkdir through symlink");
        // The symlink's target was recreated under the root, not outside it.
        assert!(std::fs::read_dir(outside.path())
            .expect("read")
            .next()
            .is_none());
        let inside = tmp
            .path()
            .join("rootfs")
            .join(outside.path().strip_prefix("/").expect("abs"))
            .join("inner");
        assert!(inside.is_dir(), "{} should exist", inside.display());
    }

    #[test]
    fn dotdot_cannot_climb_out() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("rootfs")).expect("mkdir");
        symlink("../../../../..", tmp.path().join("rootfs/up")).expect("symlink");
        let root = RootDir::open(&tmp.path().join("rootfs")).expect("open root");
        root.resolve(Path::new("/up/made-here"), Create::Dir)
            .expect("mkdir");
        assert!(tmp.path().join("rootfs/made-here").is_dir());
    }
}
