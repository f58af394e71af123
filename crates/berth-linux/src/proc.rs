//! Reading `/proc/<pid>/stat`: whether a pid is still the process we
//! started, and how many threads we have.
//!
//! A pid alone can be recycled; a pid plus its start time (field 22,
//! clock ticks since boot) cannot, so berth records both and compares them
//! before it trusts or signals a pid (runc `libcontainer/state_linux.go`).

use std::path::PathBuf;

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::error::{Op, SysError, SysResult};

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: `R`, `S`, `D`, `Z` (zombie), `X` (dead)…
    pub state: char,
    /// Field 9: the kernel's `PF_*` flags.
    pub flags: u64,
    /// Field 20.
    pub threads: u64,
    /// Field 22: start time in clock ticks after boot.
    pub start_time: u64,
}

impl Stat {
    /// Whether the process has exited (a zombie counts as exited).
    pub fn exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// Whether the process is inside exit(2) (`PF_EXITING`): the kernel
    /// tears down its files, root and namespaces before it becomes a
    /// zombie, so `/proc/<pid>/root` can be gone while it is not one yet.
    pub fn exiting(&self) -> bool {
        self.flags & PF_EXITING != 0
    }
}

/// `PF_EXITING` (linux/sched.h).
const PF_EXITING: u64 = 0x4;

/// The fields of a `/proc/<pid>/stat` text from field 3 (the state) on,
/// so that field `n` (counted from 1, as proc(5) does) is `[n - 3]`.
pub fn stat_fields(text: &str) -> Option<Vec<&str>> {
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// Parses the text of a `/proc/<pid>/stat` file.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let fields = stat_fields(text)?;
    Some(Stat {
        state: fields.first()?.chars().next()?,
        flags: fields.get(9 - 3)?.parse().ok()?,
        threads: fields.get(17)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Reads `/proc/<pid>/stat`; `Ok(None)` when no such process exists.
pub fn stat(pid: Pid) -> SysResult<Option<Stat>> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_stat(&text)
            .map(Some)
            .ok_or_else(|| SysError::at("parse", &path, Errno::EINVAL)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).op_at("read", &path),
    }
}

/// Whether `pid` is alive and is the process that started at `start_time`.
pub fn is_same_live_process(pid: Pid, start_time: u64) -> SysResult<bool> {
    Ok(stat(pid)?.is_some_and(|s| !s.exited() && s.start_time == start_time))
}

/// Whether the process `pid` that started at `start_time` has ended or
/// begun to: gone (or unreadable), a zombie, another process, or exiting.
pub fn has_ended(pid: Pid, start_time: u64) -> bool {
    match stat(pid) {
        Ok(Some(s)) => s.exited() || s.exiting() || s.start_time != start_time,
        _ => true,
    }
}

/// The number of threads of the calling process.
pub fn thread_count() -> SysResult<u64> {
    let path = PathBuf::from("/proc/self/stat");
    let text = std::fs::read_to_string(&path).op_at("read", &path)?;
    parse_stat(&text)
        .map(|s| s.threads)
        .ok_or_else(|| SysError::at("parse", &path, Errno::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_comm() {
        let text =
            "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 100";
        let stat = parse_stat(text).expect("parses");
        assert_eq!(
            stat,
            Stat {
                state: 'S',
                flags: 4194560,
                threads: 3,
                start_time: 987654
            }
        );
        assert!(!stat.exited());
        assert!(!stat.exiting());
    }

    #[test]
    fn zombie_counts_as_exited_and_truncated_text_is_rejected() {
        let z = parse_stat("7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0").expect("parses");
        assert!(z.exited());
        let exiting = parse_stat("7 (x) R 1 7 7 0 -1 4194564 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0");
        assert!(exiting.expect("parses").exiting());
        assert_eq!(parse_stat("7 (x) S 1 2"), None);
    }

    #[test]
    fn reads_own_stat() {
        let me = stat(Pid::this()).expect("read").expect("we exist");
        assert!(me.threads >= 1);
        assert!(is_same_live_process(Pid::this(), me.start_time).expect("read"));
        assert!(!is_same_live_process(Pid::this(), me.start_time + 1).expect("read"));
        assert!(!has_ended(Pid::this(), me.start_time));
        assert!(has_ended(Pid::this(), me.start_time + 1));
    }
}
