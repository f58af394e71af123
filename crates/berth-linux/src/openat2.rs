//! openat2(2), retried while the kernel asks for it.
//!
//! With `RESOLVE_IN_ROOT` or `RESOLVE_BENEATH` a lookup fails with EAGAIN
//! when a rename or a mount anywhere on the system raced it: the kernel
//! cannot then prove that a `..` stayed inside the root, and openat2(2)
//! says to try again. Every create renames (its claim and state.json) and
//! mounts, so containers made side by side meet this; a single `EAGAIN`
//! failed a create in the e2e suite. runc retries the same way.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OpenHow;
use nix::NixPath;

/// How often a lookup is tried before its EAGAIN is returned: each retry
/// needs another rename or mount to land inside a lookup of microseconds.
const TRIES: u32 = 128;

/// `openat2(dirfd, path, how)`, retried on EAGAIN.
pub fn open<P: ?Sized + NixPath, Fd: AsFd>(
    dirfd: Fd,
    path: &P,
    how: OpenHow,
) -> nix::Result<OwnedFd> {
    let mut left = TRIES;
    loop {
        match nix::fcntl::openat2(dirfd.as_fd(), path, how) {
            Err(Errno::EAGAIN) if left > 1 => left -= 1,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::{OFlag, ResolveFlag};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Lookups through `..` inside a root while another thread renames a
    /// file back and forth: the bare call meets EAGAIN, the retried one
    /// never fails.
    #[test]
    fn a_racing_rename_is_retried() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        let root = std::fs::File::open(dir.path()).expect("open root");
        let (x, y) = (dir.path().join("x"), dir.path().join("y"));
        std::fs::write(&x, "").expect("file");
        let stop = AtomicBool::new(false);
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT);
        let (bare, retried) = std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::rename(&x, &y);
                    let _ = std::fs::rename(&y, &x);
                }
            });
            let mut bare_eagain = 0;
            let mut retried_errors = 0;
            for _ in 0..20_000 {
                if matches!(
                    nix::fcntl::openat2(&root, "a/b/../../a/b/..", how),
                    Err(Errno::EAGAIN)
                ) {
                    bare_eagain += 1;
                }
                if open(&root, "a/b/../../a/b/..", how).is_err() {
                    retried_errors += 1;
                }
            }
            stop.store(true, Ordering::Relaxed);
            (bare_eagain, retried_errors)
        });
        assert_eq!(retried, 0, "retried lookups failed");
        // Without a single EAGAIN the race did not happen and the test
        // proves nothing: say so rather than pass.
        assert!(
            bare > 0,
            "no EAGAIN in 20,000 racing lookups: the race was not provoked"
        );
    }
}
