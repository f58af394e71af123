//! The one piece of networking a runtime does: bring `lo` up in a new
//! network namespace, as runc and crun do.

use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

use crate::error::{Op, SysError, SysResult};

/// `IFF_UP` as the `c_short` that `ifru_flags` is (the value is 1).
const IFF_UP: libc::c_short = 1;

/// Sets `IFF_UP` on the loopback interface of the current network namespace.
pub fn loopback_up() -> SysResult<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .op("socket")?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads ifr_name and writes ifr_ifru.ifru_flags of
    // the ifreq we own; the socket fd is open.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(SysError::new("SIOCGIFFLAGS lo", Errno::last()));
    }
    // SAFETY: the kernel filled ifru_flags above; the union member is a c_short.
    unsafe { req.ifr_ifru.ifru_flags |= IFF_UP };
    // SAFETY: SIOCSIFFLAGS reads the ifreq we own; the socket fd is open.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(SysError::new("SIOCSIFFLAGS lo", Errno::last()));
    }
    Ok(())
}
