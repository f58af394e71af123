//! `berth features`: what this berth supports (runtime-spec features.md).
//!
//! Every list comes from the code that validates or applies a config
//! (`berth_spec::features`) or from probing this host's libseccomp and
//! kernel (`berth_linux::seccomp_probe`); e2e `features.rs` checks each
//! claim with a real `create`. Fields berth does not apply are reported
//! disabled.

use berth_linux::seccomp_probe;
use berth_spec::features;
use serde_json::{json, Value};

use crate::version::SPEC_VERSION;

/// The oldest runtime-spec version berth accepts (any 1.x config).
const OCI_VERSION_MIN: &str = "1.0.0";

/// Prints the features document as indented JSON, as runc does.
pub fn run() -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&document())?);
    Ok(())
}

/// The features document.
pub fn document() -> Value {
    let mut annotations = serde_json::Map::new();
    annotations.insert("org.berth.version".into(), json!(env!("CARGO_PKG_VERSION")));
    if let Some(v) = seccomp_probe::version() {
        annotations.insert("io.github.seccomp.libseccomp.version".into(), json!(v));
    }
    json!({
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": SPEC_VERSION,
        "hooks": features::hooks(),
        "mountOptions": features::mount_options(),
        "linux": {
            "namespaces": features::namespaces(),
            "capabilities": features::capabilities(),
            "seccomp": {
                "enabled": true,
                "actions": features::seccomp_actions(),
                "operators": features::seccomp_operators(),
                "archs": seccomp_probe::architectures(),
                "knownFlags": features::seccomp_known_flags(),
                "supportedFlags": seccomp_probe::supported_flags(),
            },
            // berth-cgroups drives v1, hybrid and v2 hosts (e2e cgroups_*.rs
            // on this hybrid host and in the cgroup v2 VM); no systemd
            // driver (`--systemd-cgroup` is an error). `rdma` is left out:
            // rdma.max is written, but no host here has an RDMA device to
            // check it on, and a claim must be checked.
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false },
            // Applied where the host has them (docs/security.md); RDT is refused.
            "apparmor": { "enabled": true },
            "selinux": { "enabled": true },
            "intelRdt": { "enabled": false },
            // Idmapped mounts are refused (`mounts[].uidMappings`, `idmap`).
            "mountExtensions": { "idmap": { "enabled": false } },
        },
        "annotations": annotations,
    })
}
