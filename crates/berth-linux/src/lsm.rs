//! Linux security module labels for the next execve(2): AppArmor profiles
//! and SELinux process labels, as runc applies them (`apparmor.ApplyProfile`,
//! `selinux.SetExecLabel`).
//!
//! Each is a write to a `/proc/self/attr` file that takes effect at exec.
//! Where the module is not enabled the write fails, and the caller says so:
//! a label that cannot be applied is an error, never silently dropped.

use std::path::Path;

use nix::errno::Errno;

use crate::error::{Op, SysError, SysResult};

/// Why a label could not be set.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module is not enabled on this host (its attr file is missing or
    /// refuses writes with EINVAL).
    #[error("{module} is not enabled on this host")]
    NotEnabled {
        /// `AppArmor` or `SELinux`.
        module: &'static str,
        /// The failed write.
        #[source]
        source: SysError,
    },
    /// The write failed otherwise (e.g. an unknown profile).
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// Confines the next exec with AppArmor profile `profile`.
pub fn apparmor_on_exec(profile: &str) -> Result<(), Error> {
    let value = format!("exec {profile}");
    let stacked = Path::new("/proc/self/attr/apparmor/exec");
    match write_attr(stacked, &value) {
        // Kernels before 5.8 have only the shared attr file.
        Err(e) if e.errno == Errno::ENOENT => write_attr(Path::new("/proc/self/attr/exec"), &value),
        other => other,
    }
    .map_err(|e| classify("AppArmor", e))
}

/// Labels the next exec with SELinux label `label`.
pub fn selinux_on_exec(label: &str) -> Result<(), Error> {
    write_attr(Path::new("/proc/self/attr/exec"), label).map_err(|e| classify("SELinux", e))
}

fn write_attr(path: &Path, value: &str) -> SysResult<()> {
    std::fs::write(path, value).op_at("write", path)
}

fn classify(module: &'static str, e: SysError) -> Error {
    if matches!(e.errno, Errno::ENOENT | Errno::EINVAL) {
        Error::NotEnabled { module, source: e }
    } else {
        Error::Sys(e)
    }
}
