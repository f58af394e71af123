//! Linux security modules: whether AppArmor or SELinux is enabled, and
//! the label of the next exec, written through the verified procfs handle.

use std::path::Path;

use crate::error::SysResult;
use crate::procfs::ProcFs;

/// AppArmor is enabled: its module parameter says `Y` (runc
/// `apparmor.IsEnabled`).
pub fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

/// SELinux is enabled: selinuxfs is mounted (runc's label package checks
/// the same mount).
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Makes the next execve(2) run under AppArmor `profile`
/// (`/proc/self/attr/apparmor/exec`, as runc `changeOnExec`).
pub fn set_apparmor_exec(proc: &ProcFs, profile: &str) -> SysResult<()> {
    proc.write_self(Path::new("attr/apparmor/exec"), &format!("exec {profile}"))
}

/// Makes the next execve(2) run with SELinux `label` (`attr/exec`).
pub fn set_selinux_exec(proc: &ProcFs, label: &str) -> SysResult<()> {
    proc.write_self(Path::new("attr/exec"), label)
}
