//! `berth run ID`: create, start, wait, delete.

use anyhow::Context;
use berth_linux::signals;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::cli::RunArgs;
use crate::commands::{delete, start};
use crate::console;
use crate::create::{self, Options};
use crate::state::Store;

/// Signals `run` passes on to the container, as runc's signal handler does.
pub(crate) const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Runs the container; returns the exit code for berth: the container's,
/// or 128+N when a signal N ended it.
pub fn run(store: &Store, args: &RunArgs) -> anyhow::Result<i32> {
    if !args.detach && !args.no_subreaper {
        // Orphans of a container without a pid namespace come to us.
        nix::sys::prctl::set_child_subreaper(true).context("prctl PR_SET_CHILD_SUBREAPER")?;
    }
    // In the foreground without --console-socket, a terminal's pty comes
    // to berth itself (unused unless the config asks for a terminal).
    let (ours, theirs) = match (&args.flags.console_socket, args.detach) {
        (None, false) => console::pair().map(|(a, b)| (Some(a), Some(b)))?,
        _ => (None, None),
    };
    let created = create::create(store, &Options::from_flags(&args.id, &args.flags), theirs)?;
    let master = match (&ours, created.terminal) {
        (Some(ours), true) => Some(console::receive_master(ours)?),
        _ => None,
    };
    if let Err(err) = start::start(&created.locked) {
        delete::kill_and_wait(&created.record)?;
        delete::destroy(created.locked, &created.record)?;
        return Err(err);
    }
    if args.detach {
        return Ok(0);
    }
    let init = Pid::from_raw(created.record.pid);
    // Let other commands (state, kill) at the container while it runs.
    drop(created.locked);
    signals::forward_to(init, &FORWARDED)?;
    if let Some(master) = &master {
        console::proxy(master)?;
    }
    let code = wait_for(init)?;
    if !args.keep {
        let locked = store.lock(&args.id)?;
        delete::destroy(locked, &created.record)?;
    }
    Ok(code)
}

/// Reaps children until init exits; returns its exit code.
fn wait_for(init: Pid) -> anyhow::Result<i32> {
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == init => return Ok(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == init => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).context("wait for the container's init"),
        }
    }
}
