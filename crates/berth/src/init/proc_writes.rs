//! init's writes to procfs that configure the container: `linux.sysctl`
//! (the LSM labels are the process step's, `process::labels`). They go through a procfs handle
//! opened and checked here, before any of the container's mounts exist
//! (`berth_linux::procfs`), never through the container's `/proc`, which
//! the config or the image may have replaced (CVE-2019-16884,
//! CVE-2025-52881).
//!
//! Sysctls are per namespace and the kernel picks the namespace of the
//! writer, so writing them through the host's procfs from inside the
//! container's namespaces reaches the container's values.

use anyhow::Context;
use berth_linux::procfs::{self, ProcFs};

use super::InitContext;

/// Opens the handle, writes the sysctls, closes it
/// again (no fd of the host's procfs may be open when the container's
/// program is resolved).
pub fn apply(ctx: &InitContext<'_>) -> anyhow::Result<()> {
    let proc = ProcFs::open().context("open the host's /proc")?;
    for (key, value) in &ctx.plan.sysctl {
        proc.write(&procfs::sysctl_path(key), value)
            .with_context(|| format!("linux.sysctl.{key}"))?;
    }
    Ok(())
}
