//! `process.apparmorProfile` and `process.selinuxLabel`: set for the exec,
//! first of the process steps (runc `finalizeNamespace` order), through a
//! verified procfs handle (`berth_linux::procfs`), never a plain path
//! under a `/proc` the image or config may have replaced.
//!
//! As runc: a profile where AppArmor is not enabled is an error (create
//! refuses it before anything exists, exec here); a label where SELinux is
//! disabled is ignored with a warning (runc's label package).

use anyhow::{bail, Context};
use berth_linux::lsm;
use berth_linux::procfs::ProcFs;

use super::ProcessContext;

/// Arms the AppArmor profile and SELinux label the process execs with.
pub fn apply(ctx: &ProcessContext<'_>) -> anyhow::Result<()> {
    let process = ctx.process;
    let selinux_label = process.selinux_label.as_ref().filter(|_| {
        let on = lsm::selinux_enabled();
        if !on {
            tracing::warn!("process.selinuxLabel: SELinux is disabled on this host; ignored");
        }
        on
    });
    if process.apparmor_profile.is_none() && selinux_label.is_none() {
        return Ok(());
    }
    let proc = ProcFs::open().context("open /proc")?;
    if let Some(profile) = &process.apparmor_profile {
        if !lsm::apparmor_enabled() {
            bail!("process.apparmorProfile {profile:?}: AppArmor is not enabled on this host");
        }
        lsm::set_apparmor_exec(&proc, profile)
            .with_context(|| format!("process.apparmorProfile {profile:?}"))?;
    }
    if let Some(label) = selinux_label {
        lsm::set_selinux_exec(&proc, label)
            .with_context(|| format!("process.selinuxLabel {label:?}"))?;
    }
    Ok(())
}
