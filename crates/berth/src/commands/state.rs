//! `berth state ID`.

use berth_spec::state::{State, Status};

use crate::state::store::fifo_in;
use crate::state::{Record, Store};

/// The OCI state of a record whose exec fifo is at `fifo` (shared with `list`).
pub fn oci_state(record: &Record, fifo: &std::path::Path) -> State {
    let status = crate::container::derive(record, fifo);
    let pid = if status == Status::Stopped {
        0
    } else {
        record.pid
    };
    hook_state(record, status, pid)
}

/// The state a hook gets: `status` and `pid` as the lifecycle step says.
pub fn hook_state(record: &Record, status: Status, pid: i32) -> State {
    State {
        oci_version: record.oci_version.clone(),
        id: record.id.clone(),
        status,
        pid,
        bundle: record.bundle.clone(),
        rootfs: record.rootfs.clone(),
        created: record.created.clone(),
        annotations: record.annotations.clone(),
        owner: record.owner.clone(),
    }
}

/// Prints the state as indented JSON, as runc does.
pub fn run(store: &Store, id: &str) -> anyhow::Result<()> {
    let (record, dir) = store.load(id)?;
    let state = oci_state(&record, &fifo_in(&dir));
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(())
}
