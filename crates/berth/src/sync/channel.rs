//! A SOCK_SEQPACKET socketpair carrying [`Msg`]s.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use anyhow::Context;
use nix::errno::Errno;
use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};

use super::msg::Msg;

/// Largest message accepted: an error chain is a few hundred bytes.
const MAX_MSG: usize = 64 * 1024;

/// One end of the handshake socket.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// A connected pair: (parent end, init end).
pub fn pair() -> anyhow::Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .context("socketpair for the create handshake")?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// Sends one message.
    pub fn send(&self, msg: &Msg) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(msg).context("encode handshake message")?;
        loop {
            match send(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                &bytes,
                MsgFlags::MSG_NOSIGNAL,
            ) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e).context("send handshake message"),
            }
        }
    }

    /// Sends one message with `fd` attached (SCM_RIGHTS).
    pub fn send_fd(&self, msg: &Msg, fd: BorrowedFd<'_>) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(msg).context("encode handshake message")?;
        berth_linux::fd::send_with_fd(self.fd.as_fd(), &bytes, fd).context("send handshake message")
    }

    /// Receives one message; `None` when the other side is gone. An fd
    /// that came with it is closed.
    pub fn recv(&self) -> anyhow::Result<Option<Msg>> {
        Ok(self.recv_fd()?.map(|(msg, _)| msg))
    }

    /// Receives one message and the fd attached to it, if any; `None` when
    /// the other side is gone.
    pub fn recv_fd(&self) -> anyhow::Result<Option<(Msg, Option<OwnedFd>)>> {
        // The buffer is sized to the message: a zeroed 64 KiB one cost init
        // 16 page faults per message (docs/performance.md).
        let len = self.next_len()?;
        if len == 0 {
            return Ok(None);
        }
        if len > MAX_MSG {
            anyhow::bail!("handshake message of {len} bytes (at most {MAX_MSG})");
        }
        let mut buf = vec![0u8; len];
        let (n, fd) = berth_linux::fd::recv_with_fd(self.fd.as_fd(), &mut buf)
            .context("receive handshake message")?;
        if n == 0 {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&buf[..n]).context("decode handshake message")?;
        Ok(Some((msg, fd)))
    }

    /// Waits for the next message and returns its length without taking
    /// it (MSG_PEEK with MSG_TRUNC: the datagram's whole length); 0 when
    /// the other side is gone.
    fn next_len(&self) -> anyhow::Result<usize> {
        let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC;
        loop {
            match recv(std::os::fd::AsRawFd::as_raw_fd(&self.fd), &mut [], flags) {
                Err(Errno::EINTR) => continue,
                other => return other.context("receive handshake message"),
            }
        }
    }

    /// Waits for `want`, a message without data. Anything else is an
    /// error: the other side's own `Error` (its message), another message,
    /// or EOF (every other copy of the socket closed: the other side is
    /// gone).
    pub fn expect(&self, want: &Msg) -> anyhow::Result<()> {
        match self.recv()? {
            Some(got) if got == *want => Ok(()),
            Some(Msg::Error { msg, .. }) => Err(anyhow::anyhow!(msg)),
            Some(other) => anyhow::bail!("expected {want:?}, got {other:?}"),
            None => anyhow::bail!("the other side exited before {want:?}"),
        }
    }

    /// The socket, e.g. to hand to a process that must not keep it.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_the_pair_whole_and_eof_is_none() {
        let (a, b) = pair().expect("pair");
        a.send(&Msg::InitPid { pid: 42 }).expect("send");
        a.send(&Msg::Error {
            errno: 2,
            msg: "exec /bin/nosuch".into(),
        })
        .expect("send");
        assert_eq!(b.recv().expect("recv"), Some(Msg::InitPid { pid: 42 }));
        assert_eq!(
            b.recv().expect("recv"),
            Some(Msg::Error {
                errno: 2,
                msg: "exec /bin/nosuch".into()
            })
        );
        drop(a);
        assert_eq!(b.recv().expect("recv"), None);
    }

    #[test]
    fn expect_takes_only_the_message_it_waits_for() {
        let (a, b) = pair().expect("pair");
        a.send(&Msg::Go).expect("send");
        b.expect(&Msg::Go).expect("Go");
        a.send(&Msg::Ready).expect("send");
        let e = b.expect(&Msg::Go).unwrap_err().to_string();
        assert_eq!(e, "expected Go, got Ready");
        a.send(&Msg::Error {
            errno: 2,
            msg: "exec /bin/nosuch".into(),
        })
        .expect("send");
        assert_eq!(
            b.expect(&Msg::Go).unwrap_err().to_string(),
            "exec /bin/nosuch"
        );
        drop(a);
        let e = b.expect(&Msg::Go).unwrap_err().to_string();
        assert_eq!(e, "the other side exited before Go");
    }

    #[test]
    fn a_message_of_many_pages_arrives_whole_with_its_fd() {
        let (a, b) = pair().expect("pair");
        let long = Msg::Error {
            errno: 22,
            msg: "x".repeat(20_000),
        };
        let (keep, _other) = pair().expect("a socket to pass");
        a.send_fd(&long, keep.fd()).expect("send");
        let (got, fd) = b.recv_fd().expect("recv").expect("a message");
        assert_eq!(got, long);
        assert!(fd.is_some(), "the fd came along");
    }
}
