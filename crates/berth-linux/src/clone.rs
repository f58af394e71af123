//! Creating the container's processes: `clone3(2)` used like `fork(2)`.
//!
//! berth never re-executes itself. `create` clones its init straight into
//! the new namespaces (crun does the same, `linux.c` `syscall_clone`); the
//! child runs a closure on its copy of the address space and exits with the
//! closure's return value. This is only sound while the caller is
//! single-threaded, which [`spawn`] checks before it clones.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::error::{SysError, SysResult};
use crate::proc;

/// `CLONE_PIDFD` (linux/sched.h): return a pidfd for the child.
const CLONE_PIDFD: u64 = 0x0000_1000;
/// `CLONE_INTO_CGROUP` (linux/sched.h): start the child in `cgroup`.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// `CLONE_PARENT`: the child's parent is the caller's parent.
pub const CLONE_PARENT: u64 = 0x0000_8000;

/// `struct clone_args` of linux/sched.h, up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// A process made by [`spawn`], seen from its parent.
#[derive(Debug)]
pub struct Child {
    /// Its pid in the caller's pid namespace.
    pub pid: Pid,
    /// A pidfd for it, when one was asked for.
    pub pidfd: Option<OwnedFd>,
}

/// What [`spawn`] is asked to do besides the namespace flags.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options<'a> {
    /// Also return a pidfd for the child.
    pub pidfd: bool,
    /// Make the child a sibling of the caller (`CLONE_PARENT`), so the
    /// caller's parent reaps it.
    pub sibling: bool,
    /// Start the child in this cgroup (`CLONE_INTO_CGROUP`, cgroup v2 only).
    pub cgroup: Option<BorrowedFd<'a>>,
    /// The caller is itself a fork-style child that started no thread, so
    /// the `/proc/self/stat` check is skipped: after joining another mount
    /// and pid namespace, `/proc/self` is not the caller's (`exec`).
    pub known_single_threaded: bool,
}

/// Clones the caller with `ns_flags` (`CLONE_NEW*` bits) and runs `child` in
/// the new process, which exits with `child`'s return value.
///
/// Falls back to `clone(2)` where `clone3(2)` is missing (Linux < 5.3); the
/// fallback cannot start the child in a cgroup.
pub fn spawn(ns_flags: u64, opts: Options<'_>, child: impl FnOnce() -> i32) -> SysResult<Child> {
    if !opts.known_single_threaded && proc::thread_count()? != 1 {
        // A fork-style clone copies only the calling thread; other threads'
        // locks would stay held forever in the child.
        return Err(SysError::new(
            "clone: caller must be single-threaded",
            Errno::EDEADLK,
        ));
    }
    let mut pidfd: RawFd = -1;
    let mut args = clone_args(ns_flags, &opts, &mut pidfd);
    match raw_clone(&mut args, opts.cgroup.is_none()) {
        Err(errno) => Err(SysError::new("clone3", errno)),
        Ok(0) => {
            let code = child();
            // SAFETY: _exit(2) never returns and skips atexit handlers and
            // stdio flushing, which belong to the parent's copy of the state.
            unsafe { libc::_exit(code) }
        }
        Ok(pid) => {
            let pid = i32::try_from(pid).map_err(|_| SysError::new("clone3", Errno::EOVERFLOW))?;
            parent_side(Pid::from_raw(pid), pidfd, opts.pidfd)
        }
    }
}

/// The `clone_args` for `spawn`; the kernel writes the pidfd to `pidfd`.
fn clone_args(ns_flags: u64, opts: &Options<'_>, pidfd: &mut RawFd) -> CloneArgs {
    let mut args = CloneArgs {
        flags: ns_flags,
        pidfd: std::ptr::from_mut(pidfd) as u64,
        // SIGCHLD tells the parent of the exit. With CLONE_PARENT clone3
        // requires 0: the child then inherits the caller's exit signal.
        exit_signal: if opts.sibling {
            0
        } else {
            libc::SIGCHLD as u64
        },
        ..CloneArgs::default()
    };
    if opts.pidfd {
        args.flags |= CLONE_PIDFD;
    }
    if opts.sibling {
        args.flags |= CLONE_PARENT;
    }
    if let Some(cgroup) = opts.cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = u64::try_from(cgroup.as_raw_fd()).unwrap_or_default();
    }
    args
}

/// clone3(2), or clone(2) when the kernel lacks clone3 and `legacy_ok`.
/// Returns 0 in the child and the child's pid in the parent.
fn raw_clone(args: &mut CloneArgs, legacy_ok: bool) -> Result<i64, Errno> {
    // SAFETY: `args` is a valid, fully initialised clone_args of the size we
    // pass, and lives across the call; `args.pidfd` points at a live i32
    // owned by `spawn`. No CLONE_VM and no stack are given, so the child runs
    // on its own copy of the address space and of this stack, exactly like
    // fork(2). `spawn` checked the process is single-threaded, so no lock can
    // be held by a thread that does not exist in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            std::ptr::from_mut(args),
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret != -1 {
        return Ok(ret);
    }
    if Errno::last() != Errno::ENOSYS || !legacy_ok {
        return Err(Errno::last());
    }
    let legacy = (args.flags & !CLONE_PIDFD) | args.exit_signal;
    // SAFETY: as above, fork semantics: no CLONE_VM, no new stack (0), and no
    // parent/child tid or tls pointers are requested.
    let ret = unsafe { libc::syscall(libc::SYS_clone, legacy, 0usize, 0usize, 0usize, 0usize) };
    if ret == -1 {
        Err(Errno::last())
    } else {
        Ok(ret)
    }
}

/// The parent's view of the new child: its pid and, if asked, a pidfd.
fn parent_side(pid: Pid, pidfd: RawFd, want_pidfd: bool) -> SysResult<Child> {
    let pidfd = if pidfd >= 0 {
        // SAFETY: the kernel just created this fd for us (CLONE_PIDFD);
        // nothing else owns it.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd) })
    } else if want_pidfd {
        // The clone(2) fallback gives no pidfd.
        Some(crate::pidfd::open(pid)?)
    } else {
        None
    };
    Ok(Child { pid, pidfd })
}
