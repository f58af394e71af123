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
/// names the target in errors.
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
