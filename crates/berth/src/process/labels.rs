//! `process.apparmorProfile` and `process.selinuxLabel`: set for the exec,
//! first of the process steps (runc `finalizeNamespace` order). A label
//! the host cannot apply is an error, not a warning.

use anyhow::Context;
use berth_linux::lsm;

use super::ProcessContext;

/// Arms the AppArmor profile and SELinux label the process execs with.
pub fn apply(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    let process = ctx.process;
    if let Some(profile) = &process.apparmor_profile {
        lsm::apparmor_on_exec(profile)
            .with_context(|| format!("process.apparmorProfile {profile:?}"))?;
    }
    if let Some(label) = &process.selinux_label {
        lsm::selinux_on_exec(label).with_context(|| format!("process.selinuxLabel {label:?}"))?;
    }
    Ok(())
}
