//! `process.rlimits`.

use berth_spec::plan::Rlimit;
use nix::errno::Errno;

use crate::error::SysError;

/// A limit the kernel refused.
#[derive(Debug, thiserror::Error)]
#[error("setrlimit {name} soft={soft} hard={hard}")]
pub struct Error {
    /// `RLIMIT_*` name.
    pub name: &'static str,
    /// Requested soft limit.
    pub soft: u64,
    /// Requested hard limit.
    pub hard: u64,
    /// Why (EPERM: raising a hard limit needs CAP_SYS_RESOURCE).
    #[source]
    pub source: SysError,
}

/// Sets each limit on the calling process.
pub fn apply(limits: &[Rlimit]) -> Result<(), Error> {
    limits.iter().try_for_each(|l| {
        let new = libc::rlimit {
            rlim_cur: l.soft,
            rlim_max: l.hard,
        };
        tracing::debug!(name = l.name, soft = l.soft, hard = l.hard, "setrlimit");
        // SAFETY: prlimit(2) on ourselves (pid 0) reads `new`, which we own,
        // and is given a NULL old-limit pointer.
        let ret = unsafe { libc::prlimit(0, l.resource, &new, std::ptr::null_mut()) };
        if ret < 0 {
            let source = SysError::new("prlimit", Errno::last());
            return Err(Error {
                name: l.name,
                soft: l.soft,
                hard: l.hard,
                source,
            });
        }
        Ok(())
    })
}
