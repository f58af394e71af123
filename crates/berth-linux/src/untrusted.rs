//! Reading files the container's image controls (`/etc/passwd`,
//! `/etc/group`) as the host's root, outside any cgroup: resolved inside
//! the rootfs, opened without blocking, only regular files, size bounded.
//!
//! A hostile image could otherwise make berth allocate without limit
//! (`/etc/passwd -> /dev/zero`), hang `create` forever (a FIFO), or read a
//! host file through a symlink.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{fstat, SFlag};

use crate::error::{Op, SysError, SysResult};
use crate::mount::RootDir;

/// Most bytes read from one such file: far more than any real passwd(5)
/// or group(5) file.
pub const MAX_BYTES: u64 = 4 << 20;

/// The text of `path` inside `root`; `Ok(None)` when it does not exist.
/// Not a regular file, larger than [`MAX_BYTES`] or not UTF-8: an error.
pub fn read_text(root: &RootDir, path: &Path) -> SysResult<Option<String>> {
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY;
    let fd = match root.open_file(path, flags) {
        Ok(fd) => fd,
        Err(e) if e.errno == Errno::ENOENT => return Ok(None),
        Err(e) => return Err(e),
    };
    let display = root.display(path);
    let st = fstat(fd.as_fd()).op_at("fstat", &display)?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
        return Err(SysError::at("not a regular file:", display, Errno::EINVAL));
    }
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .op_at("read", &display)?;
    if text.len() as u64 > MAX_BYTES {
        return Err(SysError::at("larger than 4 MiB:", display, Errno::EFBIG));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
        std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n")
            .expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).expect("symlink");
        std::fs::File::create(dir.path().join("big"))
            .and_then(|f| f.set_len(MAX_BYTES + 1))
            .expect("sparse file");
        let root = RootDir::open(dir.path()).expect("root");
        let text = read_text(&root, Path::new("/etc/passwd")).expect("read");
        assert_eq!(text.as_deref(), Some("root:x:0:0::/root:/bin/sh\n"));
        // An absolute symlink resolves inside the root, not on the host.
        assert_eq!(read_text(&root, Path::new("/link")).expect("read"), text);
        assert_eq!(read_text(&root, Path::new("/nope")).expect("read"), None);
        let dir_err = read_text(&root, Path::new("/etc")).expect_err("a directory");
        assert_eq!(dir_err.errno, Errno::EINVAL);
        let big = read_text(&root, Path::new("/big")).expect_err("too big");
        assert_eq!(big.errno, Errno::EFBIG);
    }
}
