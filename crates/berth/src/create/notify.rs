//! Handing a seccomp notify fd to `linux.seccomp.listenerPath`, as runc
//! does (`libcontainer/seccomp` `sendContainerProcessState`): one message
//! on a new connection, whose payload is the container's process state as
//! JSON and whose SCM_RIGHTS carry the fd named `seccompFd` in it.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use anyhow::Context;
use berth_spec::plan::Plan;
use nix::unistd::Pid;
use serde_json::json;

/// The OCI `ContainerProcessState` document for the listener.
pub fn state(plan: &Plan, id: &str, pid: Pid) -> serde_json::Value {
    let metadata = plan
        .seccomp
        .as_ref()
        .map(|s| s.listener_metadata.clone())
        .unwrap_or_default();
    json!({
        "ociVersion": plan.oci_version,
        "fds": ["seccompFd"],
        "pid": pid.as_raw(),
        "metadata": metadata,
        "state": {
            "ociVersion": plan.oci_version,
            "id": id,
            "status": "creating",
            "pid": pid.as_raw(),
            "bundle": plan.bundle,
            "annotations": plan.annotations,
        },
    })
}

/// Connects to the listener and sends it `fd` with the state of init `pid`.
pub fn send(plan: &Plan, id: &str, pid: Pid, fd: &OwnedFd) -> anyhow::Result<()> {
    let path = plan
        .seccomp
        .as_ref()
        .and_then(|s| s.listener_path.as_deref())
        .context("linux.seccomp.listenerPath: a notify fd but no listener")?;
    let field = || format!("linux.seccomp.listenerPath {}", path.display());
    let sock = UnixStream::connect(path).with_context(field)?;
    let text = state(plan, id, pid).to_string();
    berth_linux::tty::send_fd(sock.as_fd(), fd.as_fd(), &text).with_context(field)?;
    Ok(())
}
