//! Where a container's cgroup lives in each hierarchy.
//!
//! `linux.cgroupsPath` as runc reads it (libcontainer `fs/paths.go`,
//! `fs2/defaultpath.go`): an absolute path is taken from each hierarchy's
//! root; a relative one, or none (then the container id), is nested under
//! berth's own cgroup in v1 hierarchies, and under the *parent* of berth's
//! own cgroup in the v2 hierarchy (whose no-internal-process rule would
//! otherwise forbid enabling controllers for it).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::layout::Layout;

/// The calling process's cgroups, from `/proc/self/cgroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnCgroups {
    /// v1: (controllers of the hierarchy, path).
    pub v1: Vec<(Vec<String>, String)>,
    /// The `0::` line's path.
    pub unified: Option<String>,
}

impl OwnCgroups {
    /// Parses `/proc/self/cgroup` text.
    pub fn parse(text: &str) -> OwnCgroups {
        let mut own = OwnCgroups::default();
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if id == "0" && ctrls.is_empty() {
                own.unified = Some(path.to_string());
            } else {
                let ctrls = ctrls.split(',').map(str::to_string).collect();
                own.v1.push((ctrls, path.to_string()));
            }
        }
        own
    }

    /// The path in the v1 hierarchy whose controllers are `ctrls`.
    fn v1_path(&self, ctrls: &[String]) -> Option<&str> {
        self.v1
            .iter()
            .find(|(c, _)| ctrls.iter().all(|x| c.contains(x)))
            .map(|(_, p)| p.as_str())
    }
}

/// The container's directory in each hierarchy of `layout`: v1 dirs in
/// layout order, then the unified dir.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dirs {
    /// (controllers, directory) per v1 hierarchy.
    pub v1: Vec<(Vec<String>, PathBuf)>,
    /// The directory in the cgroup2 hierarchy.
    pub unified: Option<PathBuf>,
}

/// Resolves `cgroups_path` (or `id` when absent) in every hierarchy.
pub fn resolve(
    layout: &Layout,
    own: &OwnCgroups,
    cgroups_path: Option<&str>,
    id: &str,
) -> Result<Dirs> {
    let inner = match cgroups_path.filter(|p| !p.is_empty()) {
        Some(p) => clean(p)?,
        None => id.to_string(),
    };
    let absolute = inner.starts_with('/');
    let mut v1 = Vec::new();
    for m in &layout.v1 {
        let base = if absolute {
            "/".to_string()
        } else {
            own.v1_path(&m.controllers).unwrap_or("/").to_string()
        };
        v1.push((
            m.controllers.clone(),
            under(&m.mountpoint, &m.root, &base, &inner),
        ));
    }
    let unified = layout.unified.as_ref().map(|(mnt, root)| {
        let base = match (&own.unified, absolute) {
            (Some(p), false) => parent(p),
            _ => "/".to_string(),
        };
        under(mnt, root, &base, &inner)
    });
    Ok(Dirs { v1, unified })
}

/// `mountpoint` + (`base` seen from the mount's `root`) + `inner`.
fn under(mountpoint: &Path, root: &str, base: &str, inner: &str) -> PathBuf {
    let base = base
        .strip_prefix(root.trim_end_matches('/'))
        .unwrap_or(base);
    let mut dir = mountpoint.to_path_buf();
    for part in base.split('/').chain(inner.split('/')) {
        if !part.is_empty() {
            dir.push(part);
        }
    }
    dir
}

fn parent(p: &str) -> String {
    match p.trim_end_matches('/').rsplit_once('/') {
        Some((head, _)) if !head.is_empty() => head.to_string(),
        _ => "/".to_string(),
    }
}

/// Refuses `..` (a path must not climb out of the hierarchy) and a
/// systemd-style `slice:prefix:name` without the systemd driver.
fn clean(p: &str) -> Result<String> {
    let field = "linux.cgroupsPath".to_string();
    if p.split('/').any(|c| c == "..") {
        return Err(Error::Invalid {
            field,
            msg: format!("{p:?}: \"..\" is not allowed"),
        });
    }
    if p.matches(':').count() == 2 && !p.starts_with('/') {
        return Err(Error::Unsupported {
            field,
            reason: format!("{p:?} is a systemd slice path; berth has no systemd cgroup driver"),
        });
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    Ok(if p.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "4:memory:/machine/x\n1:cpu,cpuacct:/\n0::/user/sess\n";

    fn layout() -> Layout {
        Layout::parse(
            "1 0 0:1 / /cg/memory rw - cgroup cgroup rw,memory\n\
             2 0 0:2 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
             3 0 0:3 / /cg/unified rw - cgroup2 cgroup2 rw\n",
        )
    }

    #[test]
    fn relative_nests_under_own_cgroup_and_v2_parent() {
        let d = resolve(&layout(), &OwnCgroups::parse(OWN), Some("a/b"), "id").unwrap();
        assert_eq!(d.v1[0].1, PathBuf::from("/cg/memory/machine/x/a/b"));
        assert_eq!(d.v1[1].1, PathBuf::from("/cg/cpu,cpuacct/a/b"));
        assert_eq!(d.unified, Some(PathBuf::from("/cg/unified/user/a/b")));
    }

    #[test]
    fn absolute_and_absent() {
        let own = OwnCgroups::parse(OWN);
        let d = resolve(&layout(), &own, Some("/x/./y/"), "id").unwrap();
        assert_eq!(d.v1[0].1, PathBuf::from("/cg/memory/x/y"));
        assert_eq!(d.unified, Some(PathBuf::from("/cg/unified/x/y")));
        let d = resolve(&layout(), &own, None, "c1").unwrap();
        assert_eq!(d.v1[0].1, PathBuf::from("/cg/memory/machine/x/c1"));
    }

    #[test]
    fn mount_root_is_stripped() {
        let l = Layout::parse("3 0 0:3 /machine /cg rw - cgroup2 cgroup2 rw\n");
        let own = OwnCgroups::parse("0::/machine/me/leaf\n");
        let d = resolve(&l, &own, Some("c"), "id").unwrap();
        assert_eq!(d.unified, Some(PathBuf::from("/cg/me/c")));
    }

    #[test]
    fn dotdot_and_systemd_paths_are_refused() {
        let own = OwnCgroups::parse(OWN);
        let e = resolve(&layout(), &own, Some("a/../../b"), "id").unwrap_err();
        assert!(e.to_string().starts_with("linux.cgroupsPath: "), "{e}");
        let e = resolve(&layout(), &own, Some("system.slice:berth:x"), "id").unwrap_err();
        assert!(e.to_string().contains("systemd"), "{e}");
    }
}
