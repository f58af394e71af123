//! Mounting: the `mounts` of a config, each onto a target resolved inside
//! the rootfs.

mod apply;
mod cgroup;
pub mod detached;
pub mod flags;
pub mod fscontext;
pub mod resolve;

use std::path::Path;

use nix::mount::MsFlags;
use nix::sys::statvfs::FsFlags;

pub use apply::{mount_entry, DelayedReadonly};
pub use cgroup::{CgroupLayout, Hierarchy};
pub use fscontext::Error;
pub use resolve::{fd_path, Create, RootDir};

use crate::error::{SysError, SysResult};

/// `MsFlags` from the plan's raw `MS_*` bits.
pub(crate) fn ms(flags: u64) -> MsFlags {
    MsFlags::from_bits_truncate(libc::c_ulong::try_from(flags).unwrap_or_default())
}

/// `mount(2)` on `target`, with errors naming `shown` (the path a human
/// knows: the destination inside the rootfs, as a host path).
pub(crate) fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
    shown: &Path,
) -> SysResult<()> {
    let data = data.filter(|d| !d.is_empty());
    tracing::debug!(target = %shown.display(), ?fstype, flags = format_args!("{flags:#x}"), ?data, "mount");
    nix::mount::mount(source, target, fstype, ms(flags), data)
        .map_err(|errno| SysError::at("mount", shown, errno))
}

/// The `MS_*` flags matching a mount's current `ST_*` flags.
fn locked_flags(st: FsFlags) -> u64 {
    let table = [
        (FsFlags::ST_RDONLY, libc::MS_RDONLY),
        (FsFlags::ST_NOSUID, libc::MS_NOSUID),
        (FsFlags::ST_NODEV, libc::MS_NODEV),
        (FsFlags::ST_NOEXEC, libc::MS_NOEXEC),
        (FsFlags::ST_NOATIME, libc::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, libc::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, libc::MS_RELATIME),
    ];
    table
        .iter()
        .filter(|(st_flag, _)| st.contains(*st_flag))
        .fold(0, |acc, (_, ms)| acc | ms)
}

/// Detaches every mount at or below `path` in this mount namespace,
/// deepest first; returns how many. For containers that shared the
/// runtime's mount namespace, whose mounts outlive their processes.
pub fn unmount_under(path: &Path) -> SysResult<usize> {
    let info = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(info)
        .map_err(|e| SysError::at("read", info, crate::error::io_errno(&e)))?;
    let mut points = mount_points_under(&text, path);
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    let mut count = 0;
    for point in points {
        match nix::mount::umount2(&point, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) => count += 1,
            // Already gone with a parent that was detached first.
            Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => {}
            Err(errno) => return Err(SysError::at("umount", point, errno)),
        }
    }
    Ok(count)
}

/// The mount points in mountinfo text that are `path` or below it.
fn mount_points_under(mountinfo: &str, path: &Path) -> Vec<std::path::PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| std::path::PathBuf::from(unescape_octal(field)))
        .filter(|point| point.starts_with(path))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
pub(crate) fn unescape_octal(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest
            .get(i + 1..i + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
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

    #[test]
    fn finds_mounts_below_a_path_unescaped() {
        let info = "\
22 1 0:21 / / rw - ext4 /dev/vda rw
30 22 0:30 / /b/rootfs rw - ext4 /dev/vda rw
31 30 0:31 / /b/rootfs/proc rw - proc proc rw
32 30 0:32 / /b/rootfs/with\\040space rw - tmpfs tmpfs rw
33 22 0:33 / /b/rootfs2 rw - tmpfs tmpfs rw
";
        let got = mount_points_under(info, Path::new("/b/rootfs"));
        let want: Vec<std::path::PathBuf> = ["/b/rootfs", "/b/rootfs/proc", "/b/rootfs/with space"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn locked_flags_follow_statvfs() {
        assert_eq!(
            locked_flags(FsFlags::ST_NOSUID | FsFlags::ST_NODEV),
            libc::MS_NOSUID | libc::MS_NODEV
        );
        assert_eq!(locked_flags(FsFlags::empty()), 0);
    }
}
