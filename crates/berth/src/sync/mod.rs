//! The handshakes between berth and the processes it clones: `create`
//! with the container's init, `exec` with its child.

pub mod channel;
pub mod msg;

pub use channel::{pair, Channel};
pub use msg::Msg;

/// A child's last word: sends `err` (with its errno, if a kernel call
/// failed) to the parent and returns the exit code, 1. If even the send
/// fails the parent sees EOF and reports the exit status.
pub fn report(chan: &Channel, err: &anyhow::Error) -> i32 {
    let errno = err
        .chain()
        .find_map(|e| e.downcast_ref::<berth_linux::SysError>())
        .map_or(0, |e| e.errno as i32);
    let _ = chan.send(&Msg::Error {
        errno,
        msg: format!("{err:#}"),
    });
    1
}
