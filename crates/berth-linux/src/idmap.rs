//! Writing a user namespace's uid and gid maps from the parent.

use std::path::PathBuf;

use berth_spec::plan::IdMap;
use nix::unistd::Pid;

use crate::error::SysResult;
use crate::procfs::ProcFs;

/// The text of a `uid_map`/`gid_map` file: one `inside outside count` line
/// per entry (user_namespaces(7)).
pub fn format_map(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// Writes the maps of `pid`'s user namespace. With `deny_setgroups`,
/// `setgroups` is written "deny" first, which the kernel requires before an
/// unprivileged writer may set a gid map (user_namespaces(7),
/// CVE-2014-8989).
pub fn write_maps(pid: Pid, uids: &[IdMap], gids: &[IdMap], deny_setgroups: bool) -> SysResult<()> {
    if deny_setgroups {
        write_proc(pid, "setgroups", "deny")?;
    }
    write_proc(pid, "uid_map", &format_map(uids))?;
    write_proc(pid, "gid_map", &format_map(gids))
}

/// Writes `/proc/<pid>/timens_offsets` (time_namespaces(7)).
pub fn write_time_offsets(pid: Pid, text: &str) -> SysResult<()> {
    write_proc(pid, "timens_offsets", text)
}

/// Through a verified procfs handle (`crate::procfs`), never by path.
fn write_proc(pid: Pid, file: &str, text: &str) -> SysResult<()> {
    let rel = PathBuf::from(format!("{pid}/{file}"));
    ProcFs::open()?.write(&rel, text)
}

/// The text of a `timens_offsets` file: `<clock> <secs> <nanosecs>` lines.
pub fn format_time_offsets(offsets: &[berth_spec::plan::TimeOffset]) -> String {
    use berth_spec::plan::Clock;
    offsets
        .iter()
        .map(|o| {
            let clock = match o.clock {
                Clock::Monotonic => "monotonic",
                Clock::Boottime => "boottime",
            };
            format!("{clock} {} {}\n", o.secs, o.nanosecs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_one_line_per_entry() {
        let maps = [
            IdMap {
                container_id: 0,
                host_id: 100000,
                size: 1,
            },
            IdMap {
                container_id: 1,
                host_id: 200001,
                size: 65535,
            },
        ];
        assert_eq!(format_map(&maps), "0 100000 1\n1 200001 65535\n");
        assert_eq!(format_map(&[]), "");
    }
}
