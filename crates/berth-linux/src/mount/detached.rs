//! Detached mount trees: `open_tree(OPEN_TREE_CLONE)` takes a copy of a
//! bind source while the caller can still reach it (before a user
//! namespace whose root could not traverse the path), and `move_mount`
//! attaches it later, from the fd alone (the path is never looked up
//! again). runc opens its bind sources early for the same reason.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;

use crate::error::{SysError, SysResult};

use super::flags::Attr;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const AT_EMPTY_PATH: libc::c_uint = 0x1000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;

/// A detached copy of the mount tree at `source` (only the mount at that
/// path, or with `recursive` everything below it too), close-on-exec.
pub fn clone_tree(source: &Path, recursive: bool) -> SysResult<OwnedFd> {
    let path = CString::new(source.as_os_str().as_bytes())
        .map_err(|_| SysError::at("open_tree", source, Errno::EINVAL))?;
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    open_tree(libc::AT_FDCWD, &path, rec, source)
}

/// A detached bind of the very file or directory open at `fd` (no path is
/// looked up: `AT_EMPTY_PATH`), close-on-exec. `shown` names it in errors.
pub fn clone_fd(fd: BorrowedFd<'_>, shown: &Path) -> SysResult<OwnedFd> {
    open_tree(fd.as_raw_fd(), c"", AT_EMPTY_PATH, shown)
}

/// A detached copy of the mount tree at the file or directory open at
/// `fd` (with `recursive`, the mounts below it too): `readonlyPaths`
/// binds a path onto itself this way, with no second lookup.
pub fn clone_at(fd: BorrowedFd<'_>, recursive: bool, shown: &Path) -> SysResult<OwnedFd> {
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    open_tree(fd.as_raw_fd(), c"", AT_EMPTY_PATH | rec, shown)
}

/// Changes the mount whose root is open at `fd` (detached or attached)
/// with mount_setattr(2); `recursive` for the mounts below it too.
pub fn set_attr(fd: BorrowedFd<'_>, attr: Attr, recursive: bool, shown: &Path) -> SysResult<()> {
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    let raw = libc::mount_attr {
        attr_set: attr.set,
        attr_clr: attr.clr,
        propagation: attr.propagation,
        userns_fd: 0,
    };
    tracing::debug!(target = %shown.display(), ?attr, recursive, "mount_setattr");
    // SAFETY: mount_setattr(2) reads `raw`, a valid `struct mount_attr` of
    // the size passed, and the empty C string; it writes no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            AT_EMPTY_PATH | rec,
            &raw as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if ret < 0 {
        return Err(SysError::at("mount_setattr", shown, Errno::last()));
    }
    Ok(())
}

/// open_tree(2) with `OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC` and `extra`.
fn open_tree(
    dirfd: libc::c_int,
    path: &std::ffi::CStr,
    extra: libc::c_uint,
    shown: &Path,
) -> SysResult<OwnedFd> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | extra;
    // SAFETY: open_tree(2) reads the NUL-terminated path we borrow and
    // returns a new fd or -1; no other memory is touched.
    let ret = unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) };
    if ret < 0 {
        return Err(SysError::at("open_tree", shown, Errno::last()));
    }
    let fd = i32::try_from(ret).map_err(|_| SysError::at("open_tree", shown, Errno::EBADF))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attaches the detached tree `tree` on the directory or file open at
/// `target` (an `O_PATH` fd from [`super::RootDir::resolve`]). `shown`
/// names the target in errors. Afterwards `tree` is the attached mount:
/// what is still to be changed on it goes through that fd, never through
/// the path.
pub fn attach(tree: BorrowedFd<'_>, target: BorrowedFd<'_>, shown: &Path) -> SysResult<()> {
    let empty = c"";
    tracing::debug!(target = %shown.display(), "move_mount");
    // SAFETY: move_mount(2) on two fds we borrow, with empty paths (the
    // fds themselves are the source and target); no memory is written.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if ret < 0 {
        return Err(SysError::at("move_mount", shown, Errno::last()));
    }
    Ok(())
}
