//! The container's `/etc/passwd`, read safely: resolved inside the rootfs
//! (symlinks cannot lead out of it), opened without blocking (a fifo planted
//! there cannot hang init), a regular file only, and read up to a bound.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;
use berth_linux::mount::RootDir;
use nix::fcntl::OFlag;
use nix::sys::stat::{fstat, SFlag};

/// More than any real passwd file; a bigger one is read only this far.
const MAX_BYTES: u64 = 4 << 20;

/// The text of `/etc/passwd` in the current root (after the switch).
pub fn read() -> anyhow::Result<String> {
    let path = Path::new("/etc/passwd");
    let root = RootDir::open(Path::new("/"))?;
    let fd = root.open_file(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK)?;
    let st = fstat(fd.as_fd()).context("stat /etc/passwd")?;
    anyhow::ensure!(
        SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG,
        "/etc/passwd is not a regular file"
    );
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(MAX_BYTES)
        .read_to_string(&mut text)
        .context("read /etc/passwd")?;
    Ok(text)
}
