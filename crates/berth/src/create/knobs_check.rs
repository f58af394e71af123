//! The knobs that depend on the host, checked before anything exists: an
//! AppArmor profile needs AppArmor (an error, as runc), `linux.mountLabel`
//! is a warning without SELinux (with it, init passes it as each new
//! filesystem's `context=`), and Intel RDT is refused. An SELinux
//! process label without SELinux is the process step's warning
//! (`process::labels`), for init and exec alike.

use std::path::Path;

use anyhow::bail;
use berth_linux::lsm;
use berth_spec::plan::Plan;

/// Checks the plan's knobs and labels against this host.
pub fn check(plan: &Plan) -> anyhow::Result<()> {
    let knobs = &plan.knobs;
    if plan.process.apparmor_profile.is_some() && !lsm::apparmor_enabled() {
        bail!("process.apparmorProfile: AppArmor is not enabled on this host");
    }
    if knobs.mount_label.is_some() && !lsm::selinux_enabled() {
        tracing::warn!("linux.mountLabel: SELinux is disabled on this host; ignored");
    }
    if knobs.intel_rdt {
        if !Path::new("/sys/fs/resctrl/info").exists() {
            bail!("linux.intelRdt: resctrl is not mounted on this host (/sys/fs/resctrl)");
        }
        bail!("linux.intelRdt: not supported yet");
    }
    Ok(())
}
