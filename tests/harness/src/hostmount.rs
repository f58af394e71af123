//! Host-side mounts that a test makes itself (e.g. a submount to see whether
//! `rbind` carries it), removed again when the guard drops.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

/// A tmpfs this test mounted on the host; unmounted (lazily) on drop.
pub struct TmpfsMount {
    target: PathBuf,
}

impl TmpfsMount {
    /// Mounts a small private tmpfs on `target` (an existing directory).
    pub fn new(target: &Path) -> Self {
        let t = cstr(target);
        let (src, ty, data) = (c"berth-e2e", c"tmpfs", c"size=1m,mode=755");
        // SAFETY: every pointer is a valid NUL-terminated string that lives
        // across the call; mount(2) does not keep them.
        let rc = unsafe {
            libc::mount(
                src.as_ptr(),
                t.as_ptr(),
                ty.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
        assert_eq!(
            rc,
            0,
            "mount tmpfs on {}: {}",
            target.display(),
            std::io::Error::last_os_error()
        );
        let guard = TmpfsMount {
            target: target.to_path_buf(),
        };
        // Private, so nothing about it propagates to other mount namespaces.
        // SAFETY: as above; a NULL source/type/data is allowed for MS_PRIVATE.
        let rc = unsafe {
            libc::mount(
                std::ptr::null(),
                t.as_ptr(),
                std::ptr::null(),
                libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        assert_eq!(
            rc,
            0,
            "make {} private: {}",
            target.display(),
            std::io::Error::last_os_error()
        );
        guard
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        detach(&self.target);
    }
}

/// Lazily unmounts `target`, ignoring errors (cleanup only).
pub fn detach(target: &Path) {
    let t = cstr(target);
    // SAFETY: `t` is a valid NUL-terminated path for the duration of the call.
    unsafe {
        libc::umount2(t.as_ptr(), libc::MNT_DETACH);
    }
}
