//! Process attributes set once in init: names, oom score, no_new_privs,
//! umask, session keyring.

use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{umask, Mode};

use crate::error::{Op, SysError, SysResult};

/// `sethostname(2)`.
pub fn set_hostname(name: &str) -> SysResult<()> {
    nix::unistd::sethostname(name).op("sethostname")
}

/// `setdomainname(2)`.
pub fn set_domainname(name: &str) -> SysResult<()> {
    // SAFETY: the pointer and length describe `name`'s bytes, which outlive
    // the call; the kernel copies them.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if ret < 0 {
        return Err(SysError::new("setdomainname", Errno::last()));
    }
    Ok(())
}

/// Writes `/proc/self/oom_score_adj` through a verified procfs handle.
/// Lowering it needs CAP_SYS_RESOURCE.
pub fn set_oom_score_adj(value: i32) -> SysResult<()> {
    crate::procfs::ProcFs::open()?.write_self(Path::new("oom_score_adj"), &value.to_string())
}

/// `prctl(PR_SET_DUMPABLE, 0)`: until it execs, init is the berth binary,
/// and a process of the container (one sharing a joined pid namespace)
/// must not reach it through `/proc/<pid>/exe` or `mem` (CVE-2019-5736's
/// route to overwriting the runtime). execve(2) resets the flag for the
/// container's own program.
pub fn set_non_dumpable() -> SysResult<()> {
    nix::sys::prctl::set_dumpable(false).op("prctl PR_SET_DUMPABLE")
}

/// `prctl(PR_SET_NO_NEW_PRIVS)`.
pub fn set_no_new_privs() -> SysResult<()> {
    nix::sys::prctl::set_no_new_privs().op("prctl PR_SET_NO_NEW_PRIVS")
}

/// `umask(2)`; returns the previous mask.
pub fn set_umask(mask: u32) -> u32 {
    umask(Mode::from_bits_truncate(mask)).bits()
}

/// Joins a new session keyring named `name` (runc: `_ses.<container id>`),
/// so the container does not share the caller's keys (runc
/// `keys.JoinSessionKeyring`). Where keyctl
/// is unavailable (ENOSYS, or blocked by a seccomp profile) this is not an
/// error, as in runc.
pub fn join_session_keyring(name: &str) -> SysResult<()> {
    let cname =
        std::ffi::CString::new(name).map_err(|_| SysError::new("keyctl join", Errno::EINVAL))?;
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING reads the NUL-terminated name we own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            1, /* KEYCTL_JOIN_SESSION_KEYRING */
            cname.as_ptr(),
        )
    };
    if ret < 0 {
        return match Errno::last() {
            Errno::ENOSYS => Ok(()),
            errno => Err(SysError::new("keyctl join session keyring", errno)),
        };
    }
    // runc's permissions: the kernel's default for a session keyring
    // (possessor all; user view, read, link: 0x3f130000) plus user search
    // (`ModKeyringPerm(id, ^0, 0x080000)`).
    // SAFETY: KEYCTL_SETPERM takes a key serial and a permission mask.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            5, /* KEYCTL_SETPERM */
            ret,
            0x3f1b_0000u32,
        )
    };
    if ret < 0 {
        return Err(SysError::new("keyctl setperm", Errno::last()));
    }
    Ok(())
}
