//! A bundle in a temp dir and a minimal valid config, for unit tests.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::{load_str, Error, Loaded, Plan};

/// A temp dir holding an empty `rootfs/`.
pub(crate) struct Bundle {
    dir: TempDir,
}

impl Bundle {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        Bundle { dir }
    }

    /// The canonical bundle path (what `Plan.bundle` holds).
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// Creates an empty file or directory (name ends with `/`) in the bundle.
    pub(crate) fn touch(&self, name: &str) -> PathBuf {
        let p = self.path().join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&p).unwrap();
        } else {
            std::fs::write(&p, "").unwrap();
        }
        p
    }

    pub(crate) fn try_load(&self, cfg: &Value) -> Result<Loaded, Error> {
        let file = self.dir.path().join("config.json");
        load_str(&cfg.to_string(), self.dir.path(), &file)
    }

    pub(crate) fn load(&self, cfg: &Value) -> Loaded {
        self.try_load(cfg).unwrap()
    }

    pub(crate) fn plan(&self, cfg: &Value) -> Plan {
        self.load(cfg).plan
    }

    /// The (path, msg) of the `Invalid` error `cfg` must give.
    pub(crate) fn invalid(&self, cfg: &Value) -> (String, String) {
        match self.try_load(cfg) {
            Err(Error::Invalid { path, msg, file }) => {
                assert_eq!(file, self.dir.path().join("config.json"));
                (path, msg)
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}

/// Loads `cfg` in a fresh bundle and returns the (path, msg) of its error.
pub(crate) fn invalid(cfg: &Value) -> (String, String) {
    Bundle::new().invalid(cfg)
}

/// Loads `cfg` in a fresh bundle and returns the plan.
pub(crate) fn plan(cfg: &Value) -> Plan {
    Bundle::new().plan(cfg)
}

/// `(path, msg)` as owned strings, to compare with [`invalid`].
pub(crate) fn err(path: &str, msg: &str) -> (String, String) {
    (path.to_string(), msg.to_string())
}

/// The smallest config berth accepts: a process and a mount namespace.
pub(crate) fn minimal() -> Value {
    json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "cwd": "/"
        },
        "linux": {"namespaces": [{"type": "mount"}]}
    })
}

/// `minimal()` with these `linux.namespaces`.
pub(crate) fn with_namespaces(ns: Value) -> Value {
    let mut c = minimal();
    c["linux"]["namespaces"] = ns;
    c
}

/// `p` as a string, for building JSON.
pub(crate) fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}
