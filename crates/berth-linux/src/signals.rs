//! Forwarding signals from `berth run` and `berth exec` to the container's
//! process, as runc does, so that Ctrl-C or a `kill` of berth reaches it.
//!
//! The handler can be installed before the target is known ([`catch`]):
//! signals that arrive meanwhile are kept and delivered once
//! [`set_target`] names the process, so none is lost while it starts.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;

use crate::error::{Op, SysResult};

/// The pid signals are forwarded to; 0 while none is known.
static TARGET: AtomicI32 = AtomicI32::new(0);
/// Signals (bit N for signal N) caught before a target was known.
static PENDING: AtomicU64 = AtomicU64::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = TARGET.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe; a failure (target gone) is
        // deliberately ignored.
        unsafe { libc::kill(pid, signal) };
    } else if (1..64).contains(&signal) {
        PENDING.fetch_or(1u64 << signal, Ordering::SeqCst);
    }
}

extern "C" fn ignore(_: libc::c_int) {}

/// Makes a write to a closed pipe or socket fail with EPIPE instead of
/// killing berth (a hook that exits without reading its state, a
/// container gone mid-handshake), without passing that on: a caught
/// signal is reset to its default by execve(2), while SIG_IGN (what Rust's
/// runtime sets) would be inherited by the container's process. A SIGPIPE
/// that whoever ran berth ignores stays ignored, and inherited, as with
/// runc.
pub fn survive_sigpipe() -> SysResult<()> {
    // SAFETY: `struct sigaction` is plain data, for which all zeroes is a
    // valid value.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: with a null new action, sigaction(2) only reads the current
    // one into `old`, a valid out-pointer.
    let ret = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) };
    nix::errno::Errno::result(ret).op("sigaction")?;
    if old.sa_sigaction == libc::SIG_IGN {
        return Ok(());
    }
    install(&[Signal::SIGPIPE], SigHandler::Handler(ignore))
}

/// Installs the forwarding handler for each of `signals`; until
/// [`set_target`], they are kept.
pub fn catch(signals: &[Signal]) -> SysResult<()> {
    install(signals, SigHandler::Handler(forward))
}

/// Forwards from now on to `pid`, first delivering what was kept.
pub fn set_target(pid: Pid) {
    TARGET.store(pid.as_raw(), Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    for signal in (1..64).filter(|s| pending & (1u64 << s) != 0) {
        // SAFETY: kill(2) with a pid and a signal number; a failure (target
        // gone) is deliberately ignored.
        unsafe { libc::kill(pid.as_raw(), signal) };
    }
}

/// Forwards each of `signals` delivered to this process to `pid`.
pub fn forward_to(pid: Pid, signals: &[Signal]) -> SysResult<()> {
    catch(signals)?;
    set_target(pid);
    Ok(())
}

/// Gives each of `signals` its default action again (in a child that
/// inherited [`catch`]'s handler).
pub fn restore_default(signals: &[Signal]) -> SysResult<()> {
    install(signals, SigHandler::SigDfl)
}

fn install(signals: &[Signal], handler: SigHandler) -> SysResult<()> {
    let action = SigAction::new(handler, SaFlags::SA_RESTART, SigSet::empty());
    for &signal in signals {
        // SAFETY: the handler only loads and updates atomics and calls
        // kill(2), all async-signal-safe; it touches no other state.
        unsafe { sigaction(signal, &action) }.op("sigaction")?;
    }
    Ok(())
}
