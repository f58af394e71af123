//! `berth kill ID [SIGNAL]`.

use anyhow::{bail, Context};
use berth_linux::{pidfd, proc};
use berth_spec::state::Status;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::os::fd::OwnedFd;

use crate::cli::KillArgs;
use crate::container::Container;
use crate::state::{Record, Store};

/// Sends a signal to the container's init; with `--all` to every process
/// in its cgroup, which succeeds on a stopped container too (runc's rule;
/// containerd's CRI plugin relies on it after every exit).
pub fn run(store: &Store, args: &KillArgs) -> anyhow::Result<()> {
    let signal = parse_signal(&args.signal)?;
    let container = Container::open(store, &args.id)?;
    let stopped = container.status() == Status::Stopped;
    if args.all {
        return container.signal_all(signal);
    }
    if stopped || signal_init(&container.record, signal)?.is_none() {
        bail!("container {} is not running", args.id);
    }
    Ok(())
}

/// Sends `signal` to the container's init if it is still the process
/// berth started, and returns its pidfd; `None` when it is gone. The pidfd
/// pins the process: once its start time checks out, the signal cannot
/// reach a stranger that reused the pid.
pub fn signal_init(record: &Record, signal: i32) -> anyhow::Result<Option<OwnedFd>> {
    let pid = Pid::from_raw(record.pid);
    let fd = match pidfd::open(pid) {
        Err(e) if e.errno == Errno::ESRCH => return Ok(None),
        other => other.with_context(|| format!("container {}", record.id))?,
    };
    if !proc::is_same_live_process(pid, record.start_time)? {
        return Ok(None);
    }
    pidfd::send_signal(&fd, signal).with_context(|| format!("container {}: kill", record.id))?;
    Ok(Some(fd))
}

/// `KILL`, `SIGKILL`, `kill`, `9`, `RTMIN+2`, `SIGRTMAX-1`, and `0`: no
/// signal, only the check that the container's init still exists (how
/// callers probe a container; runc accepts it too).
pub fn parse_signal(text: &str) -> anyhow::Result<i32> {
    if let Ok(n) = text.parse::<i32>() {
        if (0..=libc::SIGRTMAX()).contains(&n) {
            return Ok(n);
        }
        bail!("invalid signal {text:?}");
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let rt = |rest: &str, base: i32, sign: i32| -> Option<i32> {
        let offset = if rest.is_empty() {
            0
        } else {
            rest.strip_prefix(if sign > 0 { '+' } else { '-' })?
                .parse()
                .ok()?
        };
        let n = base + sign * offset;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&n)
            .then_some(n)
    };
    let found = if let Some(rest) = name.strip_prefix("RTMIN") {
        rt(rest, libc::SIGRTMIN(), 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        rt(rest, libc::SIGRTMAX(), -1)
    } else {
        format!("SIG{name}")
            .parse::<Signal>()
            .ok()
            .map(|s| s as i32)
    };
    found.with_context(|| format!("invalid signal {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_spellings() {
        for text in ["KILL", "SIGKILL", "kill", "9"] {
            assert_eq!(parse_signal(text).expect(text), libc::SIGKILL, "{text}");
        }
        assert_eq!(parse_signal("TERM").expect("TERM"), libc::SIGTERM);
        assert_eq!(parse_signal("RTMIN+2").expect("rt"), libc::SIGRTMIN() + 2);
        assert_eq!(parse_signal("SIGRTMAX").expect("rt"), libc::SIGRTMAX());
        assert_eq!(parse_signal("0").expect("probe"), 0);
    }

    #[test]
    fn nonsense_is_refused() {
        for text in ["NOPE", "65", "-1", "RTMIN+99", ""] {
            assert!(parse_signal(text).is_err(), "{text}");
        }
    }
}
