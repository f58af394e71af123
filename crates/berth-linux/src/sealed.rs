//! Running from a sealed in-memory copy of the berth binary.
//!
//! A container that can see a berth process (a waiting init in a shared
//! pid namespace, or `/proc/self/exe` as its entrypoint, which makes init
//! exec berth itself inside the container) can open `/proc/<pid>/exe` and,
//! once that process is gone, write through the fd to the file it names:
//! the host's berth binary, which the next `berth` command would run as
//! root (CVE-2019-5736). So the commands that start container processes
//! first re-execute themselves from a `memfd` copy sealed against every
//! change (`F_SEAL_WRITE|SHRINK|GROW|SEAL`, and `EXEC` where the kernel
//! has it): `/proc/<pid>/exe` then names that copy, which nobody can
//! modify, and no berth process a container can reach holds an fd to the
//! host's binary. crun does the same; runc 1.1 does it with a copy too.
//!
//! Copying costs: ~5 ms of sendfile for berth's 3.5 MB, and as much again
//! to free the pages at exit. Where berth may mount (root, Linux 5.12+) it
//! uses a detached, read-only bind mount of the binary instead
//! (`open_tree(OPEN_TREE_CLONE)` + `mount_setattr(MOUNT_ATTR_RDONLY)`). It
//! is attached nowhere, so no namespace can remount it, and every path to
//! the file that `/proc/<pid>/exe` gives goes through that mount: opening
//! it for writing fails with EROFS. The process moves onto it in place
//! ([`crate::exe_remap`]); should that fail, it execs through the mount's
//! fd, as runc 1.2 does. A binary already on a read-only mount needs
//! neither. The memfd copy is the fallback (rootless, old kernels).

use std::convert::Infallible;
use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::error::{Op, SysError, SysResult};

/// The seals every sealed copy carries (F_SEAL_EXEC is added on top where
/// the kernel knows it, Linux 6.3+).
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// `MFD_EXEC` (linux/memfd.h, 6.3+): asks for an executable memfd even
/// where `vm.memfd_noexec` would default to non-executable.
const MFD_EXEC: libc::c_uint = 0x0010;

/// Returns at once when the running binary is a sealed copy or on a
/// read-only mount, and after moving the process onto a read-only bind
/// mount of its binary; otherwise execs itself, with the same arguments
/// and environment, from that mount or a sealed memfd copy (returning only
/// on failure).
pub fn ensure_sealed() -> SysResult<()> {
    let exe = open_self_exe()?;
    if seals_of(&exe).is_some_and(|s| s & SEALS == SEALS) || on_readonly_mount(&exe) {
        return Ok(());
    }
    if let Some(ro) = readonly_clone() {
        drop(exe);
        if crate::exe_remap::remap_onto(&ro).is_ok() && runs_from_readonly() {
            return Ok(());
        }
        // Should the exec itself fail, the copy below still protects us.
        let _ = exec_fd(&ro);
        tracing::debug!("exec from a read-only bind mount failed; copying");
        let exe = open_self_exe()?;
        let copy = sealed_copy(&exe)?;
        drop(exe);
        match exec_fd(&copy)? {}
    }
    let copy = sealed_copy(&exe)?;
    drop(exe);
    match exec_fd(&copy)? {}
}

/// Whether `/proc/self/exe` now opens on a read-only mount.
fn runs_from_readonly() -> bool {
    open_self_exe().is_ok_and(|exe| on_readonly_mount(&exe))
}

/// Whether `fd`'s mount is read-only (`ST_RDONLY`).
fn on_readonly_mount(fd: &OwnedFd) -> bool {
    nix::sys::statvfs::fstatvfs(fd.as_fd())
        .is_ok_and(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// A detached read-only bind mount of `/proc/self/exe`; `None` where we
/// may not mount or the kernel lacks the calls.
fn readonly_clone() -> Option<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: u64 = 1;
    /// `struct mount_attr` (linux/mount.h).
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let path = c"/proc/self/exe";
    let flags = OPEN_TREE_CLONE | libc::c_uint::try_from(libc::O_CLOEXEC).ok()?;
    // SAFETY: `path` is a valid C string; open_tree returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: open_tree returned a new fd that nothing else owns.
    let fd = unsafe { <OwnedFd as FromRawFd>::from_raw_fd(fd) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: `attr` is a valid mount_attr of the size passed; "" with
    // AT_EMPTY_PATH names the detached mount of `fd` itself.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    (ret == 0).then_some(fd)
}

/// A sealed memfd holding the bytes of `exe`.
pub fn sealed_copy(exe: &OwnedFd) -> SysResult<OwnedFd> {
    let memfd = memfd("berth")?;
    copy_all(exe, &memfd)?;
    // SAFETY: F_ADD_SEALS takes an int argument and touches no memory.
    let with_exec = unsafe {
        libc::fcntl(
            memfd.as_raw_fd(),
            libc::F_ADD_SEALS,
            SEALS | libc::F_SEAL_EXEC,
        )
    };
    if with_exec < 0 {
        // SAFETY: as above; kernels before 6.3 refuse F_SEAL_EXEC (EINVAL).
        let ret = unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) };
        if ret < 0 {
            return Err(SysError::new("fcntl F_ADD_SEALS", Errno::last()));
        }
    }
    Ok(memfd)
}

fn open_self_exe() -> SysResult<OwnedFd> {
    let path = Path::new("/proc/self/exe");
    open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).op_at("open", path)
}

/// The seals of `fd`; `None` for a file that cannot carry seals.
fn seals_of(fd: &OwnedFd) -> Option<libc::c_int> {
    // SAFETY: F_GET_SEALS takes no argument and touches no memory.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    (ret >= 0).then_some(ret)
}

fn memfd(name: &str) -> SysResult<OwnedFd> {
    let name = CString::new(name).map_err(|_| SysError::new("memfd_create", Errno::EINVAL))?;
    let base = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    for flags in [base | MFD_EXEC, base] {
        // SAFETY: `name` is a valid C string that outlives the call.
        let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: memfd_create returned a new fd that nothing else owns.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        // EINVAL: a kernel before 6.3 that does not know MFD_EXEC.
        if Errno::last() != Errno::EINVAL {
            break;
        }
    }
    Err(SysError::new("memfd_create", Errno::last()))
}

/// Copies all of `from` (from offset 0) into `to` with sendfile(2).
fn copy_all(from: &OwnedFd, to: &OwnedFd) -> SysResult<()> {
    let size = nix::sys::stat::fstat(from.as_fd())
        .op("fstat /proc/self/exe")?
        .st_size;
    let mut left = usize::try_from(size).map_err(|_| SysError::new("fstat", Errno::EFBIG))?;
    let mut offset: libc::off_t = 0;
    while left > 0 {
        // SAFETY: both fds are open for the call; `offset` is a valid
        // off_t the kernel advances.
        let n = unsafe { libc::sendfile(to.as_raw_fd(), from.as_raw_fd(), &mut offset, left) };
        match n {
            n if n > 0 => left -= n.unsigned_abs(),
            0 => return Err(SysError::new("sendfile binary copy", Errno::EIO)),
            _ if Errno::last() == Errno::EINTR => {}
            _ => return Err(SysError::new("sendfile binary copy", Errno::last())),
        }
    }
    Ok(())
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)` with this process's
/// arguments and environment.
fn exec_fd(fd: &OwnedFd) -> SysResult<Infallible> {
    let to_c = |s: OsString| CString::new(s.as_bytes()).ok();
    let args: Vec<CString> = std::env::args_os().filter_map(to_c).collect();
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            to_c(kv)
        })
        .collect();
    let argv: Vec<*mut libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr().cast_mut())
        .chain(std::iter::once(std::ptr::null_mut()))
        .collect();
    let envp: Vec<*mut libc::c_char> = env
        .iter()
        .map(|e| e.as_ptr().cast_mut())
        .chain(std::iter::once(std::ptr::null_mut()))
        .collect();
    // SAFETY: argv and envp are NULL-terminated arrays of pointers to C
    // strings (`args`, `env`) that outlive the call and that execveat only
    // reads (the `*mut` is libc's signature); "" with AT_EMPTY_PATH
    // execs the fd itself. On success the call does not return.
    unsafe {
        libc::execveat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    Err(SysError::new(
        "execveat sealed copy of berth",
        Errno::last(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    #[test]
    fn sealed_copy_has_the_bytes_and_refuses_writes() {
        let mut src = tempfile::tempfile().expect("temp file");
        src.write_all(b"\x7fELF not really").expect("write");
        src.rewind().expect("rewind");
        let src: OwnedFd = src.into();
        let copy = sealed_copy(&src).expect("copy");
        let seals = seals_of(&copy).expect("memfd has seals");
        assert_eq!(seals & SEALS, SEALS);
        let mut file = std::fs::File::from(copy);
        file.rewind().expect("rewind");
        let mut text = Vec::new();
        file.read_to_end(&mut text).expect("read");
        assert_eq!(text, b"\x7fELF not really");
        let err = file.write_all(b"x").expect_err("sealed");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        assert!(seals_of(&src).is_none());
    }
}
