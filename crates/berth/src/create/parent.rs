//! The parent's side of the handshake (see `sync::msg` for the diagram).

use std::os::fd::AsFd;

use anyhow::{anyhow, bail, Context};
use berth_linux::clone::Child;
use berth_linux::{idmap, netdev, pidfd};
use berth_spec::plan::Plan;
use berth_spec::state::Status;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{geteuid, Pid};

use crate::commands::state::hook_state;
use crate::hooks;
use crate::state::Record;
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

/// What the parent needs to run the runtime's hooks for init.
#[derive(Debug)]
pub struct HookContext<'a> {
    /// The container's record (id, bundle, annotations… for the state).
    pub record: &'a Record,
    /// Whether init is cloned a second time (pid or time namespace): its
    /// `Hooks` request may then arrive before the `InitPid` that names it.
    pub forks: bool,
}

/// Serves init's requests until it reports `Ready` (or fails).
pub fn serve(
    chan: &Channel,
    plan: &Plan,
    procs: &mut Processes,
    hooks: &HookContext<'_>,
) -> anyhow::Result<()> {
    let mut hooks_pending = false;
    loop {
        let requester = procs.init().map(|c| c.pid).context("no init process")?;
        if hooks_pending && (procs.init.is_some() || !hooks.forks) {
            hooks_pending = false;
            run_runtime_hooks(chan, plan, hooks.record, requester)?;
        }
        match chan.recv()? {
            Some(Msg::Hooks) => hooks_pending = true,
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
            Some(Msg::SeccompFd) => {
                let fd =
                    berth_linux::tty::recv_fd(chan.fd()).context("linux.seccomp: notify fd")?;
                super::notify::send(plan, &hooks.record.id, requester, &fd)?;
            }
            Some(Msg::Ready) => return Ok(()),
            Some(Msg::Error { msg, .. }) => return Err(anyhow!(msg)),
            Some(other) => bail!("unexpected message from init: {other:?}"),
            None => bail!("init exited before it was ready ({})", exit_of(requester)),
        }
    }
}

/// Tells init the container is recorded as created, and waits until it no
/// longer dies with us (`Recorded`, `Released`; see `init::lifeline`).
pub fn release(chan: &Channel) -> anyhow::Result<()> {
    chan.send(&Msg::Recorded)?;
    chan.expect(&Msg::Released)
}

/// `prestart` then `createRuntime` (runc's order), with init's host pid
/// and status `creating`; then hands init the state for its own hooks.
fn run_runtime_hooks(
    chan: &Channel,
    plan: &Plan,
    record: &Record,
    init: Pid,
) -> anyhow::Result<()> {
    let state = hook_state(record, Status::Creating, init.as_raw());
    hooks::run_all("prestart", &plan.hooks.prestart, &state)?;
    hooks::run_all("createRuntime", &plan.hooks.create_runtime, &state)?;
    chan.send(&Msg::HooksDone { state })?;
    Ok(())
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
