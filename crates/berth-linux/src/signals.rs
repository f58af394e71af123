//! Forwarding signals from `berth run` to the container's init, as runc's
//! `run` does, so that Ctrl-C or a `kill` of berth reaches the container.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;

use crate::error::{Op, SysResult};

/// The pid signals are forwarded to; 0 when none.
static TARGET: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = TARGET.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; a failure (target gone) is
        // deliberately ignored.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Forwards each of `signals` delivered to this process to `pid`.
pub fn forward_to(pid: Pid, signals: &[Signal]) -> SysResult<()> {
    TARGET.store(pid.as_raw(), Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for &signal in signals {
        // SAFETY: the handler only loads an atomic and calls kill(2), both
        // async-signal-safe; it touches no other state of this process.
        unsafe { sigaction(signal, &action) }.op("sigaction")?;
    }
    Ok(())
}
