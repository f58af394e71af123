//! `process.capabilities`: names → [`CapSet`] bit masks.

use oci_spec::runtime::{Capabilities as OciSet, Capability, LinuxCapabilities};

use super::{Invalid, Result};
use crate::plan::{CapSet, Capabilities};

/// Capability names indexed by number, from `linux/capability.h`
/// (capabilities(7)); `CAP_CHECKPOINT_RESTORE` (40) is the last one as of
/// Linux 6.x.
const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The `CAP_*` name of capability number `cap` (`CAP_CHOWN` for 0), or
/// `None` for a number berth does not know.
pub fn capability_name(cap: u8) -> Option<&'static str> {
    NAMES.get(usize::from(cap)).copied()
}

/// The number of a capability: oci-spec displays `Capability::SysAdmin` as
/// `SYS_ADMIN`.
fn number(cap: Capability) -> Option<u8> {
    let name = format!("CAP_{cap}");
    NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|i| u8::try_from(i).ok())
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
            // oci-spec knows a capability our table does not: refuse rather
            // than silently drop it.
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
    fn every_name_round_trips_through_oci_spec() {
        for (i, name) in NAMES.iter().enumerate() {
            let cap: Capability = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(number(cap), Some(u8::try_from(i).unwrap()), "{name}");
            assert_eq!(capability_name(u8::try_from(i).unwrap()), Some(*name));
        }
        assert_eq!(capability_name(41), None);
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
