//! The rootfs as a whole: making it a mount point, switching to it
//! (pivot_root or move+chroot), and the paths masked or made read-only
//! after the switch.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags};
use nix::sys::stat::{fstat, Mode, SFlag};
use nix::unistd::{chdir, chroot, fchdir, pivot_root};

use crate::error::{Op, SysResult};
use crate::mount::detached::{attach, clone_at, clone_fd, set_attr};
use crate::mount::flags::{fresh_attrs, readonly_attr};
use crate::mount::fscontext::{new_mount, Fresh};
use crate::mount::{fd_path, mount, Create, RootDir};

/// runc's default `rootfsPropagation`: mounts made on the host still reach
/// the container, none made in the container reach the host.
pub const DEFAULT_PROPAGATION: u64 = libc::MS_SLAVE | libc::MS_REC;

/// Sets the propagation of the whole mount namespace (`rootfsPropagation`)
/// and bind-mounts the rootfs onto itself so that it is a mount point
/// pivot_root can switch to.
///
/// Unbindable propagation would forbid that very bind, so the namespace
/// starts as the default and [`set_root_propagation`] applies it after the
/// switch. pivot_root(2) refuses a new root whose parent mount is shared:
/// with shared propagation the rootfs is bound twice, the first bind made
/// private to be the parent of the second.
pub fn prepare(rootfs: &Path, propagation: u64) -> SysResult<()> {
    let root = Path::new("/");
    let initial = if propagation & libc::MS_UNBINDABLE != 0 {
        DEFAULT_PROPAGATION
    } else {
        propagation
    };
    mount(None, root, None, initial, None, root)?;
    let bind = libc::MS_BIND | libc::MS_REC;
    mount(Some(rootfs), rootfs, None, bind, None, rootfs)?;
    if propagation & libc::MS_SHARED != 0 {
        mount(None, rootfs, None, libc::MS_PRIVATE, None, rootfs)?;
        mount(Some(rootfs), rootfs, None, bind, None, rootfs)?;
    }
    Ok(())
}

/// After the switch, gives the new `/` the configured propagation (the
/// bind made by [`prepare`] did not inherit it). Nothing to do for the
/// default.
pub fn set_root_propagation(propagation: u64) -> SysResult<()> {
    if propagation == DEFAULT_PROPAGATION {
        return Ok(());
    }
    let root = Path::new("/");
    mount(None, root, None, propagation, None, root)
}

/// Makes `rootfs` the root of the mount namespace with pivot_root(2) and
/// detaches the old root (runc `pivotRoot`).
pub fn pivot(rootfs: &Path) -> SysResult<()> {
    let old = open(
        "/",
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .op_at("open", Path::new("/"))?;
    let new = open(
        rootfs,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .op_at("open", rootfs)?;
    fchdir(new.as_fd()).op_at("chdir", rootfs)?;
    // pivot_root(".", ".") stacks the old root on top of the new one at
    // "/", so no directory inside the rootfs is needed to hold it.
    pivot_root(".", ".").op_at("pivot_root", rootfs)?;
    fchdir(old.as_fd()).op("chdir old root")?;
    // Slave first, so that detaching the old root does not propagate the
    // unmount back to the host's mounts.
    let here = Path::new(".");
    mount(
        None,
        here,
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
        Path::new("old root"),
    )?;
    umount2(here, MntFlags::MNT_DETACH).op("unmount old root")?;
    chdir("/").op("chdir /")
}

/// `--no-pivot`: moves the rootfs mount over `/` and chroots into it, for
/// roots pivot_root cannot handle (e.g. a ramfs initrd).
///
/// The old root's other mounts (the host's `/proc`, `/sys`, ...) would stay
/// in the namespace under the new root: out of the chroot's reach by path,
/// but a process that makes a user namespace could still mount a fresh
/// procfs next to them and see what the masked paths hide. So they are
/// opened before the move and detached after it (runc unmounts the host's
/// proc and sysfs for the same reason).
pub fn move_root(rootfs: &Path) -> SysResult<()> {
    let info = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(info)
        .map_err(|e| crate::error::SysError::at("read", info, crate::error::io_errno(&e)))?;
    // mountinfo shows the real path; the config's may go through symlinks.
    let real = std::fs::canonicalize(rootfs).unwrap_or_else(|_| rootfs.to_path_buf());
    let outside: Vec<_> = old_root_mounts(&text, &real)
        .iter()
        .filter_map(|point| {
            let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            open(point.as_path(), flags, Mode::empty()).ok()
        })
        .collect();
    chdir(rootfs).op_at("chdir", rootfs)?;
    mount(
        Some(rootfs),
        Path::new("/"),
        None,
        libc::MS_MOVE,
        None,
        rootfs,
    )?;
    // Until the chroot, absolute paths still start at the old root, whose
    // /proc (listed last) reaches the fds below.
    for fd in &outside {
        detach(&fd_path(fd))?;
    }
    chroot(".").op_at("chroot", rootfs)?;
    chdir("/").op("chdir /")
}

/// Detaches the mount at `path` (made a slave first, so that the unmount
/// cannot propagate to the host). One that cannot be unmounted (locked in
/// a user namespace) is covered with an empty tmpfs instead, as runc does:
/// the kernel does not count a covered procfs or sysfs as visible.
fn detach(path: &Path) -> SysResult<()> {
    let shown = Path::new("old root mount");
    match mount(None, path, None, libc::MS_SLAVE | libc::MS_REC, None, shown) {
        // Already gone with a parent detached before it.
        Err(e) if matches!(e.errno, Errno::EINVAL | Errno::ENOENT) => return Ok(()),
        other => other?,
    }
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) => Ok(()),
        Err(Errno::EINVAL | Errno::EPERM) => {
            let tmpfs = Some(Path::new("tmpfs"));
            mount(tmpfs, path, Some("tmpfs"), libc::MS_RDONLY, None, shown)
        }
        Err(errno) => Err(crate::error::SysError::at("umount", shown, errno)),
    }
}

/// The mount points right under the root mount in mountinfo `text`, except
/// the rootfs and what is below it; `/proc` comes last.
fn old_root_mounts(text: &str, rootfs: &Path) -> Vec<std::path::PathBuf> {
    let rows: Vec<(&str, &str, std::path::PathBuf)> = text
        .lines()
        .filter_map(|line| {
            let mut f = line.split(' ');
            let (id, parent) = (f.next()?, f.next()?);
            let point = f.nth(2)?;
            Some((id, parent, crate::mount::unescape_octal(point).into()))
        })
        .collect();
    let Some(root_id) = rows
        .iter()
        .rev()
        .find(|r| r.2 == Path::new("/"))
        .map(|r| r.0)
    else {
        return Vec::new();
    };
    let mut points: Vec<std::path::PathBuf> = rows
        .into_iter()
        .filter(|(id, parent, point)| {
            *parent == root_id && *id != root_id && !point.starts_with(rootfs)
        })
        .map(|r| r.2)
        .collect();
    points.sort_by_key(|p| p == Path::new("/proc"));
    points
}

/// The host's `/dev/null` as a mount, for masking files: the container's
/// own `/dev/null` is the image's to replace (CVE-2025-31133, a symlink
/// into `/proc/sys` turned a masked path into a writable sysctl).
///
/// One detached bind is made before the switch, while the host's `/dev` is
/// still reachable; the first masked file gets it, and each later one a
/// clone of that mount through its fd (no path is looked up). Only what is
/// attached is made: closing a detached mount that was never attached
/// makes the kernel dissolve it (an expedited RCU grace period, 7 to 70 µs
/// here), which one bind per masked path did nine times per create with
/// runc's default masks.
#[derive(Debug)]
pub struct HostNull {
    fd: OwnedFd,
    attached: bool,
}

impl HostNull {
    /// Opens the host's `/dev/null` without following symlinks, checks it
    /// is the character device 1:3, and binds it (close-on-exec).
    pub fn bind() -> SysResult<Self> {
        Ok(Self {
            fd: host_null_tree()?,
            attached: false,
        })
    }

    /// Attaches a bind of the host's `/dev/null` over `target`.
    fn attach_over(&mut self, target: std::os::fd::BorrowedFd<'_>, path: &Path) -> SysResult<()> {
        if self.attached {
            let copy = clone_fd(self.fd.as_fd(), path)?;
            return attach(copy.as_fd(), target, path);
        }
        attach(self.fd.as_fd(), target, path)?;
        self.attached = true;
        Ok(())
    }
}

fn host_null_tree() -> SysResult<OwnedFd> {
    let path = Path::new("/dev/null");
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let null = open(path, flags, Mode::empty()).op_at("open", path)?;
    let st = fstat(null.as_fd()).op_at("stat", path)?;
    let is_chr = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFCHR;
    let rdev = st.st_rdev;
    if !is_chr || libc::major(rdev) != 1 || libc::minor(rdev) != 3 {
        return Err(crate::error::SysError::at(
            "expect the character device 1:3 at",
            path,
            Errno::ENODEV,
        ));
    }
    clone_fd(null.as_fd(), path)
}

/// Hides `path` (after the switch): a new read-only tmpfs over a
/// directory, a bind of the host's `/dev/null` ([`HostNull`]) over
/// anything else, attached to the target resolved inside the root. A
/// missing path is not an error.
pub fn mask(root: &RootDir, path: &Path, null: &mut HostNull) -> Result<(), crate::mount::Error> {
    let target = match root.resolve(path, Create::Nothing) {
        Err(e) if e.errno == Errno::ENOENT => return Ok(()),
        other => other?,
    };
    let st = fstat(target.as_fd()).op_at("stat", path)?;
    let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
    if is_dir {
        let fresh = Fresh {
            fstype: "tmpfs",
            source: "tmpfs",
            flags: libc::MS_RDONLY,
            params: Vec::new(),
            attrs: fresh_attrs(libc::MS_RDONLY),
        };
        let tmpfs = new_mount(&fresh, path)?;
        Ok(attach(tmpfs.as_fd(), target.as_fd(), path)?)
    } else {
        Ok(null.attach_over(target.as_fd(), path)?)
    }
}

/// Makes `path` read-only (after the switch): a detached recursive copy of
/// the mounts at the target resolved inside the root, made read-only
/// (its other flags kept, as runc keeps nosuid/nodev/noexec) before it is
/// attached over the target. A missing path is not an error.
pub fn make_readonly(root: &RootDir, path: &Path) -> SysResult<()> {
    let target = match root.resolve(path, Create::Nothing) {
        Err(e) if e.errno == Errno::ENOENT => return Ok(()),
        other => other?,
    };
    let tree = clone_at(target.as_fd(), true, path)?;
    set_attr(tree.as_fd(), readonly_attr(), false, path)?;
    attach(tree.as_fd(), target.as_fd(), path)
}

/// `root.readonly`: makes the mount at `/` read-only (after the switch),
/// through the fd of the root itself.
pub fn readonly_root(root: &RootDir) -> SysResult<()> {
    set_attr(root.fd(), readonly_attr(), false, Path::new("/"))
}

/// Bind-mounts the rootfs onto itself, and nothing else: for a container
/// that shares the runtime's mount namespace, whose propagation is not
/// ours to change. The bind makes the root a mount of its own, so that
/// `root.readonly` can remount it.
pub fn bind_self(rootfs: &Path) -> SysResult<()> {
    mount(
        Some(rootfs),
        rootfs,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
        rootfs,
    )
}

/// Without a mount namespace of its own the container shares the runtime's
/// mounts: pivot_root would move the host's root, so chroot into the
/// rootfs instead (runc does the same). Its mounts stay in the host's
/// namespace until [`crate::mount::unmount_under`] removes them at delete.
pub fn chroot_into(rootfs: &Path) -> SysResult<()> {
    chdir(rootfs).op_at("chdir", rootfs)?;
    chroot(".").op_at("chroot", rootfs)?;
    chdir("/").op("chdir /")
}

/// Makes the directory open at `root` the root and cwd: how `exec` takes
/// the root of the container's init (opened as `/proc/<pid>/root` before
/// joining its mount namespace), which setns(2) alone would not give when
/// init chrooted (`--no-pivot`, or no mount namespace of its own).
pub fn chroot_to(root: std::os::fd::BorrowedFd<'_>) -> SysResult<()> {
    nix::unistd::fchdir(root).op("fchdir to the container's root")?;
    chroot(".").op("chroot to the container's root")?;
    chdir("/").op("chdir /")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_root_mounts_are_the_roots_children_outside_the_rootfs() {
        let info = "\
20 1 0:1 / / rw - ext4 /dev/vda rw
21 20 0:2 / /proc rw - proc proc rw
22 20 0:3 / /sys rw - sysfs sysfs rw
23 22 0:4 / /sys/fs/cgroup rw - tmpfs tmpfs rw
24 20 0:5 / /dev/shm rw - tmpfs tmpfs rw
25 24 0:5 /b /dev/shm/b/rootfs rw - tmpfs tmpfs rw
26 20 0:1 /x /srv/rootfs rw - ext4 /dev/vda rw
";
        let got = old_root_mounts(info, Path::new("/srv/rootfs"));
        let want: Vec<std::path::PathBuf> = ["/sys", "/dev/shm", "/proc"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(got, want);
    }
}
