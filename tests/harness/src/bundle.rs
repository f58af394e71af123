//! OCI bundles: a temp dir with a busybox `rootfs/` and a `config.json`.
//!
//! The default config is what `runc spec` writes (generated here, not by
//! running runc), except `terminal: false`, hostname `berth-e2e`, and a
//! relative `linux.cgroupsPath` unique per container, filled in when a
//! container is created from the bundle: `berth-e2e-<id>`. runc nests a
//! relative path under its own cgroup, so the machine's cgroups are never
//! touched, and a flat name leaves no parent directory behind. Each created
//! container also gets `BERTH_E2E_ID=<id>` in its environment, so the residue
//! checks can find its processes by scanning /proc.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::runtime::Inner;

/// The environment variable carrying the container id inside containers.
pub const MARKER_ENV: &str = "BERTH_E2E_ID";

/// The PATH of the default config.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where temp dirs go: `$BERTH_E2E_TMPDIR`, else /dev/shm when it is a
/// writable tmpfs without noexec, else the system temp dir. tmpfs matters
/// when the disk is busy: a rootfs is ~270 symlinks, which took ~0.6 ms each
/// on this machine's ext4 under load (~170 ms a bundle) against ~3 ms for a
/// whole bundle on tmpfs. The state root on tmpfs also mirrors `/run/runc`.
pub fn temp_base() -> PathBuf {
    static BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        if let Some(dir) = std::env::var_os("BERTH_E2E_TMPDIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let shm = crate::residue::host_mounts()
            .into_iter()
            .rev()
            .find(|m| m.mount_point == "/dev/shm");
        let usable = shm
            .is_some_and(|m| m.fstype == "tmpfs" && !m.has_option("noexec") && m.has_option("rw"))
            && tempfile::tempdir_in("/dev/shm").is_ok();
        if usable {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// A temp dir for host-side fixtures, world-readable (so user-namespaced
/// containers can reach it), under [`temp_base`].
pub fn temp_dir(prefix: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(temp_base())
        .expect("create temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
    dir
}

/// The config `runc spec` generates, adapted as described in the module doc.
pub fn default_config() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [DEFAULT_PATH, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "berth-e2e",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

/// An OCI bundle in a temp dir. Dropping it force-deletes every container
/// created from it (through the runtime that created it) and removes the dir.
pub struct Bundle {
    dir: TempDir,
    config: Value,
    raw_config: Option<Vec<u8>>,
    auto_cgroup: bool,
    marker: bool,
    containers: Mutex<Vec<(Arc<Inner>, String)>>,
}

impl Bundle {
    /// A bundle with a fresh busybox rootfs and the default config.
    pub fn busybox() -> Self {
        let dir = temp_dir("berth-e2e-bundle-");
        crate::rootfs::build(&dir.path().join("rootfs"));
        let b = Bundle {
            dir,
            config: default_config(),
            raw_config: None,
            auto_cgroup: true,
            marker: true,
            containers: Mutex::new(Vec::new()),
        };
        b.write_config();
        b
    }

    /// The bundle directory (absolute).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The rootfs directory on the host.
    pub fn rootfs(&self) -> PathBuf {
        self.path().join("rootfs")
    }

    /// The config as it will be written (without the per-container fields).
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Mutable access to the config, for anything the helpers do not cover.
    pub fn config_mut(&mut self) -> &mut Value {
        &mut self.config
    }

    /// Writes `config.json` exactly as `bytes` from now on (e.g. not JSON).
    pub fn raw_config(mut self, bytes: &[u8]) -> Self {
        self.raw_config = Some(bytes.to_vec());
        self.write_config();
        self
    }

    /// Leaves `process.env` alone (no `BERTH_E2E_ID`); the residue checks
    /// then find the container's processes only by the runtime's command line.
    pub fn without_marker(mut self) -> Self {
        self.marker = false;
        self
    }

    fn obj(&mut self, path: &[&str]) -> &mut serde_json::Map<String, Value> {
        let mut v = &mut self.config;
        for k in path {
            if !v.get(*k).is_some_and(Value::is_object) {
                v[*k] = json!({});
            }
            v = &mut v[*k];
        }
        v.as_object_mut().expect("just made an object")
    }

    /// Sets `key` inside the object at `path` (created if missing).
    pub fn set(mut self, path: &[&str], key: &str, value: Value) -> Self {
        self.obj(path).insert(key.to_string(), value);
        self
    }

    /// Removes `key` from the object at `path`.
    pub fn unset(mut self, path: &[&str], key: &str) -> Self {
        self.obj(path).remove(key);
        self
    }

    /// `process.args`.
    pub fn args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
        self.set(&["process"], "args", json!(args))
    }

    /// `process.args = ["sh", "-c", script]`.
    pub fn sh(self, script: &str) -> Self {
        self.args(["sh", "-c", script])
    }

    /// Replaces `process.env`.
    pub fn env<I, S>(self, env: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let env: Vec<String> = env.into_iter().map(|a| a.as_ref().to_string()).collect();
        self.set(&["process"], "env", json!(env))
    }

    /// `process.cwd`.
    pub fn cwd(self, cwd: &str) -> Self {
        self.set(&["process"], "cwd", json!(cwd))
    }

    /// `process.user.uid` and `.gid`.
    pub fn user(self, uid: u32, gid: u32) -> Self {
        self.set(&["process", "user"], "uid", json!(uid)).set(
            &["process", "user"],
            "gid",
            json!(gid),
        )
    }

    /// `process.terminal`.
    pub fn terminal(self, on: bool) -> Self {
        self.set(&["process"], "terminal", json!(on))
    }

    /// `root.readonly`.
    pub fn readonly(self, ro: bool) -> Self {
        self.set(&["root"], "readonly", json!(ro))
    }

    /// `hostname`.
    pub fn hostname(self, name: &str) -> Self {
        self.set(&[], "hostname", json!(name))
    }

    /// Replaces `linux.namespaces` with new namespaces of the given types.
    pub fn namespaces(self, types: &[&str]) -> Self {
        let ns: Vec<Value> = types.iter().map(|t| json!({"type": t})).collect();
        self.set(&["linux"], "namespaces", json!(ns))
    }

    fn namespace_list(&mut self) -> &mut Vec<Value> {
        let linux = self.obj(&["linux"]);
        let ns = linux.entry("namespaces").or_insert_with(|| json!([]));
        if !ns.is_array() {
            *ns = json!([]);
        }
        ns.as_array_mut().expect("just made an array")
    }

    /// Removes the namespace of type `ty` (if listed).
    pub fn without_namespace(mut self, ty: &str) -> Self {
        self.namespace_list().retain(|n| n["type"] != ty);
        if ty == "uts" {
            self = self.unset(&[], "hostname");
        }
        self
    }

    /// Adds (or replaces) the namespace `ty`, joined at `path` if given.
    pub fn namespace(mut self, ty: &str, path: Option<&Path>) -> Self {
        let list = self.namespace_list();
        list.retain(|n| n["type"] != ty);
        let mut entry = json!({"type": ty});
        if let Some(p) = path {
            entry["path"] = json!(p.to_string_lossy());
        }
        list.push(entry);
        self
    }

    /// A new user namespace with `(containerID, hostID, size)` mappings.
    pub fn userns(self, uid_map: &[(u32, u32, u32)], gid_map: &[(u32, u32, u32)]) -> Self {
        let conv = |m: &[(u32, u32, u32)]| -> Value {
            m.iter()
                .map(|(c, h, s)| json!({"containerID": c, "hostID": h, "size": s}))
                .collect()
        };
        self.namespace("user", None)
            .set(&["linux"], "uidMappings", conv(uid_map))
            .set(&["linux"], "gidMappings", conv(gid_map))
    }

    /// Appends a mount entry.
    pub fn mount(mut self, destination: &str, ty: &str, source: &str, options: &[&str]) -> Self {
        let m = json!({
            "destination": destination, "type": ty, "source": source, "options": options
        });
        let mounts = self.config["mounts"].as_array_mut();
        match mounts {
            Some(list) => list.push(m),
            None => self.config["mounts"] = json!([m]),
        }
        self
    }

    /// Sets `linux.cgroupsPath` explicitly (otherwise `berth-e2e-<id>`).
    pub fn cgroups_path(mut self, path: &str) -> Self {
        self.auto_cgroup = false;
        self.set(&["linux"], "cgroupsPath", json!(path))
    }

    /// Writes config.json as configured, without per-container fields.
    pub fn write_config(&self) {
        let bytes = match &self.raw_config {
            Some(raw) => raw.clone(),
            None => serde_json::to_vec_pretty(&self.config).expect("serialize config"),
        };
        fs::write(self.path().join("config.json"), bytes).expect("write config.json");
    }

    /// Writes config.json for container `id` and returns the cgroupsPath the
    /// container will use (relative), if any.
    pub(crate) fn prepare(&self, id: &str) -> Option<String> {
        if self.raw_config.is_some() {
            self.write_config();
            return None;
        }
        let mut cfg = self.config.clone();
        if self.auto_cgroup && cfg["linux"].is_object() {
            cfg["linux"]["cgroupsPath"] = json!(format!("berth-e2e-{id}"));
        }
        if self.marker {
            // `get_mut`, not indexing: a config without `process` stays so.
            let env = cfg.get_mut("process").and_then(|p| p.get_mut("env"));
            if let Some(env) = env.and_then(Value::as_array_mut) {
                env.push(json!(format!("{MARKER_ENV}={id}")));
            }
        }
        let bytes = serde_json::to_vec_pretty(&cfg).expect("serialize config");
        fs::write(self.path().join("config.json"), bytes).expect("write config.json");
        cfg["linux"]["cgroupsPath"].as_str().map(String::from)
    }

    pub(crate) fn adopt(&self, rt: Arc<Inner>, id: &str) {
        self.containers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((rt, id.to_string()));
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let list = std::mem::take(&mut *self.containers.lock().unwrap_or_else(|e| e.into_inner()));
        for (rt, id) in list {
            rt.cleanup(&id);
        }
        // Anything a broken runtime leaked onto the host under this bundle.
        for m in crate::residue::mounts_under(self.path()).iter().rev() {
            crate::hostmount::detach(Path::new(&m.mount_point));
        }
    }
}
