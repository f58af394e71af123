//! `process.cwd`, entered inside the container's root.

use std::path::Path;

use anyhow::Context;
use berth_linux::mount::{Create, RootDir};

/// Enters `cwd`, resolved inside `root` (made first when `create` says so:
/// runc creates a missing cwd for init, not for exec). The cwd is checked
/// afterwards: a path through a leaked fd would leave us outside the root,
/// which getcwd reports as unreachable (CVE-2024-21626).
pub fn enter(root: &RootDir, cwd: &Path, create: Create) -> anyhow::Result<()> {
    let dir = root.resolve(cwd, create).context("process.cwd")?;
    nix::unistd::fchdir(&dir).with_context(|| format!("process.cwd: chdir {}", cwd.display()))?;
    let now = nix::unistd::getcwd().context("getcwd")?;
    anyhow::ensure!(
        now.is_absolute(),
        "process.cwd: {} is outside the container",
        cwd.display()
    );
    Ok(())
}
