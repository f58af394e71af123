//! `linux.netDevices`: host interfaces to move into the container's
//! network namespace (config-linux.md "Network Devices").

use std::collections::{BTreeSet, HashMap};

use oci_spec::runtime::LinuxNetDevice;

use super::namespaces::has;
use super::{Invalid, Result};
use crate::plan::{Namespace, NetDevice, NsKind};

/// `IFNAMSIZ` minus its NUL: the longest interface name the kernel takes.
const MAX_NAME: usize = 15;

/// The devices, sorted by host name (the config's object has no order).
/// Each name must be one the kernel accepts; the container must have a
/// network namespace of its own to move them into; two devices may not
/// get the same name inside.
pub(super) fn convert(
    devices: Option<&HashMap<String, LinuxNetDevice>>,
    ns: &[Namespace],
) -> Result<Vec<NetDevice>> {
    let Some(devices) = devices.filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    if !has(ns, NsKind::Network) {
        return Err(Invalid::new(
            "linux.netDevices",
            "needs a network namespace (linux.namespaces has no \"network\"): \
             refusing to rename the host's interfaces",
        ));
    }
    let mut out: Vec<NetDevice> = devices
        .iter()
        .map(|(host, dev)| NetDevice {
            host: host.clone(),
            name: dev.name().clone().unwrap_or_else(|| host.clone()),
        })
        .collect();
    out.sort_by(|a, b| a.host.cmp(&b.host));
    let mut inside = BTreeSet::new();
    for dev in &out {
        let path = format!("linux.netDevices.{}", dev.host);
        check_name(&dev.host).map_err(|m| Invalid::new(&path, m))?;
        check_name(&dev.name).map_err(|m| Invalid::new(format!("{path}.name"), m))?;
        if !inside.insert(dev.name.as_str()) && !dev.name.contains("%d") {
            return Err(Invalid::new(
                format!("{path}.name"),
                format!("{:?} is already the name of another device", dev.name),
            ));
        }
    }
    Ok(out)
}

/// The kernel's rules for an interface name (`dev_valid_name`).
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!(
            "interface name {name:?} must be 1 to {MAX_NAME} bytes"
        ));
    }
    if name == "." || name == ".." || name.contains(['/', ':', '\0']) {
        return Err(format!("invalid interface name {name:?}"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(format!("interface name {name:?} contains whitespace"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn netns() -> Vec<Namespace> {
        vec![Namespace {
            kind: NsKind::Network,
            join: None,
        }]
    }

    fn devices(json: &str) -> HashMap<String, LinuxNetDevice> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn names_default_to_the_host_name() {
        let d = devices(r#"{"veth1": {}, "veth0": {"name": "eth0"}}"#);
        let got = convert(Some(&d), &netns()).unwrap();
        assert_eq!(
            got,
            vec![
                NetDevice {
                    host: "veth0".into(),
                    name: "eth0".into()
                },
                NetDevice {
                    host: "veth1".into(),
                    name: "veth1".into()
                },
            ]
        );
    }

    #[test]
    fn without_a_network_namespace_it_is_refused() {
        let d = devices(r#"{"veth0": {}}"#);
        let err = convert(Some(&d), &[]).unwrap_err();
        assert_eq!(err.path, "linux.netDevices");
    }

    #[test]
    fn bad_names_are_refused_with_their_path() {
        let d = devices(r#"{"veth0": {"name": "a/b"}}"#);
        assert_eq!(
            convert(Some(&d), &netns()).unwrap_err().path,
            "linux.netDevices.veth0.name"
        );
        let d = devices(r#"{"averyveryverylongname": {}}"#);
        assert_eq!(
            convert(Some(&d), &netns()).unwrap_err().path,
            "linux.netDevices.averyveryverylongname"
        );
    }

    #[test]
    fn two_devices_cannot_share_a_name_inside_unless_templated() {
        let d = devices(r#"{"a0": {"name": "eth0"}, "b0": {"name": "eth0"}}"#);
        assert_eq!(
            convert(Some(&d), &netns()).unwrap_err().path,
            "linux.netDevices.b0.name"
        );
        let d = devices(r#"{"a0": {"name": "eth%d"}, "b0": {"name": "eth%d"}}"#);
        assert_eq!(convert(Some(&d), &netns()).unwrap().len(), 2);
    }
}
