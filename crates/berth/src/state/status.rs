//! A container's status, derived from its live init rather than stored:
//! a crashed init or a reboot can never leave a stale "running" behind.

use std::path::Path;

use berth_spec::state::Status;
use nix::unistd::Pid;

use super::record::{Phase, Record};

/// The status of the container described by `record`, whose exec fifo is
/// at `fifo`.
///
/// - init gone (or its pid reused: the start time differs) → stopped;
/// - still in `create` → creating;
/// - exec fifo present (init waits on it) → created;
/// - otherwise → running.
pub fn derive(record: &Record, fifo: &Path) -> Status {
    let alive = record.pid > 0
        && berth_linux::proc::is_same_live_process(Pid::from_raw(record.pid), record.start_time)
            .unwrap_or(false);
    if !alive {
        return Status::Stopped;
    }
    match record.phase {
        Phase::Creating => Status::Creating,
        Phase::Created if fifo.exists() => Status::Created,
        Phase::Created => Status::Running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pid: i32, start_time: u64, phase: Phase) -> Record {
        Record {
            id: "t".into(),
            pid,
            start_time,
            phase,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: String::new(),
            owner: "root".into(),
            oci_version: "1.2.0".into(),
            annotations: Default::default(),
            host_mounts: false,
            version: super::super::record::VERSION,
            cgroups: None,
            device_rules: Vec::new(),
            no_process: false,
            hooks: Default::default(),
            exec: None,
        }
    }

    #[test]
    fn follows_the_live_process_and_the_fifo() {
        let me = berth_linux::proc::stat(Pid::this())
            .expect("stat")
            .expect("alive");
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("exec.fifo");
        let pid = Pid::this().as_raw();
        assert_eq!(
            derive(&record(pid, me.start_time, Phase::Creating), &fifo),
            Status::Creating
        );
        assert_eq!(
            derive(&record(pid, me.start_time, Phase::Created), &fifo),
            Status::Running
        );
        std::fs::write(&fifo, b"").expect("touch");
        assert_eq!(
            derive(&record(pid, me.start_time, Phase::Created), &fifo),
            Status::Created
        );
        // Same pid, other start time: a recycled pid is not our container.
        assert_eq!(
            derive(&record(pid, me.start_time + 1, Phase::Created), &fifo),
            Status::Stopped
        );
        assert_eq!(
            derive(&record(0, 0, Phase::Created), &fifo),
            Status::Stopped
        );
    }
}
