//! What berth's validation accepts, for `berth features` (runtime-spec
//! features.md). Each list is read off the tables and conversions that
//! validate a config, so `features` cannot claim what `create` refuses.
//! Where the vocabulary is the spec's (seccomp actions and operators), the
//! candidates below are filtered through the same conversion a config goes
//! through.

use std::str::FromStr;

use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompOperator};

use crate::plan::NsKind;
use crate::validate;

/// Every action name config-linux.md defines.
const SECCOMP_ACTIONS: [&str; 9] = [
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// Every operator name config-linux.md defines.
const SECCOMP_OPERATORS: [&str; 7] = [
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// The hook kinds berth runs (all six of config.md).
pub fn hooks() -> Vec<&'static str> {
    validate::HOOK_KINDS.to_vec()
}

/// Every mount option berth recognises: flags, propagation, `bind` and
/// `rbind`. Filesystem data (`mode=755`…) is passed on and not listed.
pub fn mount_options() -> Vec<&'static str> {
    let mut all = validate::mount_option_names();
    all.sort_unstable();
    all
}

/// The namespace types berth creates or joins.
pub fn namespaces() -> Vec<&'static str> {
    NsKind::ALL.iter().map(|k| k.name()).collect()
}

/// The capability names (`CAP_*`) a config may use: those both oci-spec
/// parses and the kernel numbering (caps crate) knows, lowest number first.
pub fn capabilities() -> Vec<String> {
    let mut all: Vec<caps::Capability> = caps::all()
        .into_iter()
        .filter(|c| validate::capability_known(&c.to_string()))
        .collect();
    all.sort_by_key(|c| c.index());
    all.iter().map(ToString::to_string).collect()
}

/// The seccomp actions a config may use.
pub fn seccomp_actions() -> Vec<&'static str> {
    SECCOMP_ACTIONS
        .into_iter()
        .filter(|name| {
            LinuxSeccompAction::from_str(name).is_ok_and(validate::seccomp_action_accepted)
        })
        .collect()
}

/// The seccomp argument operators a config may use.
pub fn seccomp_operators() -> Vec<&'static str> {
    SECCOMP_OPERATORS
        .into_iter()
        .filter(|name| LinuxSeccompOperator::from_str(name).is_ok())
        .collect()
}

/// The seccomp filter flags a config may name (whether the kernel and
/// libseccomp support them is `berth_linux::seccomp::supported_flags`).
pub fn seccomp_known_flags() -> Vec<&'static str> {
    validate::SECCOMP_FLAGS.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_claimed() {
        let actions = seccomp_actions();
        assert!(actions.contains(&"SCMP_ACT_NOTIFY"));
        assert!(actions.contains(&"SCMP_ACT_ERRNO") && actions.contains(&"SCMP_ACT_LOG"));
        assert_eq!(seccomp_operators().len(), 7);
    }

    #[test]
    fn mount_options_come_from_the_validation_tables() {
        let opts = mount_options();
        for o in ["ro", "nosuid", "rbind", "bind", "rslave", "nosymfollow"] {
            assert!(opts.contains(&o), "{o}");
        }
        assert!(opts.contains(&"rro") && opts.contains(&"rnosymfollow"));
        // Refused by validation, so not claimed.
        assert!(!opts.contains(&"idmap"));
    }

    #[test]
    fn capabilities_are_named_and_ordered() {
        let caps = capabilities();
        assert_eq!(caps.first().map(String::as_str), Some("CAP_CHOWN"));
        assert!(caps.iter().any(|c| c == "CAP_SYS_ADMIN"));
    }

    #[test]
    fn six_hook_kinds_and_eight_namespaces() {
        assert_eq!(hooks().len(), 6);
        assert_eq!(namespaces().len(), 8);
    }
}
