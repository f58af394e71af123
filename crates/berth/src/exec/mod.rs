//! `exec`: a new process in a running container, through the same process
//! step as the container's init.
//!
//! The steps, in order (each owned by the module named):
//! 1. check the container (locked): not stopped, not still being created,
//!    not paused unless `--ignore-paused`;
//! 2. build the process: a process.json, or the config's `process` as
//!    saved at create with the command and flags applied (`build`);
//! 3. pin init by a pidfd and read what to join: the namespaces it does
//!    not share with us, its root, its cgroups (`target`);
//! 4. clone the child into the unified cgroup, move it into the v1 ones,
//!    let it join the namespaces through init's pidfd and clone the
//!    process, which runs `crate::process` and execs (`parent`, `child`);
//! 5. write `--pid-file`; with `--detach` return, else forward signals,
//!    proxy the terminal and exit with the process's status.

mod build;
mod child;
mod parent;
mod target;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use anyhow::{bail, Context};
use berth_linux::seccomp;
use berth_spec::plan::Process;
use berth_spec::state::Status;

use crate::cli::ExecArgs;
use crate::process::ProcessContext;
use crate::state::{status, Store};
use crate::sync;
use child::ChildContext;

/// Runs the exec; returns berth's exit code.
pub fn exec(store: &Store, args: &ExecArgs) -> anyhow::Result<i32> {
    let id = &args.id;
    let locked = store.lock(id)?;
    let record = locked.record()?;
    match status::derive(&record, &locked.fifo_path()) {
        Status::Stopped => return Err(target::stopped(id)),
        Status::Creating => bail!("cannot exec in container {id}: it is still being created"),
        _ => {}
    }
    let saved = record.exec.as_ref().with_context(|| {
        format!("container {id}: its record has no process to exec from (made by an older berth)")
    })?;
    let process = build::process(args, &saved.process)?;
    let console = console_socket(args, &process)?;
    let target =
        target::open_target(&record, &args.cgroup).with_context(|| format!("container {id}"))?;
    if !args.ignore_paused && target::is_paused(&target) {
        bail!("cannot exec in container {id}: it is paused (use --ignore-paused to override)");
    }
    let filter = saved.seccomp.as_ref().map(seccomp::compile).transpose()?;
    let (chan, child_chan) = sync::pair()?;
    let ctx = ChildContext {
        target: &target,
        process: ProcessContext {
            process: &process,
            seccomp: filter.as_ref(),
            setgroups_allowed: target.setgroups_allowed,
            preserve_fds: args.preserve_fds,
            notify_to: None,
        },
        chan: &child_chan,
        parent_end: chan.fd().as_raw_fd(),
    };
    if !args.detach {
        // Caught from now on, forwarded once the process is known: a
        // signal while it starts is not lost (the children reset it).
        berth_linux::signals::catch(&crate::commands::run::FORWARDED)?;
    }
    let child = parent::spawn(&ctx);
    // Only the child may hold its end now: EOF must mean it is gone.
    drop(child_chan);
    let started = child
        .and_then(|child| parent::serve(&target, &chan, child, console.as_ref(), !args.detach))
        .map_err(|err| target::stopped_or(&record, err.context(format!("container {id}"))))?;
    if let Some(path) = &args.pid_file {
        crate::create::write_pid_file(path, started.pid.as_raw())?;
    }
    // Other commands (kill, delete) may act on the container meanwhile.
    drop(locked);
    if args.detach {
        return Ok(0);
    }
    parent::wait(&started)
}

/// runc's rules for the terminal: a console socket only for a terminal,
/// and a detached terminal needs one (nobody else could hold the master).
fn console_socket(args: &ExecArgs, process: &Process) -> anyhow::Result<Option<UnixStream>> {
    match (&args.console_socket, process.terminal) {
        (Some(_), false) => bail!("--console-socket was given but the process has no terminal"),
        (None, true) if args.detach => {
            bail!("a terminal with --detach needs --console-socket to send the pty master to")
        }
        (None, _) => Ok(None),
        (Some(path), true) => UnixStream::connect(path)
            .map(Some)
            .with_context(|| format!("--console-socket {}", path.display())),
    }
}
