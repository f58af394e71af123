//! Switching to the container user: supplementary groups, gid, uid.

use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};

use crate::error::{Op, SysResult};

/// Sets `PR_SET_KEEPCAPS`, so that the permitted set survives the switch
/// away from uid 0 and the caps the config asks for can still be set.
pub fn keep_caps(keep: bool) -> SysResult<()> {
    nix::sys::prctl::set_keepcaps(keep).op("prctl PR_SET_KEEPCAPS")
}

/// Sets supplementary groups (when `setgroups` is allowed in this user
/// namespace), then gid, then uid, all three of each (real, effective,
/// saved).
pub fn switch_user(uid: u32, gid: u32, groups: &[u32], setgroups_allowed: bool) -> SysResult<()> {
    if setgroups_allowed {
        let groups: Vec<Gid> = groups.iter().copied().map(Gid::from_raw).collect();
        setgroups(&groups).op("setgroups")?;
    }
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    setresgid(gid, gid, gid).op("setresgid")?;
    setresuid(uid, uid, uid).op("setresuid")
}
