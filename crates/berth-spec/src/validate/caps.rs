//! `process.capabilities`: names → [`CapSet`] bit masks.

use std::str::FromStr;

use oci_spec::runtime::{Capabilities as OciSet, Capability, LinuxCapabilities};

use super::{Invalid, Result};
use crate::plan::{CapSet, Capabilities};

/// The number of a capability. oci-spec displays `Capability::SysAdmin` as
/// `SYS_ADMIN`; the `caps` crate knows the kernel's numbering
/// (`linux/capability.h`), so berth keeps no table of its own.
fn number(cap: Capability) -> Option<u8> {
    caps::Capability::from_str(&format!("CAP_{cap}"))
        .ok()
        .map(|c| c.index())
}

/// Whether a config may name capability `name` (`CAP_CHOWN`…).
pub(crate) fn known(name: &str) -> bool {
    name.strip_prefix("CAP_")
        .and_then(|n| Capability::from_str(n).ok())
        .and_then(number)
        .is_some()
}

/// The five sets; an absent `capabilities` or set is empty (not oci-spec's
/// default of three capabilities).
pub(super) fn convert(caps: Option<&LinuxCapabilities>) -> Result<Capabilities> {
    let Some(caps) = caps else {
        return Ok(Capabilities::default());
    };
    Ok(Capabilities {
        bounding: set("bounding", caps.bounding().as_ref())?,
        effective: set("effective", caps.effective().as_ref())?,
        inheritable: set("inheritable", caps.inheritable().as_ref())?,
        permitted: set("permitted", caps.permitted().as_ref())?,
        ambient: set("ambient", caps.ambient().as_ref())?,
    })
}

fn set(name: &str, caps: Option<&OciSet>) -> Result<CapSet> {
    caps.into_iter()
        .flatten()
        .try_fold(CapSet::default(), |acc, &cap| match number(cap) {
            Some(n) => Ok(CapSet(acc.0 | 1u64 << n)),
            // oci-spec knows a capability the caps crate does not: refuse
            // rather than silently drop it.
            None => Err(Invalid::new(
                format!("process.capabilities.{name}"),
                format!("unknown capability \"CAP_{cap}\""),
            )),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_capability_round_trips_through_oci_spec() {
        for cap in caps::all() {
            let name = cap.to_string();
            let parsed: Capability = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(number(parsed), Some(cap.index()), "{name}");
        }
        assert_eq!(
            caps::all().len(),
            41,
            "CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40)"
        );
    }

    #[test]
    fn sets_become_bit_masks() {
        let caps: LinuxCapabilities = serde_json::from_value(serde_json::json!({
            "bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"],
            "effective": ["CAP_KILL"],
        }))
        .unwrap();
        let c = convert(Some(&caps)).unwrap();
        assert_eq!(c.bounding, CapSet(1 | 1 << 21 | 1 << 40));
        assert_eq!(c.effective, CapSet(1 << 5));
        assert_eq!(c.permitted, CapSet(0));
    }

    #[test]
    fn absent_capabilities_are_empty() {
        assert_eq!(convert(None).unwrap(), Capabilities::default());
    }
}
