//! What `create` and `run` do before anything else: drop the fds the
//! caller left open, and re-execute from a sealed copy of the binary.
//!
//! Both happen before the config is even read, so nothing of the container
//! is ever resolved while a caller's fd is open, and no process of berth
//! a container could reach runs from the host's berth binary
//! (`berth_linux::sealed`, CVE-2019-5736; see docs/security.md).

use anyhow::Context;
use berth_linux::{fd, sealed};

use crate::cli::Command;

/// For `create` and `run`: closes every fd above stdio and
/// `--preserve-fds`, then re-execs from a sealed memfd unless already
/// running from one. Other commands start nothing a container can see.
pub fn before(command: &Command) -> anyhow::Result<()> {
    let preserve = match command {
        Command::Create(args) => args.flags.preserve_fds,
        Command::Run(args) => args.flags.preserve_fds,
        _ => return Ok(()),
    };
    let first = i32::try_from(preserve)
        .ok()
        .and_then(|n| n.checked_add(3))
        .context("--preserve-fds: too large")?;
    fd::close_from(first).context("close inherited fds")?;
    sealed::ensure_sealed().context("re-exec from a sealed copy of berth")
}
