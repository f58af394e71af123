//! The knobs that depend on the host, checked before anything exists: an
//! LSM the config names must be enabled (AppArmor: an error, as runc;
//! SELinux: a warning and nothing, as runc's label package), and Intel
//! RDT is refused.

use std::path::Path;

use anyhow::bail;
use berth_linux::lsm;
use berth_spec::plan::knobs::Knobs;

/// Checks `knobs` against this host.
pub fn check(knobs: &Knobs) -> anyhow::Result<()> {
    if knobs.apparmor_profile.is_some() && !lsm::apparmor_enabled() {
        bail!("process.apparmorProfile: AppArmor is not enabled on this host");
    }
    let selinux = lsm::selinux_enabled();
    for (field, set) in [
        ("process.selinuxLabel", knobs.selinux_label.is_some()),
        ("linux.mountLabel", knobs.mount_label.is_some()),
    ] {
        if set && !selinux {
            tracing::warn!("{field}: SELinux is disabled on this host; ignored");
        }
    }
    if selinux && knobs.mount_label.is_some() {
        bail!("linux.mountLabel: not supported yet");
    }
    if knobs.intel_rdt {
        if !Path::new("/sys/fs/resctrl/info").exists() {
            bail!("linux.intelRdt: resctrl is not mounted on this host (/sys/fs/resctrl)");
        }
        bail!("linux.intelRdt: not supported yet");
    }
    Ok(())
}
