//! The host's cgroup mounts and berth's own cgroups, read once per
//! command (`/proc/self/mountinfo`, `/proc/self/cgroup`) and handed to each
//! step that needs them: where the container's cgroups go, how its
//! `/sys/fs/cgroup` is mounted, and where the cloning thread goes home to.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use berth_cgroups::path::OwnCgroups;
use berth_cgroups::Layout;
use berth_linux::cgroup_member::{self, Membership};
use berth_linux::mount::CgroupLayout;

/// The two files' text, as read once.
#[derive(Debug, Clone)]
pub struct HostCgroups {
    mountinfo: String,
    own: String,
}

impl HostCgroups {
    /// Reads `/proc/self/mountinfo` and `/proc/self/cgroup`.
    pub fn read() -> anyhow::Result<Self> {
        Ok(Self {
            mountinfo: read(Path::new("/proc/self/mountinfo"))?,
            own: read(Path::new("/proc/self/cgroup"))?,
        })
    }

    /// The hierarchies, for the cgroup manager.
    pub fn layout(&self) -> Layout {
        Layout::parse(&self.mountinfo)
    }

    /// berth's own cgroups, under which a relative `cgroupsPath` nests.
    pub fn own(&self) -> OwnCgroups {
        OwnCgroups::parse(&self.own)
    }

    /// The hierarchies as a container's `cgroup` mount needs them.
    pub fn mount_layout(&self) -> CgroupLayout {
        CgroupLayout::parse(&self.mountinfo, &self.own)
    }

    /// The calling thread's cgroups now (`/proc/thread-self/cgroup`, read
    /// afresh: a thread can move).
    pub fn this_thread(&self) -> anyhow::Result<Vec<Membership>> {
        let text = read(Path::new("/proc/thread-self/cgroup"))?;
        Ok(cgroup_member::parse(&self.mountinfo, &text))
    }
}

/// Reads a /proc file, which reports size 0: a buffer sized for a whole
/// mount table up front spares the 32-byte first read and its doublings.
fn read(path: &Path) -> anyhow::Result<String> {
    let mut text = String::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("read {}", path.display()))?;
    Ok(text)
}
