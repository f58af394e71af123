//! Namespaces: checking a path names the right kind, joining, unsharing.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_spec::plan::NsKind;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

use crate::error::{Op, SysError};

/// `NS_GET_NSTYPE` (linux/nsfs.h): `_IO(0xb7, 0x3)`.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Why a namespace path cannot be joined.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused (missing file, not a namespace file…).
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The file is a namespace of another kind.
    #[error("{path} is a {found} namespace, not {expected}")]
    WrongKind {
        /// The path given.
        path: PathBuf,
        /// The kind the config asked for.
        expected: &'static str,
        /// The kind the file is.
        found: &'static str,
    },
}

/// Opens the namespace file at `path` and checks that it is of `kind`,
/// returning the fd to pass to [`join`].
pub fn open_checked(path: &Path, kind: NsKind) -> Result<OwnedFd, Error> {
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .op_at("open namespace", path)?;
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd, which is open.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
    if ret < 0 {
        let errno = Errno::last();
        // ENOTTY: not an nsfs file at all.
        return Err(SysError::at("NS_GET_NSTYPE", path, errno).into());
    }
    let found = NsKind::ALL
        .into_iter()
        .find(|k| k.clone_flag() == u64::from(ret.unsigned_abs()));
    match found {
        Some(found) if found == kind => Ok(fd),
        found => Err(Error::WrongKind {
            path: path.to_path_buf(),
            expected: kind.name(),
            found: found.map_or("unknown", NsKind::name),
        }),
    }
}

/// `setns(2)` into the namespace open at `fd`.
pub fn join(fd: impl AsFd, kind: NsKind) -> Result<(), SysError> {
    let flag = clone_flags(kind.clone_flag());
    nix::sched::setns(fd, flag).map_err(|errno| SysError::new(setns_op(kind), errno))
}

/// The `CLONE_NEW*` flags of the namespaces process `pid` is in that this
/// process is not: what `exec` must join. A namespace file missing on
/// either side (a kernel without that kind) is skipped.
pub fn differing(pid: nix::unistd::Pid) -> Result<u64, SysError> {
    let mut flags = 0;
    for kind in NsKind::ALL {
        let theirs = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name()));
        let ours = PathBuf::from(format!("/proc/self/ns/{}", kind.proc_name()));
        let id = |p: &Path| match nix::sys::stat::stat(p) {
            Ok(st) => Ok(Some((st.st_dev, st.st_ino))),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(SysError::at("stat", p, errno)),
        };
        if let (Some(a), Some(b)) = (id(&theirs)?, id(&ours)?) {
            if a != b {
                flags |= kind.clone_flag();
            }
        }
    }
    Ok(flags)
}

/// `setns(2)` with a pidfd: joins every namespace in `flags` of the process
/// `pidfd` refers to, in one atomic step (the kernel enters the user
/// namespace first). A pid or time namespace applies to children only.
pub fn join_process(pidfd: impl AsFd, flags: u64) -> Result<(), SysError> {
    if flags == 0 {
        return Ok(());
    }
    nix::sched::setns(pidfd, clone_flags(flags)).op("setns pidfd")
}

/// `unshare(2)` with `flags` (`CLONE_NEW*` bits).
pub fn unshare(flags: u64) -> Result<(), SysError> {
    if flags == 0 {
        return Ok(());
    }
    nix::sched::unshare(clone_flags(flags)).op("unshare")
}

/// `CloneFlags` from raw bits (namespace bits all fit in a c_int).
fn clone_flags(bits: u64) -> CloneFlags {
    // retain: nix has no CLONE_NEWTIME constant, truncation would drop it.
    CloneFlags::from_bits_retain(i32::try_from(bits).unwrap_or_default())
}

fn setns_op(kind: NsKind) -> &'static str {
    match kind {
        NsKind::Pid => "setns pid",
        NsKind::Network => "setns network",
        NsKind::Mount => "setns mount",
        NsKind::Ipc => "setns ipc",
        NsKind::Uts => "setns uts",
        NsKind::User => "setns user",
        NsKind::Cgroup => "setns cgroup",
        NsKind::Time => "setns time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespaces_have_their_kind() {
        for kind in NsKind::ALL {
            let path = PathBuf::from(format!("/proc/self/ns/{}", kind.proc_name()));
            if !path.exists() {
                continue;
            }
            open_checked(&path, kind).expect("own namespace opens as its kind");
        }
    }

    #[test]
    fn we_differ_from_ourselves_in_nothing() {
        assert_eq!(differing(nix::unistd::Pid::this()).expect("stat"), 0);
        join_process(
            crate::pidfd::open(nix::unistd::Pid::this()).expect("pidfd"),
            0,
        )
        .expect("joining nothing is a no-op");
    }

    #[test]
    fn wrong_kind_is_named() {
        let err =
            open_checked(Path::new("/proc/self/ns/uts"), NsKind::Pid).expect_err("uts is not pid");
        assert_eq!(
            err.to_string(),
            "/proc/self/ns/uts is a uts namespace, not pid"
        );
    }

    #[test]
    fn a_plain_file_is_not_a_namespace() {
        let err = open_checked(Path::new("/proc/self/stat"), NsKind::Pid).expect_err("not nsfs");
        assert!(
            err.to_string().starts_with("NS_GET_NSTYPE /proc/self/stat"),
            "{err}"
        );
    }
}
