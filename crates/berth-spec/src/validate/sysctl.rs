//! `linux.sysctl`: only keys the container's own namespaces isolate.
//!
//! A sysctl outside a namespace changes the host for everyone, so, like
//! runc (`validator.go` `sysctl`), berth accepts a key only when the
//! container has the namespace that owns it and refuses everything else.

use std::collections::BTreeMap;

use oci_spec::runtime::Linux;

use super::namespaces::has;
use super::{check_nul, Invalid, Result};
use crate::plan::{Namespace, NsKind};

/// The IPC keys runc lets through with an ipc namespace, by prefix:
/// `kernel.msg*`, `kernel.sem*`, `kernel.shm*` (ipc/ipc_sysctl.c), and the
/// POSIX message queue limits.
const IPC_PREFIXES: [&str; 4] = ["kernel.msg", "kernel.sem", "kernel.shm", "fs.mqueue."];

/// The checked keys, sorted. `hostname`/`domainname` are the config's
/// fields of the same name, which `kernel.hostname`/`kernel.domainname`
/// must not contradict.
pub(super) fn convert(
    linux: Option<&Linux>,
    ns: &[Namespace],
    hostname: Option<&str>,
    domainname: Option<&str>,
) -> Result<BTreeMap<String, String>> {
    let Some(map) = linux.and_then(|l| l.sysctl().as_ref()) else {
        return Ok(BTreeMap::new());
    };
    let sorted: BTreeMap<String, String> =
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (key, value) in &sorted {
        let path = format!("linux.sysctl.{key}");
        check_key(key).map_err(|m| Invalid::new(&path, m))?;
        check_nul(value).map_err(|m| Invalid::new(&path, m))?;
        let needs = owner(key)
            .ok_or_else(|| Invalid::new(&path, "not namespaced; refusing to change the host"))?;
        if !has(ns, needs) {
            let article = if needs == NsKind::Ipc { "an" } else { "a" };
            return Err(Invalid::new(
                &path,
                format!("requires {article} {} namespace", needs.name()),
            ));
        }
        let conflict = match key.as_str() {
            "kernel.hostname" => hostname.map(|h| ("hostname", h)),
            "kernel.domainname" => domainname.map(|d| ("domainname", d)),
            _ => None,
        };
        if let Some((field, set)) = conflict.filter(|(_, set)| set != value) {
            return Err(Invalid::new(
                &path,
                format!("{value:?} conflicts with {field} {set:?}"),
            ));
        }
    }
    Ok(sorted)
}

/// The key names a file under `/proc/sys` once dots become slashes: no
/// slash of its own (runc would swap them; we refuse the ambiguity) and no
/// empty component, which would let `..`-like paths through.
fn check_key(key: &str) -> std::result::Result<(), String> {
    if key.contains('/') {
        return Err("must use dots, not slashes".to_string());
    }
    if key.split('.').any(str::is_empty) {
        return Err("has an empty component".to_string());
    }
    check_nul(key)
}

/// The namespace that isolates sysctl `key`, `None` when none does.
pub fn owner(key: &str) -> Option<NsKind> {
    if key.starts_with("net.") {
        return Some(NsKind::Network);
    }
    if IPC_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return Some(NsKind::Ipc);
    }
    match key {
        "kernel.hostname" | "kernel.domainname" => Some(NsKind::Uts),
        // ucounts (max_user_namespaces…) are per user namespace.
        _ if key.starts_with("user.") => Some(NsKind::User),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::validate::testutil::{err, invalid, plan, with_namespaces};

    fn cfg(ns: Value, sysctl: Value) -> Value {
        let mut c = with_namespaces(ns);
        c["linux"]["sysctl"] = sysctl;
        c
    }

    fn all_ns() -> Value {
        json!([{"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "ipc"}, {"type": "uts"}])
    }

    #[test]
    fn namespaced_keys_are_accepted() {
        let c = cfg(
            all_ns(),
            json!({
                "net.ipv4.ip_forward": "1",
                "kernel.shmmax": "1000",
                "kernel.msgmax": "10",
                "kernel.sem": "250 32000 32 128",
                "fs.mqueue.msg_max": "20",
                "kernel.domainname": "example.org"
            }),
        );
        let p = plan(&c);
        assert_eq!(p.sysctl.len(), 6);
        assert_eq!(p.sysctl["net.ipv4.ip_forward"], "1");
    }

    #[test]
    fn host_keys_are_refused() {
        let c = cfg(all_ns(), json!({"vm.swappiness": "10"}));
        assert_eq!(
            invalid(&c),
            err(
                "linux.sysctl.vm.swappiness",
                "not namespaced; refusing to change the host"
            )
        );
    }

    #[test]
    fn keys_need_their_namespace() {
        let mount = json!([{"type": "mount"}]);
        let cases = [
            ("net.core.somaxconn", "requires a network namespace"),
            ("kernel.shm_rmid_forced", "requires an ipc namespace"),
            ("fs.mqueue.queues_max", "requires an ipc namespace"),
            ("kernel.hostname", "requires a uts namespace"),
            ("user.max_user_namespaces", "requires a user namespace"),
        ];
        for (key, msg) in cases {
            let c = cfg(mount.clone(), json!({ key: "1" }));
            assert_eq!(
                invalid(&c),
                err(&format!("linux.sysctl.{key}"), msg),
                "{key}"
            );
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        let c = cfg(all_ns(), json!({"net/ipv4/ip_forward": "1"}));
        assert_eq!(
            invalid(&c),
            err(
                "linux.sysctl.net/ipv4/ip_forward",
                "must use dots, not slashes"
            )
        );
        let c = cfg(all_ns(), json!({"net..ipv4": "1"}));
        assert_eq!(
            invalid(&c),
            err("linux.sysctl.net..ipv4", "has an empty component")
        );
    }

    #[test]
    fn kernel_hostname_must_agree_with_hostname() {
        let mut c = cfg(all_ns(), json!({"kernel.hostname": "a"}));
        c["hostname"] = json!("b");
        assert_eq!(
            invalid(&c),
            err(
                "linux.sysctl.kernel.hostname",
                "\"a\" conflicts with hostname \"b\""
            )
        );
        c["hostname"] = json!("a");
        assert_eq!(plan(&c).sysctl["kernel.hostname"], "a");
    }
}
