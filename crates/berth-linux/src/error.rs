//! The one error every kernel call in this crate turns into.
//!
//! A failed system call becomes a [`SysError`] naming the operation and,
//! where there is one, the path it concerned, so a message reads like
//! `mount /proc: EPERM: Operation not permitted` (runc
//! `internal/linux/linux.go`). The errno is the `#[source]`; Display gives
//! only this layer's context.

use std::fmt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

/// A system call that failed.
#[derive(Debug, thiserror::Error)]
pub struct SysError {
    /// What was attempted, e.g. `"mount"`, `"pivot_root"`.
    pub op: &'static str,
    /// The path the call concerned, if any.
    pub path: Option<PathBuf>,
    /// What the kernel said.
    #[source]
    pub errno: Errno,
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} {}", self.op, path.display()),
            None => f.write_str(self.op),
        }
    }
}

impl SysError {
    /// A failure of `op` with no path.
    pub fn new(op: &'static str, errno: Errno) -> Self {
        SysError {
            op,
            path: None,
            errno,
        }
    }

    /// A failure of `op` on `path`.
    pub fn at(op: &'static str, path: impl Into<PathBuf>, errno: Errno) -> Self {
        SysError {
            op,
            path: Some(path.into()),
            errno,
        }
    }
}

/// Shorthand for results of kernel calls.
pub type SysResult<T> = Result<T, SysError>;

/// Attaches the operation (and path) to a raw `nix` result.
pub(crate) trait Op<T> {
    /// Name the failed operation.
    fn op(self, op: &'static str) -> SysResult<T>;
    /// Name the failed operation and the path it concerned.
    fn op_at(self, op: &'static str, path: &Path) -> SysResult<T>;
}

impl<T> Op<T> for nix::Result<T> {
    fn op(self, op: &'static str) -> SysResult<T> {
        self.map_err(|errno| SysError::new(op, errno))
    }

    fn op_at(self, op: &'static str, path: &Path) -> SysResult<T> {
        self.map_err(|errno| SysError::at(op, path, errno))
    }
}

impl<T> Op<T> for std::io::Result<T> {
    fn op(self, op: &'static str) -> SysResult<T> {
        self.map_err(|e| SysError::new(op, io_errno(&e)))
    }

    fn op_at(self, op: &'static str, path: &Path) -> SysResult<T> {
        self.map_err(|e| SysError::at(op, path, io_errno(&e)))
    }
}

/// The errno inside an `io::Error` (EIO when it carries none).
pub fn io_errno(err: &std::io::Error) -> Errno {
    err.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_op_and_path_and_keeps_errno_as_source() {
        let err = SysError::at("mount", "/proc", Errno::EPERM);
        assert_eq!(err.to_string(), "mount /proc");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("EPERM: Operation not permitted"));
        assert_eq!(
            SysError::new("pivot_root", Errno::EINVAL).to_string(),
            "pivot_root"
        );
    }
}
