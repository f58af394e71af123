//! `--console-socket`: listen on a unix socket, receive the pty master that
//! the runtime sends over SCM_RIGHTS, and talk to the container through it.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tempfile::TempDir;

use crate::wait::condition_timeout;

/// A listening console socket in its own temp dir.
pub struct ConsoleSocket {
    _dir: TempDir,
    path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    /// Binds a fresh socket.
    pub fn new() -> Self {
        let dir = crate::bundle::temp_dir("berth-e2e-console-");
        let path = dir.path().join("console.sock");
        let listener = UnixListener::bind(&path).expect("bind console socket");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        ConsoleSocket {
            _dir: dir,
            path,
            listener,
        }
    }

    /// The socket path, for `--console-socket`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts the runtime's connection and returns the pty master it sent.
    #[track_caller]
    pub fn recv_master(&self) -> Pty {
        Pty {
            file: File::from(self.receive_fd()),
        }
    }

    /// Accepts the runtime's connection and returns the fd it sent (also
    /// for `--pidfd-socket`).
    #[track_caller]
    pub fn receive_fd(&self) -> OwnedFd {
        let deadline = Instant::now() + condition_timeout();
        let conn = loop {
            match self.listener.accept() {
                Ok((c, _)) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        Instant::now() < deadline,
                        "nobody connected to the console socket"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => panic!("accept on console socket: {e}"),
            }
        };
        conn.set_nonblocking(false).expect("blocking conn");
        conn.set_read_timeout(Some(condition_timeout()))
            .expect("read timeout");
        recv_fd(conn.as_raw_fd()).expect("receive an fd over SCM_RIGHTS")
    }
}

impl Default for ConsoleSocket {
    fn default() -> Self {
        Self::new()
    }
}

/// Receives exactly one fd with recvmsg(2) (the data, runc sends the pty
/// name, is ignored).
fn recv_fd(sock: RawFd) -> std::io::Result<OwnedFd> {
    recv_with_fd(sock).map(|(_, fd)| fd)
}

/// One recvmsg(2): the data and the first SCM_RIGHTS fd (the seccomp
/// listener of `notify` needs both).
pub(crate) fn recv_with_fd(sock: RawFd) -> std::io::Result<(Vec<u8>, OwnedFd)> {
    let mut data = vec![0u8; 64 * 1024];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // Room for one cmsghdr carrying up to 4 fds, 8-byte aligned.
    let mut cbuf = [0u64; 16];
    // SAFETY: msghdr is plain data; all-zero is a valid starting value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf);
    // SAFETY: msg points to live buffers (iov, data, cbuf) sized as declared.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    data.truncate(usize::try_from(n).unwrap_or(0));
    // SAFETY: msg was filled in by recvmsg; the CMSG_* helpers walk cbuf
    // within msg_controllen.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: cmsg is non-null and points into cbuf (see above).
        let (level, ty) = unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type) };
        if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
            // SAFETY: an SCM_RIGHTS payload holds at least one int fd; read
            // unaligned since CMSG_DATA only guarantees cmsghdr alignment.
            let fd: RawFd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            // SAFETY: the kernel just installed this fd in our table; we own it.
            return Ok((data, unsafe { OwnedFd::from_raw_fd(fd) }));
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Err(std::io::Error::other("no SCM_RIGHTS fd in the message"))
}

/// The pty master of a container.
pub struct Pty {
    file: File,
}

impl Pty {
    /// Types `text` into the container's terminal.
    pub fn write(&mut self, text: &str) {
        self.file
            .write_all(text.as_bytes())
            .expect("write to pty master");
    }

    /// Reads until `needle` appears in the output (or EOF/EIO, which is how a
    /// pty master reports that the last slave closed) and returns everything
    /// read. Panics if neither happens in time.
    #[track_caller]
    pub fn read_until(&mut self, needle: &str) -> String {
        self.read(Some(needle))
    }

    /// Reads until the last slave fd closes (EOF/EIO); returns everything.
    #[track_caller]
    pub fn read_to_eof(&mut self) -> String {
        self.read(None)
    }

    #[track_caller]
    fn read(&mut self, needle: Option<&str>) -> String {
        let deadline = Instant::now() + condition_timeout();
        let mut out = Vec::new();
        loop {
            if needle.is_some_and(|n| String::from_utf8_lossy(&out).contains(n)) {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "gave up waiting for {} on the pty; got {:?}",
                needle.unwrap_or("EOF"),
                String::from_utf8_lossy(&out)
            );
            let mut pfd = libc::pollfd {
                fd: self.file.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = libc::c_int::try_from(left.as_millis().min(1000)).unwrap_or(1000);
            // SAFETY: pfd is a valid pollfd array of length 1.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc <= 0 {
                continue;
            }
            let mut buf = [0u8; 4096];
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("read pty master: {e}"),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
