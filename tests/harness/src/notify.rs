//! A seccomp notify listener for `linux.seccomp.listenerPath` tests: it
//! accepts the runtime's connection, keeps the container-process-state
//! JSON that came with the notify fd, and answers every notified system
//! call with one errno, on its own thread, until the container is gone.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde_json::Value;

/// `struct seccomp_notif` (linux/seccomp.h).
#[repr(C)]
#[derive(Default)]
struct Notif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
struct NotifResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

const NOTIF_RECV: libc::c_ulong = 0xC050_2100; // _IOWR('!', 0, struct seccomp_notif)
const NOTIF_SEND: libc::c_ulong = 0xC018_2101; // _IOWR('!', 1, struct seccomp_notif_resp)

/// A listener socket and the thread serving it.
pub struct NotifyListener {
    path: PathBuf,
    state: mpsc::Receiver<Value>,
    _thread: JoinHandle<()>,
}

impl NotifyListener {
    /// Listens at `dir/notify.sock`; every notified call fails with `errno`.
    pub fn start(dir: &Path, errno: i32) -> Self {
        Self::serve(dir, Some(errno))
    }

    /// Listens at `dir/notify.sock` and never answers: a notified call
    /// blocks until its process is killed.
    pub fn silent(dir: &Path) -> Self {
        Self::serve(dir, None)
    }

    fn serve(dir: &Path, errno: Option<i32>) -> Self {
        let path = dir.join("notify.sock");
        let listener = UnixListener::bind(&path).expect("bind the notify listener");
        let (tx, state) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let Ok((conn, _)) = listener.accept() else {
                return;
            };
            let Ok((text, fd)) = crate::console::recv_with_fd(conn.as_raw_fd()) else {
                return;
            };
            let _ = tx.send(serde_json::from_slice(&text).unwrap_or(Value::Null));
            answer_until_gone(&fd, errno);
        });
        NotifyListener {
            path,
            state,
            _thread: thread,
        }
    }

    /// The socket path, for `listenerPath`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state the runtime sent, once it has (bounded wait).
    pub fn state(&self) -> Value {
        self.state
            .recv_timeout(crate::wait::condition_timeout())
            .expect("the runtime never sent the notify fd")
    }
}

/// Answers notifications with `-errno` (or not at all) until the fd
/// reports the filter's processes are gone.
fn answer_until_gone(fd: &OwnedFd, errno: Option<i32>) {
    loop {
        let mut req = Notif::default();
        // SAFETY: `req` is a zeroed seccomp_notif the kernel fills in.
        if unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_RECV, &mut req) } < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        let Some(errno) = errno else { continue };
        let resp = NotifResp {
            id: req.id,
            val: 0,
            error: -errno,
            flags: 0,
        };
        // SAFETY: `resp` is a valid seccomp_notif_resp; ENOENT (the caller
        // died meanwhile) is harmless.
        unsafe { libc::ioctl(fd.as_raw_fd(), NOTIF_SEND, &resp) };
    }
}
