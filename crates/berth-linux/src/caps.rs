//! Capabilities: the bounding set, the effective/permitted/inheritable sets
//! and the ambient set, through the `caps` crate.
//!
//! Order matters (runc `capabilities_linux.go`, youki `capabilities.rs`):
//! the bounding set is dropped while CAP_SETPCAP is still effective, the
//! user is switched with `PR_SET_KEEPCAPS` (see [`crate::cred`]), then the
//! remaining sets are written: inheritable first (it may only grow while
//! the permitted set is still full), effective, permitted, ambient last
//! (an ambient capability must be permitted and inheritable).

use berth_spec::plan::{CapSet, Capabilities};
use caps::{CapSet as Kind, Capability, CapsHashSet};
use nix::errno::Errno;

/// A capability call that failed.
#[derive(Debug, thiserror::Error)]
#[error("set {set} capabilities")]
pub struct Error {
    /// Which set: "bounding", "effective"…
    pub set: &'static str,
    /// What the caps crate said.
    #[source]
    pub source: caps::errors::CapsError,
}

fn wrap(set: &'static str) -> impl FnOnce(caps::errors::CapsError) -> Error {
    move |source| Error { set, source }
}

/// The `caps` crate's set for our bit mask.
fn to_hashset(set: CapSet) -> CapsHashSet {
    caps::all()
        .into_iter()
        .filter(|c| set.contains(c.index()))
        .collect()
}

/// The calling thread's bounding set.
pub fn bounding_set() -> Result<CapSet, Error> {
    let have = caps::read(None, Kind::Bounding).map_err(wrap("bounding"))?;
    Ok(CapSet(
        have.iter().fold(0u64, |acc, c| acc | (1u64 << c.index())),
    ))
}

/// Drops every capability not in `keep` from the bounding set: one
/// `PR_CAPBSET_DROP` each, without reading the set first (dropping an
/// absent capability succeeds; reading cost one more call per capability).
pub fn drop_bounding(keep: CapSet) -> Result<(), Error> {
    for cap in caps::all()
        .into_iter()
        .filter(|c| !keep.contains(c.index()))
    {
        // SAFETY: PR_CAPBSET_DROP takes the capability number by value and
        // touches no memory of ours.
        let ret = unsafe {
            libc::prctl(
                libc::PR_CAPBSET_DROP,
                libc::c_ulong::from(cap.index()),
                0,
                0,
                0,
            )
        };
        match Errno::result(ret) {
            Ok(_) => {}
            // A capability newer than this kernel: never in its sets.
            Err(Errno::EINVAL) => {}
            Err(e) => {
                let msg = format!("PR_CAPBSET_DROP {cap}: {e}");
                return Err(wrap("bounding")(caps::errors::CapsError::from(msg)));
            }
        }
    }
    Ok(())
}

/// Writes the inheritable, effective and permitted sets, then raises what
/// it can of the ambient set.
///
/// The kernel only lets a capability into the ambient set when it is both
/// permitted and inheritable. A config may still list others (`runc spec`
/// generates one without an inheritable set); runc and crun warn and go on,
/// and so does berth: the ones that cannot be raised are returned.
pub fn apply(c: &Capabilities) -> Result<CapSet, Error> {
    caps::set(None, Kind::Inheritable, &to_hashset(c.inheritable)).map_err(wrap("inheritable"))?;
    caps::set(None, Kind::Effective, &to_hashset(c.effective)).map_err(wrap("effective"))?;
    caps::set(None, Kind::Permitted, &to_hashset(c.permitted)).map_err(wrap("permitted"))?;
    caps::clear(None, Kind::Ambient).map_err(wrap("ambient"))?;
    let grantable = CapSet(c.ambient.0 & c.permitted.0 & c.inheritable.0);
    for cap in to_hashset(grantable) {
        caps::raise(None, Kind::Ambient, cap).map_err(wrap("ambient"))?;
    }
    Ok(CapSet(c.ambient.0 & !grantable.0))
}

/// The name of capability number `index` (`CAP_SYS_ADMIN`), for messages.
pub fn name(index: u8) -> String {
    caps::all()
        .into_iter()
        .find(|c: &Capability| c.index() == index)
        .map_or_else(|| format!("capability {index}"), |c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_hashsets_agree() {
        let set = CapSet((1 << 0) | (1 << 21));
        let hs = to_hashset(set);
        assert!(hs.contains(&Capability::CAP_CHOWN));
        assert!(hs.contains(&Capability::CAP_SYS_ADMIN));
        assert_eq!(hs.len(), 2);
        assert_eq!(name(21), "CAP_SYS_ADMIN");
    }
}
