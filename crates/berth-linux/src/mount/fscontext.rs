//! New filesystems made detached: `fsopen(2)`, one `fsconfig(2)` call per
//! option, `FSCONFIG_CMD_CREATE`, then `fsmount(2)` with the mount's
//! attributes. The result is a mount attached nowhere, to be shaped with
//! `mount_setattr` and attached with `move_mount` ([`super::detached`]).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::flags::{sb_flags, Param};
use crate::error::SysError;

/// Why a new filesystem could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The filesystem refused one option of the entry.
    #[error("{fstype} option {option:?} for {}{}", path.display(), detail(message))]
    Option {
        /// The filesystem type, e.g. `tmpfs`.
        fstype: String,
        /// The option as written in `mounts[].options` (`mode=xyz`).
        option: String,
        /// The destination, as a host path.
        path: PathBuf,
        /// What the kernel wrote to the filesystem context's log, if anything.
        message: String,
        /// What fsconfig(2) returned.
        #[source]
        errno: Errno,
    },
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

impl Error {
    /// The errno behind the error.
    pub fn errno(&self) -> Errno {
        match self {
            Error::Sys(e) => e.errno,
            Error::Option { errno, .. } => *errno,
        }
    }
}

/// What a new mount is made of.
pub struct Fresh<'a> {
    /// `type`, e.g. `tmpfs`.
    pub fstype: &'a str,
    /// `source`, e.g. `tmpfs` or a device path.
    pub source: &'a str,
    /// The superblock flags among the entry's `MS_*` flags.
    pub flags: u64,
    /// The options, one fsconfig parameter each.
    pub params: Vec<Param<'a>>,
    /// `MOUNT_ATTR_*` attributes for fsmount(2).
    pub attrs: u64,
}

/// Makes the filesystem `fresh` describes, mounted nowhere yet; `shown`
/// (the destination) names it in errors. The fd is close-on-exec.
pub fn new_mount(fresh: &Fresh<'_>, shown: &Path) -> Result<OwnedFd, Error> {
    tracing::debug!(target = %shown.display(), fstype = fresh.fstype, params = ?fresh.params, "fsopen");
    let ctx = fsopen(fresh.fstype, shown)?;
    let set = |p: &Param<'_>| set_param(&ctx, p, fresh.fstype, shown);
    set(&Param::Str("source", fresh.source))?;
    sb_flags(fresh.flags)
        .into_iter()
        .try_for_each(|f| set(&Param::Flag(f)))?;
    fresh.params.iter().try_for_each(set)?;
    // SAFETY: FSCONFIG_CMD_CREATE takes no key or value (NULL, 0).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    if ret < 0 {
        let errno = Errno::last();
        let message = log(&ctx);
        return Err(option_error(
            fresh.fstype,
            "(create)",
            shown,
            message,
            errno,
        ));
    }
    // SAFETY: fsmount(2) on the context fd we own; flags and attributes
    // are plain integers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            ctx.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            fresh.attrs,
        )
    };
    owned(ret, "fsmount", shown).map_err(Error::from)
}

fn option_error(fstype: &str, option: &str, path: &Path, message: String, errno: Errno) -> Error {
    Error::Option {
        fstype: fstype.to_string(),
        option: option.to_string(),
        path: path.to_path_buf(),
        message,
        errno,
    }
}

fn fsopen(fstype: &str, shown: &Path) -> Result<OwnedFd, SysError> {
    let name = CString::new(fstype).map_err(|_| SysError::at("fsopen", shown, Errno::EINVAL))?;
    // SAFETY: fsopen(2) reads the NUL-terminated name and returns an fd.
    let ret = unsafe { libc::syscall(libc::SYS_fsopen, name.as_ptr(), libc::FSOPEN_CLOEXEC) };
    owned(ret, "fsopen", shown)
}

/// One fsconfig(2) call; a refusal carries the kernel's own explanation.
fn set_param(ctx: &OwnedFd, p: &Param<'_>, fstype: &str, shown: &Path) -> Result<(), Error> {
    let bad = |errno| option_error(fstype, &p.text(), shown, String::new(), errno);
    let (cmd, key, value) = match p {
        Param::Flag(key) => (libc::FSCONFIG_SET_FLAG, *key, None),
        Param::Str(key, value) => (libc::FSCONFIG_SET_STRING, *key, Some(*value)),
    };
    let key = CString::new(key).map_err(|_| bad(Errno::EINVAL))?;
    let value = value
        .map(CString::new)
        .transpose()
        .map_err(|_| bad(Errno::EINVAL))?;
    let value_ptr = value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
    // SAFETY: fsconfig(2) reads the NUL-terminated key and value (or NULL
    // for a flag), both alive across the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            cmd,
            key.as_ptr(),
            value_ptr,
            0,
        )
    };
    if ret < 0 {
        let errno = Errno::last();
        return Err(option_error(fstype, &p.text(), shown, log(ctx), errno));
    }
    Ok(())
}

/// The messages the kernel left in the filesystem context's log (each
/// read returns one, prefixed `e `, `w ` or `i `), joined.
fn log(ctx: &OwnedFd) -> String {
    let mut lines = Vec::new();
    let mut buf = [0u8; 512];
    // The kernel keeps at most 8 messages.
    for _ in 0..8 {
        match nix::unistd::read(ctx, &mut buf) {
            Ok(n) if n > 0 => {
                let text = String::from_utf8_lossy(&buf[..n]);
                let text = text.trim_end();
                lines.push(text.get(2..).unwrap_or(text).to_string());
            }
            _ => break,
        }
    }
    lines.join("; ")
}

/// The fd a syscall returned, owned; -1 becomes the errno.
fn owned(ret: libc::c_long, op: &'static str, shown: &Path) -> Result<OwnedFd, SysError> {
    if ret < 0 {
        return Err(SysError::at(op, shown, Errno::last()));
    }
    let fd = i32::try_from(ret).map_err(|_| SysError::at(op, shown, Errno::EBADF))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
