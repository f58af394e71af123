//! Checks that need the kernel but no fork: they fail `create` before
//! anything exists, with an error naming the config field.

use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::{bail, Context};
use berth_linux::mount::{detached, CgroupLayout};
use berth_linux::{caps, namespace, seccomp};
use berth_spec::plan::{MountKind, NsKind, Plan};
use nix::errno::Errno;

use crate::host_cgroups::HostCgroups;

/// What the parent prepares for init from the checks.
#[derive(Debug)]
pub struct Prepared {
    /// Namespaces to join, opened and checked.
    pub joins: Vec<(NsKind, OwnedFd)>,
    /// The connected console socket.
    pub console: Option<OwnedFd>,
    /// Host cgroup hierarchies (only read when a `cgroup` mount needs them).
    pub cgroups: CgroupLayout,
    /// The seccomp filter, built here so a bad profile fails before the clone.
    pub seccomp: Option<seccomp::Filter>,
    /// Per `mounts` entry, the bind source as a detached mount tree (see
    /// [`open_bind_sources`]).
    pub bind_sources: Vec<Option<OwnedFd>>,
}

/// Opens the namespaces to join, checks the capabilities and connects the
/// console socket.
pub fn check(
    plan: &Plan,
    host: &HostCgroups,
    console_socket: Option<&Path>,
    console_fd: Option<OwnedFd>,
) -> anyhow::Result<Prepared> {
    let mut joins = Vec::new();
    for (i, ns) in plan.namespaces.iter().enumerate() {
        if let Some(path) = &ns.join {
            let fd = namespace::open_checked(path, ns.kind)
                .with_context(|| format!("linux.namespaces[{i}].path"))?;
            if ns.kind == NsKind::Network && !plan.net_devices.is_empty() {
                refuse_host_netns(&fd)?;
            }
            joins.push((ns.kind, fd));
        }
    }
    check_capabilities(plan)?;
    let console = match console_fd {
        // `run` in the foreground: berth itself is the other end.
        Some(fd) if plan.process.terminal => Some(fd),
        _ => connect_console(plan, console_socket)?,
    };
    let needs_cgroups = plan
        .mounts
        .iter()
        .any(|m| matches!(&m.kind, MountKind::Filesystem { fstype, .. } if fstype == "cgroup"));
    let cgroups = if needs_cgroups {
        host.mount_layout()
    } else {
        CgroupLayout::default()
    };
    let seccomp = plan.seccomp.as_ref().map(seccomp::compile).transpose()?;
    Ok(Prepared {
        joins,
        console,
        cgroups,
        seccomp,
        bind_sources: open_bind_sources(plan)?,
    })
}

/// With a new user namespace, the container's root may not be able to
/// reach a bind source that berth can (a directory only the host's root
/// may traverse): open each host source now, as a detached mount tree, and
/// let init attach it from the fd (runc opens its bind sources before
/// entering the user namespace too). Sources inside the rootfs are left to
/// their path: earlier mounts may cover or create them.
fn open_bind_sources(plan: &Plan) -> anyhow::Result<Vec<Option<OwnedFd>>> {
    if !plan.creates(NsKind::User) || plan.shares_host_mounts() {
        return Ok(Vec::new());
    }
    let open = |(i, m): (usize, &berth_spec::plan::Mount)| match &m.kind {
        MountKind::Bind { source, recursive }
            if !source.starts_with(&plan.root.path) && source.exists() =>
        {
            match detached::clone_tree(source, *recursive) {
                Ok(tree) => Ok(Some(tree)),
                // Without CAP_SYS_ADMIN here (rootless) or open_tree
                // (Linux < 5.2), init mounts the path as before.
                Err(e) if matches!(e.errno, Errno::EPERM | Errno::ENOSYS) => Ok(None),
                Err(e) => Err(e).with_context(|| format!("mounts[{i}].source")),
            }
        }
        _ => Ok(None),
    };
    plan.mounts.iter().enumerate().map(open).collect()
}

/// Moving `linux.netDevices` into the host's own network namespace would
/// only rename host interfaces: refused (runc's validator does the same).
fn refuse_host_netns(joined: &OwnedFd) -> anyhow::Result<()> {
    let ours = std::fs::metadata("/proc/self/ns/net").context("stat /proc/self/ns/net")?;
    let theirs = nix::sys::stat::fstat(joined).context("fstat the joined network namespace")?;
    if (theirs.st_dev, theirs.st_ino) == (ours.dev(), ours.ino()) {
        bail!("linux.netDevices: the container joins the host's network namespace; refusing to rename the host's interfaces");
    }
    Ok(())
}

/// A capability outside berth's own bounding set can never be had (the
/// kernel only ever removes from that set): say so now rather than fail in
/// capset(2) later. The bounding list itself may name such capabilities;
/// they are simply absent, as with runc.
fn check_capabilities(plan: &Plan) -> anyhow::Result<()> {
    let ours = caps::bounding_set()?;
    let c = &plan.process.capabilities;
    let sets = [
        ("effective", c.effective),
        ("permitted", c.permitted),
        ("inheritable", c.inheritable),
        ("ambient", c.ambient),
    ];
    for (name, set) in sets {
        if let Some(cap) = set.iter().find(|&cap| !ours.contains(cap)) {
            bail!(
                "process.capabilities.{name}: {} is not in berth's own bounding set, so no process it starts can have it",
                caps::name(cap)
            );
        }
    }
    Ok(())
}

/// runc's rules: a terminal needs a console socket, and a console socket
/// is only for a terminal.
fn connect_console(plan: &Plan, socket: Option<&Path>) -> anyhow::Result<Option<OwnedFd>> {
    match (plan.process.terminal, socket) {
        (false, None) => Ok(None),
        (true, None) => bail!("process.terminal is true but no --console-socket was given"),
        (false, Some(_)) => bail!("--console-socket was given but process.terminal is false"),
        (true, Some(path)) => {
            let stream = UnixStream::connect(path)
                .with_context(|| format!("--console-socket {}", path.display()))?;
            Ok(Some(stream.into()))
        }
    }
}
