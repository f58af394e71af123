//! `berth features`: what this berth supports (runtime-spec features.md).
//!
//! Every list comes from the code that validates or applies a config
//! (`berth_spec::features`) or from probing this host's libseccomp and
//! kernel (`berth_linux::seccomp_probe`); e2e `features.rs` checks each
//! claim with a real `create`. Fields berth does not apply are reported
//! disabled. `linux.cgroup` is left out until the cgroup work lands.

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
            // Not applied (ignored with a warning): claim nothing.
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false },
            // Idmapped mounts are refused (`mounts[].uidMappings`, `idmap`).
            "mountExtensions": { "idmap": { "enabled": false } },
        },
        "annotations": annotations,
    })
}
