//! `berth spec`: write a starter `config.json`, as `runc spec` does.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use nix::unistd::{getegid, geteuid};
use serde_json::{json, Value};

use crate::version::SPEC_VERSION;

/// Writes `<bundle>/config.json`; refuses to overwrite one. `rootless`
/// writes runc's rootless variant for the calling user.
pub fn run(bundle: &Path, rootless: bool) -> anyhow::Result<()> {
    let path = bundle.join("config.json");
    let mut config = template();
    if rootless {
        to_rootless(&mut config, geteuid().as_raw(), getegid().as_raw());
    }
    let text = serde_json::to_string_pretty(&config)?;
    let mut file = match OpenOptions::new().write(true).create_new(true).open(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists; remove it first", path.display())
        }
        other => other.with_context(|| format!("create {}", path.display()))?,
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("write {}", path.display()))
}

/// runc's template: an interactive `sh` as root in its own pid, network,
/// ipc, uts and mount namespaces, with three capabilities.
fn template() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": SPEC_VERSION,
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps
            },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "berth",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
              "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
              "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs",
              "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
              "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ],
        "linux": {
            "namespaces": [
                { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
                { "type": "uts" }, { "type": "mount" }
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

/// runc's `specconv.ToRootless`: a user namespace mapping only the
/// caller (`uid`, `gid`) to root and no network namespace of its own; `/sys`
/// rbound from the host (a fresh sysfs needs a network namespace);
/// `uid=`/`gid=` mount options dropped (those ids are not mapped); no
/// `linux.resources`.
fn to_rootless(config: &mut Value, uid: u32, gid: u32) {
    let linux = &mut config["linux"];
    if let Some(ns) = linux["namespaces"].as_array_mut() {
        ns.retain(|n| !matches!(n["type"].as_str(), Some("network" | "user")));
        ns.push(json!({ "type": "user" }));
    }
    linux["uidMappings"] = json!([{ "containerID": 0, "hostID": uid, "size": 1 }]);
    linux["gidMappings"] = json!([{ "containerID": 0, "hostID": gid, "size": 1 }]);
    if let Some(obj) = linux.as_object_mut() {
        obj.remove("resources");
    }
    for m in config["mounts"].as_array_mut().into_iter().flatten() {
        if m["destination"] == "/sys" {
            *m = json!({ "destination": "/sys", "type": "none", "source": "/sys",
                         "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] });
        } else if let Some(opts) = m["options"].as_array_mut() {
            opts.retain(|o| {
                !o.as_str()
                    .is_some_and(|o| o.starts_with("uid=") || o.starts_with("gid="))
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_a_valid_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("rootfs")).expect("mkdir");
        run(dir.path(), false).expect("spec");
        let plan = berth_spec::load(dir.path()).expect("berth accepts its own template");
        assert_eq!(plan.process.args, ["sh"]);
        assert!(plan.process.terminal);
        assert!(run(dir.path(), false).is_err(), "must not overwrite");
    }

    #[test]
    fn rootless_template_maps_the_caller_and_drops_the_network_namespace() {
        let mut c = template();
        to_rootless(&mut c, 1000, 1001);
        let types: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["pid", "ipc", "uts", "mount", "user"]);
        assert_eq!(c["linux"]["uidMappings"][0]["hostID"], 1000);
        assert_eq!(c["linux"]["gidMappings"][0]["hostID"], 1001);
        let text = c["mounts"].to_string();
        assert!(!text.contains("gid=5"), "{text}");
        assert!(text.contains(r#""source":"/sys""#), "{text}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        std::fs::write(dir.path().join("config.json"), c.to_string()).unwrap();
        berth_spec::load(dir.path()).expect("berth accepts its rootless template");
    }
}
