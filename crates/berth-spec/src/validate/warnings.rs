//! Fields berth accepts but does not implement yet.
//!
//! Ignoring them does not weaken the container's isolation from the host
//! (those that would, like `linux.seccomp`, are refused instead), but the
//! user asked for something they will not get, so the binary logs each one.

use std::fmt;

use oci_spec::runtime::Spec;

/// A field present in the config that berth ignores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The JSON path of the field, e.g. `hooks`.
    pub path: String,
    /// What berth does about it, e.g. `not supported yet; ignored`.
    pub msg: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.msg)
    }
}

const IGNORED: &str = "not supported yet; ignored";

/// One warning per ignored field present in `spec`, in config order.
pub(super) fn collect(spec: &Spec) -> Vec<Warning> {
    let mut present: Vec<&'static str> = Vec::new();
    if let Some(l) = spec.linux() {
        let checks = [("linux.memoryPolicy", l.memory_policy().is_some())];
        present.extend(checks.iter().filter(|(_, on)| *on).map(|(path, _)| *path));
    }
    let mut warnings: Vec<Warning> = present
        .into_iter()
        .map(|path| Warning {
            path: path.to_string(),
            msg: IGNORED.to_string(),
        })
        .collect();
    warnings.extend(mount_warnings(spec));
    warnings
}

/// Mount options berth drops: filesystem data on a bind mount (the kernel
/// ignores it) and runc's `tmpcopyup` extension.
fn mount_warnings(spec: &Spec) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let options = m.options().as_deref().unwrap_or_default();
        if let Ok(parsed) = super::mount_options::parse(i, options) {
            let is_bind = parsed.bind.is_some() || m.typ().as_deref() == Some("bind");
            if is_bind && !parsed.data.is_empty() {
                warnings.push(Warning {
                    path: format!("mounts[{i}].options"),
                    msg: format!(
                        "{} ignored: a bind mount takes no filesystem options",
                        parsed.data.join(",")
                    ),
                });
            }
        }
        if m.options().iter().flatten().any(|o| o == "tmpcopyup") {
            warnings.push(Warning {
                path: format!("mounts[{i}].options"),
                msg: format!("tmpcopyup {IGNORED}: the tmpfs starts empty"),
            });
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::validate::testutil::{minimal, Bundle};

    fn warnings(cfg: &serde_json::Value) -> Vec<String> {
        let b = Bundle::new();
        b.load(cfg)
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn minimal_config_has_no_warnings() {
        assert!(warnings(&minimal()).is_empty());
    }

    /// The LSM labels, process knobs and resources are applied or refused
    /// (`knobs.rs`, `resources.rs`), never only warned about.
    #[test]
    fn each_ignored_field_warns() {
        let mut c = minimal();
        c["process"]["apparmorProfile"] = json!("docker-default");
        c["process"]["selinuxLabel"] = json!("");
        c["linux"]["resources"] = json!({"pids": {"limit": 10}});
        c["linux"]["personality"] = json!({"domain": "LINUX32"});
        c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_DEFAULT"});
        assert_eq!(
            warnings(&c),
            ["linux.memoryPolicy: not supported yet; ignored",]
        );
    }

    #[test]
    fn tmpcopyup_warns_with_its_mount() {
        let mut c = minimal();
        c["mounts"] = serde_json::json!([
            {"destination": "/a", "type": "tmpfs", "source": "tmpfs"},
            {"destination": "/b", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}
        ]);
        assert_eq!(
            warnings(&c),
            ["mounts[1].options: tmpcopyup not supported yet; ignored: the tmpfs starts empty"]
        );
    }
}
