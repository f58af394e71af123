//! `/dev` inside the container: device nodes, the standard symlinks and
//! `/dev/ptmx`.

use std::os::fd::AsFd;
use std::path::Path;

use berth_spec::plan::{Device, DeviceKind};
use nix::errno::Errno;
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

use crate::error::{SysError, SysResult};
use crate::mount::{Create, RootDir};

/// Creates each device node under `root`. In a user namespace mknod(2) is
/// not allowed, so `bind` bind-mounts the host's node of the same path over
/// an empty file instead (as runc does).
pub fn create(root: &RootDir, devices: &[Device], bind: bool) -> SysResult<()> {
    devices.iter().try_for_each(|d| {
        if bind {
            bind_node(root, d)
        } else {
            make_node(root, d)
        }
    })
}

fn make_node(root: &RootDir, d: &Device) -> SysResult<()> {
    let shown = root.display(&d.path);
    let (dir, name) = parent_of(root, &d.path)?;
    let kind = match d.kind {
        DeviceKind::Char => SFlag::S_IFCHR,
        DeviceKind::Block => SFlag::S_IFBLK,
        DeviceKind::Fifo => SFlag::S_IFIFO,
    };
    let perm = Mode::from_bits_truncate(d.mode & 0o7777);
    tracing::debug!(path = %d.path.display(), ?kind, d.major, d.minor, "mknod");
    match mknodat(dir.as_fd(), name, kind, perm, makedev(d.major, d.minor)) {
        // A node the rootfs already has is kept (runc does the same).
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(errno) => return Err(SysError::at("mknod", shown, errno)),
    }
    fchownat(
        dir.as_fd(),
        name,
        Some(Uid::from_raw(d.uid)),
        Some(Gid::from_raw(d.gid)),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(|errno| SysError::at("chown", shown, errno))
}

fn bind_node(root: &RootDir, d: &Device) -> SysResult<()> {
    let shown = root.display(&d.path);
    let tree = crate::mount::detached::clone_tree(&d.path, false)?;
    let target = root.resolve(&d.path, Create::File)?;
    crate::mount::detached::attach(tree.as_fd(), target.as_fd(), &shown)
}

/// `/dev/fd`, `/dev/stdin`, `/dev/stdout`, `/dev/stderr` (and `/dev/core`
/// when the host has `/proc/kcore`), pointing into `/proc/self`.
pub fn symlinks(root: &RootDir) -> SysResult<()> {
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    let dev = root.resolve(Path::new("/dev"), Create::Dir)?;
    for (target, name) in links {
        match symlinkat(target, dev.as_fd(), name) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(errno) => {
                return Err(SysError::at(
                    "symlink",
                    root.display(&Path::new("/dev").join(name)),
                    errno,
                ))
            }
        }
    }
    Ok(())
}

/// Replaces `/dev/ptmx` with a symlink to `pts/ptmx`, so that ptys come from
/// the container's own devpts instance.
pub fn ptmx(root: &RootDir) -> SysResult<()> {
    let dev = root.resolve(Path::new("/dev"), Create::Dir)?;
    let shown = root.display(Path::new("/dev/ptmx"));
    match unlinkat(dev.as_fd(), "ptmx", UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(errno) => return Err(SysError::at("unlink", shown, errno)),
    }
    symlinkat("pts/ptmx", dev.as_fd(), "ptmx")
        .map_err(|errno| SysError::at("symlink", shown, errno))
}

/// The directory holding `path` (created if missing) and the last component.
fn parent_of<'p>(
    root: &RootDir,
    path: &'p Path,
) -> SysResult<(std::os::fd::OwnedFd, &'p std::ffi::OsStr)> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .ok_or_else(|| SysError::at("mknod", root.display(path), Errno::EINVAL))?;
    Ok((root.resolve(parent, Create::Dir)?, name))
}
