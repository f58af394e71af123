//! The parent's side of the handshake (see `sync::msg` for the diagram).

use anyhow::{anyhow, bail, Context};
use berth_linux::clone::Child;
use std::os::fd::AsFd;

use berth_linux::{idmap, netdev, pidfd};
use berth_spec::plan::Plan;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{geteuid, Pid};

use crate::sync::{Channel, Msg};

/// The init `create` left behind, or the processes to clean up after a
/// failure.
#[derive(Debug, Default)]
pub struct Processes {
    /// The process cloned first (init itself, or the intermediate that
    /// clones init).
    pub first: Option<Child>,
    /// The real init, once the intermediate reported it.
    pub init: Option<Child>,
}

impl Processes {
    /// The container's init: the real one if reported, else the first.
    pub fn init(&self) -> Option<&Child> {
        self.init.as_ref().or(self.first.as_ref())
    }
}

/// Serves init's requests until it reports `Ready` (or fails).
pub fn serve(chan: &Channel, plan: &Plan, procs: &mut Processes) -> anyhow::Result<()> {
    loop {
        let requester = procs.init().map(|c| c.pid).context("no init process")?;
        match chan.recv()? {
            Some(Msg::IdMapsPlease) => {
                // Only an unprivileged writer must deny setgroups first.
                let deny = !geteuid().is_root();
                idmap::write_maps(requester, &plan.uid_mappings, &plan.gid_mappings, deny)
                    .context("linux.uidMappings/gidMappings")?;
                chan.send(&Msg::IdMapsDone)?;
            }
            Some(Msg::NetDevicesPlease) => {
                net_devices(requester, plan)?;
                chan.send(&Msg::NetDevicesDone)?;
            }
            Some(Msg::InitPid { pid }) => {
                let pid = Pid::from_raw(pid);
                // init is our child too (CLONE_PARENT), so its pid cannot be
                // reused before we reap it: pidfd_open is race-free here.
                procs.init = Some(Child {
                    pid,
                    pidfd: Some(pidfd::open(pid)?),
                });
                if let Some(first) = procs.first.take() {
                    waitpid(first.pid, None).context("reap the intermediate process")?;
                }
            }
            Some(Msg::Ready) => return Ok(()),
            Some(Msg::Error { msg, .. }) => return Err(anyhow!(msg)),
            Some(other) => bail!("unexpected message from init: {other:?}"),
            None => bail!("init exited before it was ready ({})", exit_of(requester)),
        }
    }
}

/// Moves `linux.netDevices` into the network namespace of `pid` (our
/// child, so the pid cannot be reused before we reap it).
fn net_devices(pid: Pid, plan: &Plan) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/ns/net");
    let netns = open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open {path}"))?;
    for dev in &plan.net_devices {
        netdev::move_into(&dev.host, &dev.name, netns.as_fd())
            .with_context(|| format!("linux.netDevices.{}", dev.host))?;
    }
    Ok(())
}

/// How a child ended, for the message when it vanished without a word.
fn exit_of(pid: Pid) -> String {
    match waitpid(pid, None) {
        Ok(WaitStatus::Exited(_, code)) => format!("exit status {code}"),
        Ok(WaitStatus::Signaled(_, sig, _)) => format!("killed by {sig}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("wait: {e}"),
    }
}
