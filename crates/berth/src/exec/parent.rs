//! The parent's side of `exec` (see `sync::msg` for the diagram): clone
//! the child into the container's cgroups, serve it until the process
//! execs, then wait for the process.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use berth_linux::clone::{self, Child, Options};
use berth_linux::{cgroup_member, signals, tty};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use super::child::{self, ChildContext};
use super::target::Target;
use crate::cgroup_visit;
use crate::host_cgroups::HostCgroups;
use crate::sync::{Channel, Msg};

/// The process, once it has exec'd.
#[derive(Debug)]
pub struct Started {
    /// Its pid in berth's pid namespace.
    pub pid: Pid,
    /// The pty master, when berth itself proxies the terminal.
    pub master: Option<OwnedFd>,
}

/// Where the child was born: in the container's v1 cgroups (this thread
/// visited them for the clone) and in its unified one
/// (`CLONE_INTO_CGROUP`). The rest is joined by pid in [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct Born {
    /// In every v1 cgroup of the container.
    pub v1: bool,
    /// In the unified cgroup.
    pub unified: bool,
}

/// Clones the child, born in the container's cgroups where the kernel
/// lets it (see [`Born`] and [`crate::cgroup_visit`]).
pub fn spawn(ctx: &ChildContext<'_>) -> anyhow::Result<(Child, Born)> {
    let unified = ctx.target.cgroups.iter().find(|m| m.is_unified());
    let dir = unified
        .map(|m| cgroup_member::open_dir(&m.dir))
        .transpose()?;
    let dir = dir.as_ref().map(AsFd::as_fd);
    let v1: Vec<&Path> = ctx
        .target
        .cgroups
        .iter()
        .filter(|m| !m.is_unified())
        .map(|m| m.dir.as_path())
        .collect();
    // A thread visiting a frozen cgroup would freeze with it (exec
    // --ignore-paused): the child is moved by pid then.
    let visit = if super::target::is_paused(ctx.target) {
        None
    } else {
        cgroup_visit::clone_inside(&HostCgroups::read()?, &v1, || clone_child(ctx, dir))?
    };
    if let Some(visit) = visit {
        // The child waits for `Go`: a failure here ends it with us.
        visit.left?;
        match visit.cloned {
            Ok((child, unified)) => return Ok((child, Born { v1: true, unified })),
            Err(e) => tracing::debug!("clone inside the container's cgroups: {e:#}"),
        }
    }
    let (child, unified) = clone_child(ctx, dir)?;
    Ok((child, Born { v1: false, unified }))
}

/// Clones the child, into the unified cgroup `dir` if the kernel can;
/// says whether it did.
fn clone_child(
    ctx: &ChildContext<'_>,
    dir: Option<BorrowedFd<'_>>,
) -> anyhow::Result<(Child, bool)> {
    if let Some(dir) = dir {
        let opts = Options {
            cgroup: Some(dir),
            ..Options::default()
        };
        match clone::spawn(0, opts, || child::main(ctx)) {
            Ok(child) => return Ok((child, true)),
            Err(e) => tracing::debug!("clone3 CLONE_INTO_CGROUP: {e}; joining after the clone"),
        }
    }
    Ok((
        clone::spawn(0, Options::default(), || child::main(ctx))?,
        false,
    ))
}

/// Moves the child into the container's cgroups, lets it go on, and serves
/// it until the process has exec'd. `console` is the connected
/// `--console-socket`: the pty master goes there, else berth keeps it.
/// With `forward` (signals caught since before the clone), they are passed
/// on to the process from the moment its pid is known.
pub fn serve(
    target: &Target,
    chan: &Channel,
    (first, born): (Child, Born),
    console: Option<&UnixStream>,
    forward: bool,
) -> anyhow::Result<Started> {
    let mut guard = Guard {
        first: Some(first.pid),
        process: None,
    };
    for m in &target.cgroups {
        if !(m.is_unified() && born.unified || !m.is_unified() && born.v1) {
            cgroup_member::join(&m.dir, first.pid).context("join the container's cgroup")?;
        }
    }
    chan.send(&Msg::Go)?;
    let mut master = None;
    loop {
        match chan.recv_fd()? {
            Some((Msg::ProcessPid { pid }, _)) => {
                let pid = Pid::from_raw(pid);
                guard.process = Some(pid);
                if forward {
                    signals::set_target(pid);
                }
                // The child exits right after; the process is our child too.
                if let Some(first) = guard.first.take() {
                    waitpid(first, None).context("reap the exec child")?;
                }
            }
            Some((Msg::Console { name }, Some(fd))) => match console {
                Some(sock) => {
                    tty::send_fd(sock.as_fd(), fd.as_fd(), &name).context("--console-socket")?
                }
                None => master = Some(fd),
            },
            Some((Msg::Error { msg, .. }, _)) => return Err(anyhow!(msg)),
            Some((other, _)) => bail!("unexpected message from the exec child: {other:?}"),
            // Every copy of the child's end is closed: the child exited and
            // the process exec'd (the socket is close-on-exec).
            None => break,
        }
    }
    let pid = guard
        .process
        .take()
        .ok_or_else(|| anyhow!("the exec child exited without starting the process"))?;
    Ok(Started { pid, master })
}

/// Proxies the process's terminal if berth holds the master, and returns
/// its exit code (128+N for signal N).
pub fn wait(started: &Started) -> anyhow::Result<i32> {
    if let Some(master) = &started.master {
        if let Some((rows, cols)) = tty::get_size(std::io::stdin()) {
            tty::set_size(master, rows, cols)?;
        }
        crate::console::proxy(master)?;
    }
    loop {
        match waitpid(started.pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("wait for the exec'd process"),
        }
    }
}

/// Kills and reaps what was cloned when `exec` fails half-way.
struct Guard {
    first: Option<Pid>,
    process: Option<Pid>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for pid in [self.process.take(), self.first.take()]
            .into_iter()
            .flatten()
        {
            // Our children (the process by CLONE_PARENT): the pid cannot be
            // reused before we reap it.
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}
