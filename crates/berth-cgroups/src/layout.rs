//! Which cgroup hierarchies the host has, read from mountinfo (never by
//! guessing paths): v1 only, hybrid (v1 controllers plus a cgroup2 mount,
//! e.g. at `/sys/fs/cgroup/unified`), or v2 only.

use std::path::{Path, PathBuf};

use crate::error::{io, Result};

/// One mounted v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Mount {
    /// Where it is mounted.
    pub mountpoint: PathBuf,
    /// The cgroup the mount shows as its root (`/` unless bind-mounted or
    /// inside a cgroup namespace).
    pub root: String,
    /// Its controllers, and `name=…` for a named hierarchy.
    pub controllers: Vec<String>,
}

/// The host's cgroup mounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// v1 hierarchies, in mountinfo order (first mount of each).
    pub v1: Vec<V1Mount>,
    /// The cgroup2 mount point and its root, if any.
    pub unified: Option<(PathBuf, String)>,
}

/// The three layouts a host can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only v1 hierarchies.
    V1,
    /// v1 controllers and a cgroup2 hierarchy.
    Hybrid,
    /// Only cgroup2 (named v1 hierarchies such as `name=systemd` aside).
    V2,
}

impl Layout {
    /// Reads `/proc/self/mountinfo`.
    pub fn detect() -> Result<Layout> {
        Self::detect_in(Path::new("/proc"))
    }

    /// Reads `<proc>/self/mountinfo` (tests pass a temp dir).
    pub fn detect_in(proc: &Path) -> Result<Layout> {
        let path = proc.join("self/mountinfo");
        let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
        Ok(Self::parse(&text))
    }

    /// Parses mountinfo text.
    pub fn parse(mountinfo: &str) -> Layout {
        let mut layout = Layout::default();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let left: Vec<&str> = left.split_whitespace().collect();
            let right: Vec<&str> = right.split_whitespace().collect();
            let (Some(root), Some(mountpoint)) = (left.get(3), left.get(4)) else {
                continue;
            };
            let mountpoint = PathBuf::from(unescape(mountpoint));
            match right.first().copied() {
                Some("cgroup2") if layout.unified.is_none() => {
                    layout.unified = Some((mountpoint, root.to_string()));
                }
                Some("cgroup") => {
                    let opts = right.get(2).copied().unwrap_or_default();
                    let controllers: Vec<String> = opts
                        .split(',')
                        .filter(|o| is_controller(o))
                        .map(str::to_string)
                        .collect();
                    if !layout.v1.iter().any(|m| m.controllers == controllers) {
                        layout.v1.push(V1Mount {
                            mountpoint,
                            root: root.to_string(),
                            controllers,
                        });
                    }
                }
                _ => {}
            }
        }
        layout
    }

    /// v1, hybrid or v2.
    pub fn kind(&self) -> Kind {
        let real_v1 = self
            .v1
            .iter()
            .any(|m| m.controllers.iter().any(|c| !c.starts_with("name=")));
        match (real_v1, self.unified.is_some()) {
            (true, true) => Kind::Hybrid,
            (false, true) => Kind::V2,
            _ => Kind::V1,
        }
    }

    /// The v1 hierarchy holding `controller`.
    pub fn v1_mount(&self, controller: &str) -> Option<&V1Mount> {
        self.v1
            .iter()
            .find(|m| m.controllers.iter().any(|c| c == controller))
    }
}

/// Super options that name a controller (as opposed to `rw`,
/// `relatime`, `clone_children`…).
fn is_controller(opt: &str) -> bool {
    const NOT: [&str; 8] = [
        "rw",
        "ro",
        "relatime",
        "noexec",
        "nosuid",
        "nodev",
        "clone_children",
        "noprefix",
    ];
    !opt.is_empty() && !NOT.contains(&opt) && !opt.starts_with("release_agent=") && opt != "xattr"
        || opt.starts_with("name=")
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(char::from(c));
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_host() {
        let l = Layout::parse(HYBRID);
        assert_eq!(l.kind(), Kind::Hybrid);
        assert_eq!(l.v1.len(), 3);
        assert_eq!(
            l.v1_mount("memory").map(|m| m.mountpoint.clone()),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        assert_eq!(l.v1[2].controllers, ["name=systemd"]);
        assert!(l.v1_mount("hugetlb").is_none());
        assert_eq!(
            l.unified,
            Some((PathBuf::from("/sys/fs/cgroup/unified"), "/".into()))
        );
    }

    #[test]
    fn pure_v2_and_pure_v1() {
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(Layout::parse(v2).kind(), Kind::V2);
        let v1 = "32 31 0:29 / /c/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct,xattr\n";
        let l = Layout::parse(v1);
        assert_eq!(l.kind(), Kind::V1);
        assert_eq!(l.v1[0].controllers, ["cpu", "cpuacct"]);
        assert!(l.v1_mount("cpuacct").is_some());
    }

    #[test]
    fn escaped_mountpoint_and_injected_proc() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("self")).unwrap();
        let text = "41 31 0:38 /sub /a\\040b rw - cgroup2 cgroup2 rw\n";
        std::fs::write(dir.path().join("self/mountinfo"), text).unwrap();
        let l = Layout::detect_in(dir.path()).unwrap();
        assert_eq!(l.unified, Some((PathBuf::from("/a b"), "/sub".into())));
    }
}
